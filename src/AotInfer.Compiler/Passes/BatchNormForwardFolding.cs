using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Folds an inference-mode BatchNormalization into the constant-weight Gemm that reads it, directly or through a
/// Flatten at axis 1 (burn-mnist's Conv → Relu → BatchNormalization → Flatten → Gemm, where the normalisation follows
/// the Relu and <see cref="BatchNormFolding"/> cannot fold it backwards). With the normalisation x·s + t per channel
/// and feature k of the flattened row in channel c(k): Y = α·(x·s + t)·B + β·C = α·x·B′ + β·C′, with
/// B′[k, j] = s[c(k)]·B[k, j] and C′[j] = C[j] + α·Σₖ t[c(k)]·B[k, j] / β (in double). The BatchNormalization's pass
/// over its tensor then disappears. Not into a Conv: its zero padding would not be normalised.
/// </summary>
public static class BatchNormForwardFolding
{
    /// <summary>Folds every eligible BatchNormalization; returns how many were folded.</summary>
    public static int Run(Graph graph)
    {
        int folded = 0;
        foreach (var norm in graph.Nodes.ToArray())
        {
            if (norm.Domain.Length != 0 || norm.OpType != "BatchNormalization" || norm.Input(0) is not { Shape: { Length: >= 2 } shape } x) continue;
            if (!BatchNormFolding.Statistics(norm, out var scale, out var shift) || shape[1] != scale.Length) continue;
            // The Gemm reads the normalised tensor as [N, C·S]: straight from a [N, C] one, or through Flatten(axis 1).
            var reader = FusionGraph.SoleReader(norm);
            var flatten = reader is { OpType: "Flatten", Domain: "" } && reader.Attributes.Int("axis", 1) == 1 ? reader : null;
            if (shape.Length > 2 && flatten is null) continue;
            var gemm = flatten is null ? reader : FusionGraph.SoleReader(flatten);
            if (gemm is not { OpType: "Gemm", Domain: "" } || gemm.Input(0) != (flatten ?? norm).Outputs[0]) continue;
            int spatial = shape.Skip(2).Aggregate(1, (a, b) => a * b);
            if (!FoldIntoGemm(graph, gemm, scale, shift, spatial)) continue;
            graph.ReplaceUses(norm.Outputs[0], x);
            graph.Remove(norm);
            graph.Values.Remove(norm.Outputs[0].Name);
            // A Gemm may also have had the BatchNormalization after it folded in: both are named.
            string text = $"{norm} (before it) into the weights and bias";
            gemm.Annotations[FusedEpilogue.BatchNormKey] = gemm.Annotations.TryGetValue(FusedEpilogue.BatchNormKey, out var after) ? $"{after}; {text}" : text;
            folded++;
        }
        return folded;
    }

    /// <summary>B′ and C′ of the class remarks, when the Gemm has constant weights, no transposed A and a usable β.</summary>
    static bool FoldIntoGemm(Graph graph, Node gemm, double[] scale, double[] shift, int spatial)
    {
        if (gemm.Opset < 7 || gemm.Outputs[0].Type != DataType.Float || gemm.Attributes.Int("transA", 0) != 0) return false;
        float[]? b = FusionGraph.FloatConstant(gemm.Input(1));
        var bShape = gemm.Input(1)?.Shape;
        if (b is null || bShape is null || bShape.Length != 2) return false;
        bool transB = gemm.Attributes.Int("transB", 0) == 1;
        int n = transB ? bShape[0] : bShape[1], k = transB ? bShape[1] : bShape[0];
        if (k != scale.Length * spatial) return false;
        float alpha = gemm.Attributes.Float("alpha", 1f), beta = gemm.Attributes.Float("beta", 1f);
        if (beta == 0 || float.IsNaN(beta) || float.IsInfinity(beta) || float.IsNaN(alpha) || float.IsInfinity(alpha)) return false;
        float[]? c = null;
        if (gemm.Input(2) is { } cValue)
        {
            c = FusionGraph.FloatConstant(cValue);
            if (c is null || FusionGraph.WithoutLeadingOnes(cValue.Shape!).Length > 1 || c.Length != n && c.Length != 1) return false;
        }

        var newB = new float[b.Length];
        var shifted = new double[n];
        for (int row = 0; row < k; row++)
        {
            int channel = row / spatial;
            for (int j = 0; j < n; j++)
            {
                int at = transB ? j * k + row : row * n + j;
                newB[at] = (float)(b[at] * scale[channel]);
                shifted[j] += shift[channel] * b[at];
            }
        }
        var newC = new float[n];
        for (int j = 0; j < n; j++) newC[j] = (float)((c is null ? 0 : c[c.Length == 1 ? 0 : j]) + alpha * shifted[j] / beta);
        FusionGraph.SetConstantInput(graph, gemm, 1, gemm.Name + ":bn_weights", new Tensor(DataType.Float, bShape, newB));
        FusionGraph.SetConstantInput(graph, gemm, 2, gemm.Name + ":bn_bias", new Tensor(DataType.Float, new[] { n }, newC));
        return true;
    }
}
