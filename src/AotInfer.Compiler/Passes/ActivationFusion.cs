using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Fuses Relu, Clip, LeakyRelu, Sigmoid and HardSwish into the Conv, Gemm or MatMul (or com.microsoft
/// DynamicQuantizeMatMul / MatMulIntegerToFloat) whose output they alone read:
/// the producing kernel applies the activation to its output rows together with the bias, while they are in cache,
/// instead of a separate node passing over the whole tensor again. Run after <see cref="BatchNormFolding"/> and
/// <see cref="BiasFusion"/> so that Conv+BN+Relu and MatMul+Add+Relu become one kernel call.
/// </summary>
public static class ActivationFusion
{
    /// <summary>Fuses every eligible pair; returns how many were fused.</summary>
    public static int Run(Graph graph)
    {
        int fused = 0;
        foreach (var producer in graph.Nodes.ToArray())
        {
            if (!Fusable(producer)) continue;
            if (producer.Outputs[0].Type != DataType.Float || FusedEpilogue.Of(producer) is not null) continue;
            if (FusionGraph.SoleReader(producer) is not { Domain: "" } activation) continue;
            if (Describe(activation) is not { } epilogue) continue;
            FusionGraph.Absorb(graph, producer, activation);
            producer.Annotations[FusedEpilogue.Key] = epilogue;
            fused++;
        }
        return fused;
    }

    /// <summary>The products whose lowering applies a fused activation: float Conv, Gemm, MatMul and the float-output quantised products.</summary>
    static bool Fusable(Node node) => node.Domain.Length == 0
        ? node.OpType is "Conv" or "Gemm" or "MatMul"
        : node.Domain == "com.microsoft" && node.OpType is "DynamicQuantizeMatMul" or "MatMulIntegerToFloat";

    /// <summary>The epilogue equivalent to <paramref name="node"/>, or null when it is not a fusable activation.</summary>
    static FusedEpilogue? Describe(Node node)
    {
        if (node.Outputs[0].Type != DataType.Float) return null;
        string source = node.ToString();
        switch (node.OpType)
        {
            case "Relu":
                return new FusedEpilogue("Relu", 0, 0, source);
            case "Sigmoid":
                return new FusedEpilogue("Sigmoid", 0, 0, source);
            case "HardSwish":
                return new FusedEpilogue("HardSwish", 0, 0, source);
            case "LeakyRelu":
                return new FusedEpilogue("LeakyRelu", node.Attributes.Float("alpha", 0.01f), 0, source);
            case "Clip":
                float min, max;
                if (node.Opset < 11)
                {
                    min = node.Attributes.Float("min", float.NegativeInfinity);
                    max = node.Attributes.Float("max", float.PositiveInfinity);
                }
                else
                {
                    // From opset 11 the bounds are optional inputs; only constant bounds can be baked in.
                    if (!Bound(node.Input(1), float.NegativeInfinity, out min) || !Bound(node.Input(2), float.PositiveInfinity, out max)) return null;
                }
                // min > max makes Clip return max everywhere; leave that corner to the Clip kernel.
                return min <= max ? new FusedEpilogue("Clip", min, max, source) : null;
            default:
                return null;
        }
    }

    static bool Bound(Value? input, float fallback, out float bound)
    {
        bound = fallback;
        if (input is null) return true;
        if (FusionGraph.FloatConstant(input) is not { Length: 1 } data) return false;
        bound = data[0];
        return !float.IsNaN(bound);
    }
}
