using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Fuses a residual Add into the Conv that produces one of its operands: Conv(x) + r becomes one Conv whose kernel
/// adds r to each output row in its epilogue, together with the bias and before the activation (so a following Relu,
/// fused next by <see cref="ActivationFusion"/>, applies to the sum as ONNX says). The Add node and its pass over two
/// whole tensors disappear; ResNet shortcuts and MobileNetV2's inverted residuals are this pattern.
/// Run after <see cref="BiasFusion"/> (a constant per-channel Add is a bias, not a residual) and before
/// <see cref="ActivationFusion"/>. The residual becomes the Conv's fourth input (index <see cref="InputIndex"/>),
/// which the arena planner then keeps alive through the Conv, so it never shares bytes with the Conv's output.
/// </summary>
public static class ResidualFusion
{
    /// <summary>The Conv input slot that holds a fused residual (after ONNX's X, W and B).</summary>
    public const int InputIndex = 3;

    /// <summary>The Conv kernels whose epilogue takes a residual (ConvLowering's <c>kernel</c> annotation).</summary>
    static readonly string[] KernelsWithResidual = { "packed-gemm", "channel-blocked", "winograd-f4x3", "winograd-f4x5", "winograd-f2x3", "pointwise-gemm", "im2col+gemm" };

    /// <summary>Fuses every eligible Conv → Add pair; returns how many were fused.</summary>
    public static int Run(Graph graph)
    {
        int fused = 0;
        foreach (var conv in graph.Nodes.ToArray())
        {
            if (conv.Domain.Length != 0 || conv.OpType != "Conv" || conv.Inputs.Count > InputIndex || FusedEpilogue.Of(conv) is not null) continue;
            if (!conv.Annotations.TryGetValue("kernel", out var kernel) || !KernelsWithResidual.Contains(kernel as string)) continue;
            var output = conv.Outputs[0];
            if (output.Type != DataType.Float || output.Shape is null) continue;
            if (FusionGraph.SoleReader(conv) is not { OpType: "Add", Domain: "" } add || add.Opset < 7 || add.Inputs.Count != 2) continue;
            var residual = add.Inputs[0] == output ? add.Inputs[1] : add.Inputs[0];
            // Same shape on both sides and on the sum: the kernel adds element by element, it does not broadcast.
            if (residual is not { Type: DataType.Float, Shape: { } residualShape } || !residualShape.SequenceEqual(output.Shape)) continue;
            if (add.Outputs[0].Shape is not { } sumShape || !sumShape.SequenceEqual(output.Shape)) continue;

            RunAfter(graph, conv, residual, add);
            while (conv.Inputs.Count < InputIndex) conv.Inputs.Add(null);
            conv.Inputs.Add(residual);
            residual.Consumers.Add(conv);
            FusionGraph.Absorb(graph, conv, add);
            conv.Annotations[FusedEpilogue.ResidualKey] = $"{add} (adds {residual.Name})";
            fused++;
        }
        return fused;
    }

    /// <summary>
    /// The Conv now reads the residual, so it must run after the residual's producer. When that producer comes later
    /// (e.g. a shortcut convolution scheduled after the main branch), the Conv moves down to just before the Add: its
    /// own inputs are ready there too, and only the Add read its output.
    /// </summary>
    static void RunAfter(Graph graph, Node conv, Value residual, Node add)
    {
        if (residual.Producer is not { } producer || graph.Nodes.IndexOf(producer) < graph.Nodes.IndexOf(conv)) return;
        graph.Nodes.Remove(conv);
        graph.Nodes.Insert(graph.Nodes.IndexOf(add), conv);
    }
}
