using System;
using System.Numerics;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// The generic Einsum loop: every output element is a sum of products over the summed indices. The compiler turns
/// the equation into one extent per distinct index (output indices first, then summed ones) and, per operand, one
/// element stride per index (0 when the operand lacks it; repeated indices add their strides, which reads diagonals).
/// </summary>
public static class Einsum
{
    /// <summary>One operand: y[o] = Σ a[…] over the summed indices.</summary>
    public static void Contract<T>(ReadOnlySpan<T> a, int[] aStrides, Span<T> y, int[] extents, int outputRank)
        where T : unmanaged, INumberBase<T> =>
        Run(a, aStrides, a, null, y, extents, outputRank);

    /// <summary>Two operands: y[o] = Σ a[…]·b[…] over the summed indices.</summary>
    public static void Contract<T>(ReadOnlySpan<T> a, int[] aStrides, ReadOnlySpan<T> b, int[] bStrides, Span<T> y, int[] extents, int outputRank)
        where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(bStrides);
        Run(a, aStrides, b, bStrides, y, extents, outputRank);
    }

    static void Run<T>(ReadOnlySpan<T> a, int[] aStrides, ReadOnlySpan<T> b, int[]? bStrides, Span<T> y, int[] extents, int outputRank)
        where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(aStrides);
        ArgumentNullException.ThrowIfNull(extents);
        int rank = extents.Length;
        if (aStrides.Length != rank || bStrides is not null && bStrides.Length != rank || outputRank > rank)
            throw new ArgumentException("one stride per index is needed for each operand");
        long outputCount = 1, sumCount = 1;
        for (int d = 0; d < outputRank; d++) outputCount *= extents[d];
        for (int d = outputRank; d < rank; d++) sumCount *= extents[d];
        if (y.Length != outputCount) throw new ArgumentException($"y has {y.Length} elements, expected {outputCount}", nameof(y));
        if (outputCount == 0) return;

        Span<int> index = stackalloc int[rank];
        index.Clear();
        int aOut = 0, bOut = 0;
        for (int o = 0; o < outputCount; o++)
        {
            T sum = T.Zero;
            if (sumCount > 0)
            {
                int aSum = 0, bSum = 0;
                do
                {
                    sum += bStrides is null ? a[aOut + aSum] : a[aOut + aSum] * b[bOut + bSum];
                }
                while (Advance(index, extents, aStrides, bStrides, outputRank, rank, ref aSum, ref bSum));
            }
            y[o] = sum;
            Advance(index, extents, aStrides, bStrides, 0, outputRank, ref aOut, ref bOut);
        }
    }

    /// <summary>Steps the odometer over dimensions [from, to) (last fastest), keeping the operand offsets in step; false after wrapping to zero.</summary>
    static bool Advance(Span<int> index, int[] extents, int[] aStrides, int[]? bStrides, int from, int to, ref int aOffset, ref int bOffset)
    {
        for (int d = to - 1; d >= from; d--)
        {
            index[d]++;
            aOffset += aStrides[d];
            if (bStrides is not null) bOffset += bStrides[d];
            if (index[d] < extents[d]) return true;
            aOffset -= aStrides[d] * extents[d];
            if (bStrides is not null) bOffset -= bStrides[d] * extents[d];
            index[d] = 0;
        }
        return false;
    }
}
