using System;
using System.Numerics;

namespace AotInfer.Kernels.Matrix;

/// <summary>Small matrix kernels: identity-like fill and determinants.</summary>
public static class MatrixKernels
{
    /// <summary>Fills a <paramref name="rows"/> x <paramref name="columns"/> matrix with <paramref name="one"/> on diagonal <paramref name="k"/> (positive: above the main one) and zeros elsewhere.</summary>
    public static void EyeLike<T>(Span<T> output, int rows, int columns, int k, T one) where T : unmanaged
    {
        output.Clear();
        for (int r = Math.Max(0, -k); r < rows && r + k < columns; r++) output[r * columns + r + k] = one;
    }

    /// <summary>
    /// Determinants of <paramref name="count"/> consecutive <paramref name="n"/> x <paramref name="n"/> matrices, by
    /// LU decomposition with partial pivoting in double precision in <paramref name="scratch"/> (n*n doubles).
    /// </summary>
    public static void Determinant<T>(ReadOnlySpan<T> input, Span<T> output, int count, int n, Span<double> scratch) where T : unmanaged, INumberBase<T>
    {
        for (int m = 0; m < count; m++)
        {
            var a = scratch.Slice(0, n * n);
            var source = input.Slice(m * n * n, n * n);
            for (int i = 0; i < a.Length; i++) a[i] = double.CreateTruncating(source[i]);
            double det = 1;
            for (int c = 0; c < n && det != 0; c++)
            {
                int pivot = c;
                for (int r = c + 1; r < n; r++) if (Math.Abs(a[r * n + c]) > Math.Abs(a[pivot * n + c])) pivot = r;
                if (a[pivot * n + c] == 0) { det = 0; break; }
                if (pivot != c)
                {
                    for (int j = 0; j < n; j++) (a[c * n + j], a[pivot * n + j]) = (a[pivot * n + j], a[c * n + j]);
                    det = -det;
                }
                double diagonal = a[c * n + c];
                det *= diagonal;
                for (int r = c + 1; r < n; r++)
                {
                    double factor = a[r * n + c] / diagonal;
                    if (factor == 0) continue;
                    for (int j = c + 1; j < n; j++) a[r * n + j] -= factor * a[c * n + j];
                }
            }
            output[m] = T.CreateTruncating(det);
        }
    }
}
