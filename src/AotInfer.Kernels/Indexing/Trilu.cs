using System;

namespace AotInfer.Kernels.Indexing;

/// <summary>ONNX Trilu: keeps the upper or lower triangle of the last two dimensions and zeroes the rest.</summary>
public static class Trilu
{
    /// <summary>
    /// For each [<paramref name="rows"/>, <paramref name="columns"/>] matrix, keeps element (i, j) when j - i ≥ k
    /// (upper) or j - i ≤ k (lower).
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, int rows, int columns, long k, bool upper)
    {
        int matrix = rows * columns;
        if (matrix == 0) return;
        for (int m = 0; m < x.Length; m += matrix)
        {
            for (int i = 0; i < rows; i++)
            {
                int row = m + i * columns;
                for (int j = 0; j < columns; j++)
                {
                    long diagonal = (long)j - i;
                    bool keep = upper ? diagonal >= k : diagonal <= k;
                    y[row + j] = keep ? x[row + j] : default!;
                }
            }
        }
    }

    /// <summary>As <see cref="Run{T}(ReadOnlySpan{T}, Span{T}, int, int, long, bool)"/> with k read from a one-element input.</summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, int rows, int columns, ReadOnlySpan<long> k, bool upper) =>
        Run(x, y, rows, columns, k[0], upper);
}
