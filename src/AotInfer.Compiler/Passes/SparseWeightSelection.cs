using System;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops.Sparse;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Measures the constant float weights of every Gemm and MatMul (sparsity, block pattern) and records, per node, the
/// layout the cost model (or <see cref="CompileOptions.Sparse"/>) picks, as a <see cref="SparseDecision"/> annotation
/// that the lowerings read. Runs after fusion, so that the fused epilogue still follows the sparse product.
/// </summary>
public static class SparseWeightSelection
{
    /// <summary>Annotates every eligible node; with <see cref="SparseMode.Dense"/> records the measurements but keeps dense.</summary>
    public static void Run(Graph graph, SparseMode mode)
    {
        foreach (var node in graph.Nodes)
        {
            if (IsSparseConvolutionCandidate(node, out var filter, out int pixels, out int rowLength, out long gathered))
            {
                var choice = SparseCostModel.DecideConvolution(filter, pixels, rowLength, gathered, mode);
                node.Annotations[SparseDecision.Key] = choice;
                if (choice.Format != SparseFormat.Dense)
                    node.Annotations["kernel"] = $"sparse convolution (SparseConvolution: compressed filter rows × {(gathered == 0 ? "the image in place" : rowLength == pixels ? "im2col columns" : "shifted rows of the bordered image")}), " +
                                                 $"M={choice.N} depth={choice.K} pixels={choice.M}";
                continue;
            }
            if (IsSparseInt8Candidate(node, out var centred, out int rows, out string? inexact))
            {
                var choice = inexact is null ? SparseCostModel.DecideInt8(centred, rows, mode)
                    : SparseCostModel.DecideInt8(centred, rows, SparseMode.Dense) with { Format = SparseFormat.Dense, Reason = inexact };
                node.Annotations[SparseDecision.Key] = choice;
                if (choice.Format != SparseFormat.Dense)
                    node.Annotations["kernel"] = $"sparse int8 Bands product (BandSparseMultiply on the centred integers, exact in float), M={choice.M} N={choice.N} K={choice.K}";
                continue;
            }
            if (!IsEligible(node, out var b, out int m)) continue;
            bool reorderable = BandOutputReordering.CanReorder(node, b.N);
            var decision = SparseCostModel.Decide(b, m, mode, reorderable);
            if (mode == SparseMode.Dense) decision = decision with { Format = SparseFormat.Dense, Reason = "dense forced by the options" };
            // Before the reader is measured: its weight rows follow this node's lane order.
            if (decision.Format == SparseFormat.Bands && decision.BandOutputOfSlot.Length != 0 && reorderable)
            {
                BandOutputReordering.Reorder(graph, node, decision.BandOutputOfSlot);
                decision = decision with { BandOutputOfSlot = Array.Empty<int>(), Reason = decision.Reason + "; outputs computed in lane order, the next layer's weights reordered to match" };
            }
            node.Annotations[SparseDecision.Key] = decision;
            if (decision.Format != SparseFormat.Dense)
                node.Annotations["kernel"] = decision.Format == SparseFormat.Bands
                    ? $"sparse Bands product (BandSparseMultiply, bias and activation in the same call), M={decision.M} N={decision.N} K={decision.K}"
                    : $"sparse {decision.Format} product (SparseMatrixMultiply), M={decision.M} N={decision.N} K={decision.K}";
        }
    }

    /// <summary>
    /// An ungrouped float Conv with constant weights [M, C, k...]: as a product, the filter is the n×k (M × C·taps)
    /// weight matrix. Also what the sparse kernel would compute per output channel (<paramref name="rowLength"/>:
    /// output rows at the bordered width for stride-1 2-D windows) and gather first (<paramref name="gathered"/>: the
    /// bordered image, the im2col columns, or nothing for 1×1 windows that read the image in place), per image.
    /// </summary>
    static bool IsSparseConvolutionCandidate(Node node, out ConstantWeightMatrix filter, out int pixels, out int rowLength, out long gathered)
    {
        filter = default;
        pixels = rowLength = 0;
        gathered = 0;
        if (node.Domain.Length != 0 || node.OpType != "Conv" || node.Attributes.Int("group", 1) != 1) return false;
        var x = node.Input(0);
        if (x?.Shape is not { Length: >= 3 } xs || x.Type != Onnx.DataType.Float || node.Input(1)?.Constant is not { Type: Onnx.DataType.Float } w
            || w.Shape.Length != xs.Length || node.Outputs[0].Shape is not { } ys || ys.Length != xs.Length) return false;
        int depth = w.Length / w.Shape[0], rank = xs.Length - 2;
        if (depth == 0 || depth > ushort.MaxValue + 1) return false;
        filter = new ConstantWeightMatrix(w.As<float>(), depth, w.Shape[0], depth, transposed: true);
        pixels = rowLength = ys.Skip(2).Aggregate(1, (a, b) => a * b);
        bool stride1 = node.Attributes.Ints("strides")?.All(s => s == 1) ?? true;
        bool pointwise = stride1 && w.Shape.Skip(2).All(k => k == 1) && xs.Skip(2).SequenceEqual(ys.Skip(2));
        if (pointwise) gathered = 0;
        else if (stride1 && rank == 2)
        {
            // Stride 1: the bordered width is the output width plus the kernel's dilated extent.
            long[] dilations = node.Attributes.Ints("dilations") ?? new long[] { 1, 1 };
            int borderedWidth = ys[3] + (w.Shape[3] - 1) * (int)dilations[1], borderedHeight = ys[2] + (w.Shape[2] - 1) * (int)dilations[0];
            rowLength = (ys[2] - 1) * borderedWidth + ys[3];
            gathered = (long)xs[1] * borderedHeight * borderedWidth;
        }
        else gathered = (long)depth * pixels;
        pixels *= xs[0];
        return pixels > 0;
    }

