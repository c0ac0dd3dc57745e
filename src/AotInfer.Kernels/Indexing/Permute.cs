using System;

namespace AotInfer.Kernels.Indexing;

/// <summary>Copies a tensor with its dimensions permuted (DepthToSpace and SpaceToDepth are a reshape and such a permutation).</summary>
public static class Permute
{
    /// <summary>y = x transposed so that output dimension i is input dimension <paramref name="permutation"/>[i].</summary>
    public static void Run<T>(ReadOnlySpan<T> x, int[] xShape, int[] permutation, Span<T> y)
    {
        int rank = xShape.Length;
        if (y.Length == 0) return;
        Span<int> xStrides = stackalloc int[rank];
        IndexMath.Strides(xShape, xStrides);
        Span<int> strides = stackalloc int[rank];
        Span<int> dims = stackalloc int[rank];
        for (int i = 0; i < rank; i++) { strides[i] = xStrides[permutation[i]]; dims[i] = xShape[permutation[i]]; }
        Span<int> coordinate = stackalloc int[rank];
        int inner = rank == 0 ? 1 : dims[rank - 1], innerStride = rank == 0 ? 0 : strides[rank - 1];
        int outer = y.Length / inner, source = 0, yi = 0;
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0, s = source; i < inner; i++, s += innerStride) y[yi++] = x[s];
            for (int d = rank - 2; d >= 0; d--)
            {
                source += strides[d];
                if (++coordinate[d] < dims[d]) break;
                source -= strides[d] * dims[d];
                coordinate[d] = 0;
            }
        }
    }
}
