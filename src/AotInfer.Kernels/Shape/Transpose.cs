using System;

namespace AotInfer.Kernels.Shape;

/// <summary>
/// Transpose: output dimension d is input dimension <c>perm[d]</c>. The compiler merges dimensions first, so the
/// common cases arrive as a 2-D (or batched 2-D) transpose, done in cache-sized tiles, or as a permutation that keeps
/// the last dimension, done as contiguous row copies. Anything else walks the output with permuted input strides.
/// </summary>
public static class Transpose
{
    const int Tile = 16;

    /// <summary>Writes the transpose of <paramref name="x"/> (shape <paramref name="xShape"/>) into <paramref name="y"/>.</summary>
    public static void Run<T>(ReadOnlySpan<T> x, int[] xShape, int[] perm, Span<T> y)
    {
        int rank = xShape.Length;
        if (x.Length != y.Length) throw new ArgumentException("input and output lengths differ");
        if (x.Length == 0) return;
        if (rank == 2 && perm[0] == 1)
        {
            Transpose2D(x, xShape[0], xShape[1], y);
            return;
        }
        if (rank == 3 && perm[0] == 0 && perm[1] == 2 && perm[2] == 1)
        {
            int matrix = xShape[1] * xShape[2];
            for (int b = 0; b < xShape[0]; b++)
                Transpose2D(x.Slice(b * matrix, matrix), xShape[1], xShape[2], y.Slice(b * matrix, matrix));
            return;
        }
        Span<int> xStrides = stackalloc int[rank];
        for (int d = rank - 1, s = 1; d >= 0; d--) { xStrides[d] = s; s *= xShape[d]; }
        Span<int> yShape = stackalloc int[rank];
        Span<int> strides = stackalloc int[rank];
        for (int d = 0; d < rank; d++) { yShape[d] = xShape[perm[d]]; strides[d] = xStrides[perm[d]]; }
        Span<int> index = stackalloc int[rank];
        index.Clear();
        int inner = yShape[rank - 1], innerStride = strides[rank - 1];
        int rows = y.Length / inner;
        int position = 0;
        for (int row = 0, yi = 0; row < rows; row++, yi += inner)
        {
            if (innerStride == 1) x.Slice(position, inner).CopyTo(y.Slice(yi, inner));
            else for (int i = 0, p = position; i < inner; i++, p += innerStride) y[yi + i] = x[p];
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                position += strides[d];
                if (index[d] < yShape[d]) break;
                position -= strides[d] * yShape[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>y[c, r] = x[r, c] for an r×c matrix, in tiles so that reads and writes both stay in cache.</summary>
    static void Transpose2D<T>(ReadOnlySpan<T> x, int rows, int columns, Span<T> y)
    {
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(columns, c0 + Tile);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++)
                        y[c * rows + r] = x[r * columns + c];
            }
        }
    }
}
