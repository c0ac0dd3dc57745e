using System;
using System.Numerics;

namespace AotInfer.Kernels.Linear;

/// <summary>The part of ONNX Gemm after the product: Y = alpha·(A·B) + beta·C with C broadcast to [M, N].</summary>
public static class GemmEpilogue
{
    /// <summary>
    /// y[i,j] = alpha·y[i,j] + beta·bias[i·biasRowStride + j·biasColumnStride] over an m×n row-major
    /// <paramref name="y"/>; an empty <paramref name="bias"/> only scales. Broadcast bias dimensions have stride 0.
    /// </summary>
    public static void Apply<T>(Span<T> y, int m, int n, T alpha, ReadOnlySpan<T> bias, int biasRowStride, int biasColumnStride, T beta)
        where T : unmanaged, INumberBase<T>
    {
        if (y.Length < m * n) throw new ArgumentException($"y has {y.Length} elements, fewer than {m}×{n}", nameof(y));
        bool hasBias = !bias.IsEmpty;
        if (hasBias && m > 0 && n > 0 && (long)(m - 1) * biasRowStride + (long)(n - 1) * biasColumnStride >= bias.Length)
            throw new ArgumentException("bias is too short for its strides", nameof(bias));
        bool vectorise = Vector.IsHardwareAccelerated && Vector<T>.IsSupported;
        for (int i = 0; i < m; i++)
        {
            Span<T> row = y.Slice(i * n, n);
            int j = 0;
            if (!hasBias)
            {
                if (vectorise)
                    for (var va = new Vector<T>(alpha); j <= n - Vector<T>.Count; j += Vector<T>.Count)
                        (va * new Vector<T>(row.Slice(j))).CopyTo(row.Slice(j));
                for (; j < n; j++) row[j] = alpha * row[j];
                continue;
            }
            int rowStart = i * biasRowStride;
            if (vectorise && biasColumnStride == 1)
            {
                var va = new Vector<T>(alpha);
                var vb = new Vector<T>(beta);
                for (; j <= n - Vector<T>.Count; j += Vector<T>.Count)
                    (va * new Vector<T>(row.Slice(j)) + vb * new Vector<T>(bias.Slice(rowStart + j))).CopyTo(row.Slice(j));
            }
            else if (vectorise && biasColumnStride == 0)
            {
                var va = new Vector<T>(alpha);
                var vb = new Vector<T>(beta * bias[rowStart]);
                for (; j <= n - Vector<T>.Count; j += Vector<T>.Count)
                    (va * new Vector<T>(row.Slice(j)) + vb).CopyTo(row.Slice(j));
            }
            for (; j < n; j++) row[j] = alpha * row[j] + beta * bias[rowStart + j * biasColumnStride];
        }
    }
}
