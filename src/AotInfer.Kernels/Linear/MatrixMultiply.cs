using System;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// Single-precision matrix multiplication, the workhorse of Gemm, MatMul and convolution (im2col).
/// All matrices are row-major with explicit leading dimensions.
/// </summary>
public static class MatrixMultiply
{
    /// <summary>
    /// C[m×n] = A[m×k] · B[k×n] (overwriting C). <paramref name="lda"/>, <paramref name="ldb"/>, <paramref name="ldc"/>
    /// are the row strides. This is the scalar reference; faster variants must agree with it.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            row.Clear();
            for (int p = 0; p < k; p++)
            {
                float av = a[i * lda + p];
                ReadOnlySpan<float> brow = b.Slice(p * ldb, n);
                for (int j = 0; j < n; j++) row[j] += av * brow[j];
            }
        }
    }
}
