using System;

namespace AotInfer.Kernels.Elementwise;

/// <summary>
/// Numpy-style broadcasting loops. The output shape is given; each input shape is right-aligned against it and
/// dimensions of size 1 repeat. Fast paths: equal shapes, a scalar side, and a contiguous innermost run.
/// </summary>
public static class Broadcast
{
    /// <summary>y = op(a, b) with broadcasting.</summary>
    public static void Binary<TIn, TOut, TOp>(ReadOnlySpan<TIn> a, int[] aShape, ReadOnlySpan<TIn> b, int[] bShape, Span<TOut> y, int[] yShape, TOp op = default)
        where TOp : struct, IBinaryOperator<TIn, TOut>
    {
        if (a.Length == y.Length && b.Length == y.Length)
        {
            for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(a[i], b[i]);
            return;
        }
        if (b.Length == 1 && a.Length == y.Length)
        {
            TIn s = b[0];
            for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(a[i], s);
            return;
        }
        if (a.Length == 1 && b.Length == y.Length)
        {
            TIn s = a[0];
            for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(s, b[i]);
            return;
        }
        int rank = yShape.Length;
        Span<int> aStrides = stackalloc int[rank];
        Span<int> bStrides = stackalloc int[rank];
        BroadcastStrides(aShape, yShape, aStrides);
        BroadcastStrides(bShape, yShape, bStrides);
        Span<int> index = stackalloc int[rank];
        int inner = rank == 0 ? 1 : yShape[rank - 1];
        int aInner = rank == 0 ? 0 : aStrides[rank - 1], bInner = rank == 0 ? 0 : bStrides[rank - 1];
        int outer = inner == 0 ? 0 : y.Length / inner;
        int ai = 0, bi = 0, yi = 0;
        for (int o = 0; o < outer; o++)
        {
            int ap = ai, bp = bi;
            for (int i = 0; i < inner; i++, ap += aInner, bp += bInner) y[yi++] = op.Invoke(a[ap], b[bp]);
            // Advance the multi-index over the outer dimensions (odometer).
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                ai += aStrides[d];
                bi += bStrides[d];
                if (index[d] < yShape[d]) break;
                ai -= aStrides[d] * yShape[d];
                bi -= bStrides[d] * yShape[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>y = op(x) for every element.</summary>
    public static void Unary<TIn, TOut, TOp>(ReadOnlySpan<TIn> x, Span<TOut> y, TOp op = default) where TOp : struct, IUnaryOperator<TIn, TOut>
    {
        if (x.Length != y.Length) throw new ArgumentException("input and output lengths differ");
        for (int i = 0; i < y.Length; i++) y[i] = op.Invoke(x[i]);
    }

    /// <summary>Strides of <paramref name="shape"/> when broadcast to <paramref name="target"/> (0 where a dimension repeats).</summary>
    public static void BroadcastStrides(int[] shape, int[] target, Span<int> strides)
    {
        int offset = target.Length - shape.Length;
        int stride = 1;
        for (int d = target.Length - 1; d >= 0; d--)
        {
            int sd = d - offset;
            int size = sd >= 0 ? shape[sd] : 1;
            strides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }
    }

    /// <summary>
    /// Copies <paramref name="x"/> broadcast to the output shape (Expand, and the n-ary ops Sum/Mean/Max/Min start from it).
    /// </summary>
    public static void Expand<T>(ReadOnlySpan<T> x, int[] xShape, Span<T> y, int[] yShape)
    {
        if (x.Length == y.Length) { x.CopyTo(y); return; }
        int rank = yShape.Length;
        Span<int> strides = stackalloc int[rank];
        BroadcastStrides(xShape, yShape, strides);
        Span<int> index = stackalloc int[rank];
        int inner = rank == 0 ? 1 : yShape[rank - 1];
        int innerStride = rank == 0 ? 0 : strides[rank - 1];
        int outer = inner == 0 ? 0 : y.Length / inner;
        int xi = 0, yi = 0;
        for (int o = 0; o < outer; o++)
        {
            if (innerStride == 1) { x.Slice(xi, inner).CopyTo(y.Slice(yi, inner)); yi += inner; }
            else if (innerStride == 0) { y.Slice(yi, inner).Fill(x[xi]); yi += inner; }
            else for (int i = 0; i < inner; i++) y[yi++] = x[xi + i * innerStride];
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                xi += strides[d];
                if (index[d] < yShape[d]) break;
                xi -= strides[d] * yShape[d];
                index[d] = 0;
            }
        }
    }
}
