using System;
using System.Numerics;
using AotInfer.Kernels.Reduction;

namespace AotInfer.Kernels.Normalization;

/// <summary>
/// Softmax, LogSoftmax and Hardmax along one axis of a tensor viewed as [outer, count, inner]. Softmax subtracts
/// the maximum before exponentiating so large inputs do not overflow. With inner = 1 each row is contiguous and
/// vectorised directly; otherwise whole rows of <c>inner</c> elements are combined, using scratch for the running
/// maxima and sums.
/// </summary>
public static class Softmax
{
    /// <summary>y = softmax(x) (or log-softmax when <paramref name="logarithm"/>); scratch holds 2·inner elements when inner &gt; 1.</summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int count, int inner, bool logarithm, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (count == 0) return;
        int block = count * inner;
        for (int o = 0; o < outer; o++)
        {
            var xs = x.Slice(o * block, block);
            var ys = y.Slice(o * block, block);
            if (inner == 1) Row(xs, ys, logarithm);
            else Columns(xs, ys, count, inner, logarithm, scratch.Slice(0, inner), scratch.Slice(inner, inner));
        }
    }

    static void Row<T>(ReadOnlySpan<T> x, Span<T> y, bool logarithm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = Reduce.Fold<T, ReduceMaxOperator<T>>(x);
        T sum = RowMath.ExpShifted(x, y, max);
        if (logarithm) RowMath.ShiftScale(x, y, max + T.Log(sum), T.One);
        else RowMath.MultiplyAdd<T>(y, y, T.One / sum, T.Zero);
    }

    static void Columns<T>(ReadOnlySpan<T> x, Span<T> y, int count, int inner, bool logarithm, Span<T> max, Span<T> sum)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        x.Slice(0, inner).CopyTo(max);
        for (int k = 1; k < count; k++) Reduce.CombineRow<T, ReduceMaxOperator<T>>(max, x.Slice(k * inner, inner));
        sum.Clear();
        for (int k = 0; k < count; k++)
        {
            var xr = x.Slice(k * inner, inner);
            var yr = y.Slice(k * inner, inner);
            for (int i = 0; i < inner; i++) yr[i] = T.Exp(xr[i] - max[i]);
            Reduce.CombineRow<T, ReduceSumOperator<T>>(sum, yr);
        }
        if (logarithm)
        {
            for (int i = 0; i < inner; i++) max[i] += T.Log(sum[i]);
            for (int k = 0; k < count; k++)
            {
                var xr = x.Slice(k * inner, inner);
                var yr = y.Slice(k * inner, inner);
                for (int i = 0; i < inner; i++) yr[i] = xr[i] - max[i];
            }
        }
        else
        {
            for (int i = 0; i < inner; i++) sum[i] = T.One / sum[i];
            for (int k = 0; k < count; k++) RowMath.MultiplyAddRows<T>(y.Slice(k * inner, inner), sum, default);
        }
    }

    /// <summary>y = 1 at the first maximum along the axis, 0 elsewhere.</summary>
    public static void Hardmax<T>(ReadOnlySpan<T> x, Span<T> y, int outer, int count, int inner) where T : INumber<T>
    {
        y.Clear();
        if (count == 0) return;
        for (int o = 0; o < outer; o++)
        {
            int block = o * count * inner;
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                for (int k = 1; k < count; k++)
                    if (x[block + k * inner + i] > x[block + best * inner + i]) best = k;
                y[block + best * inner + i] = T.One;
            }
        }
    }
}
