using System;
using System.Numerics;
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
        where T : INumberBase<T> where TAxis : IBinaryInteger<TAxis>
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
                T sum = T.Zero;
                for (int k = 0; k < size; k++)
                {
                    int index = start + (reverse ? size - 1 - k : k) * inner;
                    if (exclusive) { y[index] = sum; sum += x[index]; }
                    else { sum += x[index]; y[index] = sum; }
                }
            }
        }
    }
}
