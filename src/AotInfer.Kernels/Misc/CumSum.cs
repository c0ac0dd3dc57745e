using System;
using System.Numerics;
using AotInfer.Kernels.Elementwise;
using AotInfer.Kernels.Indexing;

namespace AotInfer.Kernels.Misc;

/// <summary>ONNX CumSum: running sums along one axis, optionally exclusive (shifted by one) and/or reversed.</summary>
public static class CumSum
{
    /// <summary>
    /// Sums along the axis given by the one-element <paramref name="axis"/> input (read at run time, so it may be a
    /// model input; negative counts from the end).
    /// </summary>
    public static void Run<T, TAxis>(ReadOnlySpan<T> x, int[] shape, ReadOnlySpan<TAxis> axis, Span<T> y, bool exclusive, bool reverse)
        where T : INumberBase<T> where TAxis : IBinaryInteger<TAxis> =>
        CumulativeScan.Run<T, TAxis, AddOperator<T>>(x, shape, axis, y, T.Zero, exclusive, reverse);
}

/// <summary>ONNX CumProd: running products along one axis, optionally exclusive (starting from 1) and/or reversed.</summary>
public static class CumProd
{
    /// <summary>Multiplies along the axis given by the one-element <paramref name="axis"/> input (see <see cref="CumSum"/>).</summary>
    public static void Run<T, TAxis>(ReadOnlySpan<T> x, int[] shape, ReadOnlySpan<TAxis> axis, Span<T> y, bool exclusive, bool reverse)
        where T : INumberBase<T> where TAxis : IBinaryInteger<TAxis> =>
        CumulativeScan.Run<T, TAxis, MultiplyOperator<T>>(x, shape, axis, y, T.One, exclusive, reverse);
}

/// <summary>The running-total loop shared by CumSum and CumProd.</summary>
public static class CumulativeScan
{
    /// <summary>
    /// Combines along one axis with <typeparamref name="TOp"/>, starting from <paramref name="identity"/>; exclusive
    /// writes the total before each element, reverse runs from the end of the axis.
    /// </summary>
    public static void Run<T, TAxis, TOp>(ReadOnlySpan<T> x, int[] shape, ReadOnlySpan<TAxis> axis, Span<T> y, T identity, bool exclusive, bool reverse, TOp op = default)
        where TAxis : IBinaryInteger<TAxis> where TOp : struct, IBinaryOperator<T, T>
    {
        int a = IndexMath.Normalize(long.CreateTruncating(axis[0]), shape.Length);
        int outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= shape[d];
        for (int d = a + 1; d < shape.Length; d++) inner *= shape[d];
        int size = shape[a];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int start = o * size * inner + i;
                T total = identity;
                for (int k = 0; k < size; k++)
                {
                    int index = start + (reverse ? size - 1 - k : k) * inner;
                    if (exclusive) { y[index] = total; total = op.Invoke(total, x[index]); }
                    else { total = op.Invoke(total, x[index]); y[index] = total; }
                }
            }
        }
    }
}
