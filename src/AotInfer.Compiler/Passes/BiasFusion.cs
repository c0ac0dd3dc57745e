using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Folds an Add of a constant bias into the product that feeds it: MatMul + Add(vector over the last axis) becomes a
/// MatMul with a Gemm-style bias epilogue (its third input), and Conv + Add(one value per output channel) adds to
/// the Conv's own bias at compile time. Either way the separate Add node and its pass over memory disappear.
/// </summary>
public static class BiasFusion
{
    /// <summary>Fuses every eligible pair; returns how many were fused.</summary>
    public static int Run(Graph graph)
    {
        int fused = 0;
        foreach (var producer in graph.Nodes.ToArray())
        {
            if (producer.Domain.Length != 0 || producer.OpType is not ("Conv" or "MatMul")) continue;
            var output = producer.Outputs[0];
            if (output.Type != DataType.Float || output.Shape is null || output.Shape.Length < 2) continue;
            if (FusionGraph.SoleReader(producer) is not { OpType: "Add", Domain: "" } add || add.Opset < 7) continue;
            if (add.Inputs.Count != 2 || add.Outputs[0].Shape is not { } addShape || !addShape.SequenceEqual(output.Shape)) continue;
            var other = add.Inputs[0] == output ? add.Inputs[1] : add.Inputs[0];
            if (FusionGraph.FloatConstant(other) is not { } bias || other!.Shape is null) continue;
            bool done = producer.OpType == "MatMul" ? FuseIntoMatMul(graph, producer, bias, other.Shape) : FuseIntoConv(graph, producer, bias, other.Shape);
            if (!done) continue;
            FusionGraph.Absorb(graph, producer, add);
            producer.Annotations[FusedEpilogue.BiasKey] = $"{add} (constant {other.Name})";
            fused++;
        }
        return fused;
    }

    static bool FuseIntoMatMul(Graph graph, Node matMul, float[] bias, int[] biasShape)
    {
        // Only a vector along the last axis (numpy broadcasting of [N], [1,N], [1,1,N]…); 1-D operands change the
        // output rank, so keep those out.
        if (matMul.Inputs.Count != 2 || matMul.Input(0)?.Shape?.Length < 2 || matMul.Input(1)?.Shape?.Length < 2) return false;
        int n = matMul.Outputs[0].Shape![matMul.Outputs[0].Shape!.Length - 1];
        if (biasShape.Length > matMul.Outputs[0].Shape!.Length) return false;
        var significant = FusionGraph.WithoutLeadingOnes(biasShape);
        if (!(significant.Length == 1 && significant[0] == n || significant.Length == 0 && n == 1)) return false;
        FusionGraph.SetConstantInput(graph, matMul, 2, matMul.Name + ":bias", new Tensor(DataType.Float, new[] { n }, (float[])bias.Clone()));
        return true;
    }

    static bool FuseIntoConv(Graph graph, Node conv, float[] bias, int[] biasShape)
    {
        // A bias of shape [C, 1, …, 1] or [1, C, 1, …, 1] (right-aligned against [N, C, spatial…]).
        var outShape = conv.Outputs[0].Shape!;
        int channels = outShape[1];
        if (biasShape.Length > outShape.Length) return false;
        int[] aligned = Enumerable.Repeat(1, outShape.Length - biasShape.Length).Concat(biasShape).ToArray();
        for (int d = 0; d < aligned.Length; d++)
            if (d != 1 && aligned[d] != 1 || d == 1 && aligned[d] != channels && aligned[d] != 1) return false;
        float[]? existing = null;
        if (conv.Input(2) is { } current)
        {
            existing = FusionGraph.FloatConstant(current);
            if (existing is null || existing.Length != channels) return false;
        }
        var combined = new float[channels];
        for (int c = 0; c < channels; c++) combined[c] = (existing?[c] ?? 0f) + bias[bias.Length == 1 ? 0 : c];
        FusionGraph.SetConstantInput(graph, conv, 2, conv.Name + ":bias", new Tensor(DataType.Float, new[] { channels }, combined));
        return true;
    }
}
