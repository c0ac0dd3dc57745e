using System;
using AotInfer.Kernels.Elementwise;

namespace AotInfer.Kernels.Misc;

/// <summary>ONNX Where: y = condition ? a : b, the three inputs broadcast together.</summary>
public static class Where
{
    /// <summary>Selects element by element with numpy broadcasting.</summary>
    public static void Run<T>(ReadOnlySpan<bool> condition, int[] conditionShape, ReadOnlySpan<T> a, int[] aShape, ReadOnlySpan<T> b, int[] bShape, Span<T> y, int[] yShape)
    {
        if (condition.Length == y.Length && a.Length == y.Length && b.Length == y.Length)
        {
            for (int i = 0; i < y.Length; i++) y[i] = condition[i] ? a[i] : b[i];
            return;
        }
        int rank = yShape.Length;
        if (rank == 0) { if (y.Length == 1) y[0] = condition[0] ? a[0] : b[0]; return; }
        Span<int> cStrides = stackalloc int[rank], aStrides = stackalloc int[rank], bStrides = stackalloc int[rank];
        Broadcast.BroadcastStrides(conditionShape, yShape, cStrides);
        Broadcast.BroadcastStrides(aShape, yShape, aStrides);
        Broadcast.BroadcastStrides(bShape, yShape, bStrides);
        Span<int> coordinate = stackalloc int[rank];
        int inner = yShape[rank - 1];
        if (inner == 0) return;
        int ci = 0, ai = 0, bi = 0, yi = 0, outer = y.Length / inner;
        int cInner = cStrides[rank - 1], aInner = aStrides[rank - 1], bInner = bStrides[rank - 1];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0, cp = ci, ap = ai, bp = bi; i < inner; i++, cp += cInner, ap += aInner, bp += bInner)
                y[yi++] = condition[cp] ? a[ap] : b[bp];
            for (int d = rank - 2; d >= 0; d--)
            {
                ci += cStrides[d]; ai += aStrides[d]; bi += bStrides[d];
                if (++coordinate[d] < yShape[d]) break;
                ci -= cStrides[d] * yShape[d]; ai -= aStrides[d] * yShape[d]; bi -= bStrides[d] * yShape[d];
                coordinate[d] = 0;
            }
        }
    }
}
