using System;
using System.Numerics;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// Matrix multiplication for the element types without a tuned kernel (double and the integers): a row-axpy loop,
/// vectorised with <see cref="Vector{T}"/> where the type allows. Integers wrap on overflow like ONNX Runtime.
/// </summary>
public static class GenericMatrixMultiply
{
    /// <summary>
    /// C[m×n] = op(A) · op(B) (overwriting C). A is stored m×k (k×m when <paramref name="transposeA"/>) with row
    /// stride <paramref name="lda"/>; B is stored k×n (n×k when <paramref name="transposeB"/>) with row stride <paramref name="ldb"/>.
    /// </summary>
    public static void Multiply<T>(ReadOnlySpan<T> a, int lda, bool transposeA, ReadOnlySpan<T> b, int ldb, bool transposeB,
        Span<T> c, int ldc, int m, int n, int k) where T : unmanaged, INumberBase<T>
    {
        MatrixMultiply.CheckOperands(a.Length, lda, transposeA, m, k, "a");
        MatrixMultiply.CheckOperands(b.Length, ldb, transposeB, k, n, "b");
        MatrixMultiply.CheckOperands(c.Length, ldc, false, m, n, "c");
        bool vectorise = Vector.IsHardwareAccelerated && Vector<T>.IsSupported;
        for (int i = 0; i < m; i++)
        {
            Span<T> row = c.Slice(i * ldc, n);
            if (transposeB)
            {
                for (int j = 0; j < n; j++)
                {
                    T sum = T.Zero;
                    for (int p = 0; p < k; p++) sum += (transposeA ? a[p * lda + i] : a[i * lda + p]) * b[j * ldb + p];
                    row[j] = sum;
                }
                continue;
            }
            row.Clear();
            for (int p = 0; p < k; p++)
            {
                T av = transposeA ? a[p * lda + i] : a[i * lda + p];
                ReadOnlySpan<T> bRow = b.Slice(p * ldb, n);
                int j = 0;
                if (vectorise)
                {
                    var broadcast = new Vector<T>(av);
                    for (; j <= n - Vector<T>.Count; j += Vector<T>.Count)
                    {
                        var sum = new Vector<T>(row.Slice(j)) + broadcast * new Vector<T>(bRow.Slice(j));
                        sum.CopyTo(row.Slice(j));
                    }
                }
                for (; j < n; j++) row[j] += av * bRow[j];
            }
        }
    }

    /// <summary>
    /// A batch of products C_b[m×n] = op(A_b) · op(B_b), where A_b starts at <paramref name="aOffsets"/>[b], B_b at
    /// <paramref name="bOffsets"/>[b] and C_b at b·m·n.
    /// </summary>
    public static void MultiplyBatched<T>(ReadOnlySpan<T> a, int[] aOffsets, int lda, bool transposeA, ReadOnlySpan<T> b, int[] bOffsets, int ldb, bool transposeB,
        Span<T> c, int m, int n, int k) where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(aOffsets);
        ArgumentNullException.ThrowIfNull(bOffsets);
        if (aOffsets.Length != bOffsets.Length) throw new ArgumentException("aOffsets and bOffsets must have one entry per batch", nameof(bOffsets));
        int size = m * n;
        for (int batch = 0; batch < aOffsets.Length; batch++)
            Multiply(a.Slice(aOffsets[batch]), lda, transposeA, b.Slice(bOffsets[batch]), ldb, transposeB, c.Slice(batch * size, size), n, m, n, k);
    }
}