    /// <summary>
    /// A quantised product (QGemm, QLinearMatMul, MatMulInteger, MatMulIntegerToFloat, DynamicQuantizeMatMul) with a
    /// 2-D A and a constant 2-D int8/uint8 B whose zero point is constant (per tensor or per column):
    /// <paramref name="centred"/> is B − zb as floats, the weights the sparse kernel multiplies (a pruned weight is one
    /// equal to its zero point). Float sums of integer products are exact while every partial sum stays below 2²⁴;
    /// <paramref name="inexact"/> says why that bound does not hold (then the layer stays dense), else null.
    /// </summary>
    static bool IsSparseInt8Candidate(Node node, out ConstantWeightMatrix centred, out int m, out string? inexact)
    {
        centred = default;
        m = 0;
        inexact = null;
        if (Ops.Quantization.QuantizedMatMulLowering.WeightInputs(node) is not { } roles) return false;
        var a = node.Input(0);
        var weights = node.Input(roles.B)?.Constant;
        if (a?.Shape is not { Length: 2 } || weights is null || weights.Shape.Length != 2 || !(weights.Type is Onnx.DataType.Int8 or Onnx.DataType.UInt8)) return false;
        if (node.OpType == "QGemm" && node.Attributes.Int("transA", 0) != 0) return false;
        bool transB = node.OpType == "QGemm" && node.Attributes.Int("transB", 0) != 0;
        int k = transB ? weights.Shape[1] : weights.Shape[0], n = transB ? weights.Shape[0] : weights.Shape[1];
        if (k == 0 || n == 0 || a.Shape[1] != k) return false;
        long[]? zeros = roles.BZero >= 0 && node.Input(roles.BZero) is { } zeroValue ? zeroValue.Constant?.ToInt64() : new long[] { 0 };
        if (zeros is null || (zeros.Length != 1 && zeros.Length != n)) return false;
        // A's zero point must be one value (read at run time): the kernel centres A once per row.
        if (roles.AZero >= 0 && node.Input(roles.AZero) is { Shape: { } aZeroShape } && ShapeMathCount(aZeroShape) != 1) return false;
        var stored = weights.ToInt64();
        var values = new float[k * n];
        double worst = 0;
        long[]? bias = node.OpType == "QGemm" && roles.Bias >= 0 && node.Input(roles.Bias) is { } biasValue ? biasValue.Constant?.ToInt64() : null;
        if (node.OpType == "QGemm" && roles.Bias >= 0 && node.Input(roles.Bias) is not null && bias is null) return false;
        for (int j = 0; j < n; j++)
        {
            double column = 0;
            for (int p = 0; p < k; p++)
            {
                long w = stored[transB ? j * k + p : p * n + j] - zeros[zeros.Length == 1 ? 0 : j];
                values[p * n + j] = w;
                column += Math.Abs(w);
            }
            worst = Math.Max(worst, 255 * column + (bias is null ? 0 : Math.Abs(bias[bias.Length == 1 ? 0 : j])));
        }
        centred = new ConstantWeightMatrix(values, k, n, n, transposed: false);
        m = a.Shape[0];
        if (worst >= 1 << 24)
            inexact = FormattableString.Invariant($"dense: sums up to {worst:F0} would not be exact in float (2^24)");
        return m > 0;
    }

    static int ShapeMathCount(int[] shape) => shape.Aggregate(1, (x, y) => x * y);

    /// <summary>
    /// A Gemm (transA = 0) or MatMul whose B is a constant 2-D float matrix, so that A's rows form one contiguous
    /// m×k matrix (MatMul folds A's batch dimensions into m).
    /// </summary>
    static bool IsEligible(Node node, out ConstantWeightMatrix b, out int m)
    {
        b = default;
        m = 0;
        if (node.Domain.Length != 0 || node.OpType is not ("Gemm" or "MatMul")) return false;
        var a = node.Input(0);
        var weights = node.Input(1);
        var output = node.Outputs[0];
        if (a?.Shape is null || weights?.Constant is not { } constant || constant.Type != Onnx.DataType.Float || constant.Shape.Length != 2 || output.Shape is null)
            return false;
        if (a.Type != Onnx.DataType.Float) return false;
        bool transB = false;
        if (node.OpType == "Gemm")
        {
            if (node.Attributes.Int("transA", 0) != 0 || a.Shape.Length != 2) return false;
            transB = node.Attributes.Int("transB", 0) != 0;
        }
        int[] shape = constant.Shape;
        int k = transB ? shape[1] : shape[0], n = transB ? shape[0] : shape[1];
        if (k == 0 || n == 0 || a.Shape[a.Shape.Length - 1] != k) return false;
        m = output.ElementCount / n;
        if (m == 0) return false;
        b = new ConstantWeightMatrix(constant.As<float>(), k, n, shape[1], transB);
        return true;
    }
}
