using System;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Folds an inference-mode BatchNormalization that is the only reader of a Conv or Gemm output into that node's
/// constant weights and bias: with s = scale / √(var + ε), W′[o] = W[o]·s[o] and b′ = (b − mean)·s + B. The
/// normalisation then costs nothing at run time.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>Folds every eligible pair; returns how many were folded.</summary>
    public static int Run(Graph graph)
    {
        int folded = 0;
        foreach (var producer in graph.Nodes.ToArray())
        {
            if (producer.Domain.Length != 0 || producer.OpType is not ("Conv" or "Gemm")) continue;
            if (FusionGraph.SoleReader(producer) is not { OpType: "BatchNormalization", Domain: "" } norm) continue;
            if (!Statistics(norm, out var scale, out var shift)) continue;
            bool done = producer.OpType == "Conv" ? FoldIntoConv(graph, producer, scale, shift) : FoldIntoGemm(graph, producer, scale, shift);
            if (!done) continue;
            FusionGraph.Absorb(graph, producer, norm);
            producer.Annotations[FusedEpilogue.BatchNormKey] = $"{norm} into the weights and bias";
            folded++;
        }
        return folded;
    }

    /// <summary>Per channel, y = x·scale + shift, when the node is a foldable inference-mode BatchNormalization.</summary>
    internal static bool Statistics(Node norm, out double[] scale, out double[] shift)
    {
        scale = shift = Array.Empty<double>();
        if (norm.Attributes.Int("training_mode", 0) != 0 || norm.Attributes.Int("spatial", 1) != 1) return false;
        if (norm.Outputs[0].Type != DataType.Float) return false;
        float[]? gamma = FusionGraph.FloatConstant(norm.Input(1)), beta = FusionGraph.FloatConstant(norm.Input(2));
        float[]? mean = FusionGraph.FloatConstant(norm.Input(3)), variance = FusionGraph.FloatConstant(norm.Input(4));
        if (gamma is null || beta is null || mean is null || variance is null) return false;
        int channels = gamma.Length;
        if (beta.Length != channels || mean.Length != channels || variance.Length != channels) return false;
        double epsilon = norm.Attributes.Float("epsilon", 1e-5f);
        scale = new double[channels];
        shift = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = gamma[c] / Math.Sqrt(variance[c] + epsilon);
            shift[c] = beta[c] - mean[c] * scale[c];
        }
        return true;
    }

    static bool FoldIntoConv(Graph graph, Node conv, double[] scale, double[] shift)
    {
        float[]? weights = FusionGraph.FloatConstant(conv.Input(1));
        var shape = conv.Input(1)?.Shape;
        if (weights is null || shape is null || shape.Length < 3 || shape[0] != scale.Length) return false;
        float[]? bias = conv.Input(2) is null ? null : FusionGraph.FloatConstant(conv.Input(2));
        if (conv.Input(2) is not null && (bias is null || bias.Length != scale.Length)) return false;

        int perChannel = weights.Length / shape[0];
        var newWeights = new float[weights.Length];
        var newBias = new float[scale.Length];
        for (int o = 0; o < scale.Length; o++)
        {
            for (int i = 0; i < perChannel; i++) newWeights[o * perChannel + i] = (float)(weights[o * perChannel + i] * scale[o]);
            newBias[o] = (float)((bias?[o] ?? 0) * scale[o] + shift[o]);
        }
        FusionGraph.SetConstantInput(graph, conv, 1, conv.Name + ":bn_weights", new Tensor(DataType.Float, shape, newWeights));
        FusionGraph.SetConstantInput(graph, conv, 2, conv.Name + ":bn_bias", new Tensor(DataType.Float, new[] { scale.Length }, newBias));
        return true;
    }

    static bool FoldIntoGemm(Graph graph, Node gemm, double[] scale, double[] shift)
    {
        // Y = alpha·op(A)·op(B) + beta·C; the normalised axis is Y's second (N). C must be absent or a row vector
        // so that the folded bias stays one row, and beta must be usable as a divisor.
        if (gemm.Opset < 7 || gemm.Outputs[0].Type != DataType.Float) return false;
        float[]? b = FusionGraph.FloatConstant(gemm.Input(1));
        var bShape = gemm.Input(1)?.Shape;
        if (b is null || bShape is null || bShape.Length != 2) return false;
        bool transB = gemm.Attributes.Int("transB", 0) == 1;
        int n = transB ? bShape[0] : bShape[1], k = transB ? bShape[1] : bShape[0];
        if (n != scale.Length) return false;
        float beta = gemm.Attributes.Float("beta", 1f);
        if (beta == 0 || float.IsNaN(beta) || float.IsInfinity(beta)) return false;
        float[]? c = null;
        if (gemm.Input(2) is { } cValue)
        {
            c = FusionGraph.FloatConstant(cValue);
            if (c is null || FusionGraph.WithoutLeadingOnes(cValue.Shape!).Length > 1 || c.Length != n && c.Length != 1) return false;
        }

        var newB = new float[b.Length];
        for (int row = 0; row < k; row++)
            for (int j = 0; j < n; j++)
            {
                int at = transB ? j * k + row : row * n + j;
                newB[at] = (float)(b[at] * scale[j]);
            }
        var newC = new float[n];
        for (int j = 0; j < n; j++)
        {
            double cj = c is null ? 0 : beta * (double)c[c.Length == 1 ? 0 : j];
            newC[j] = (float)((cj * scale[j] + shift[j]) / beta);
        }
        FusionGraph.SetConstantInput(graph, gemm, 1, gemm.Name + ":bn_weights", new Tensor(DataType.Float, bShape, newB));
        FusionGraph.SetConstantInput(graph, gemm, 2, gemm.Name + ":bn_bias", new Tensor(DataType.Float, new[] { n }, newC));
        return true;
    }
}
