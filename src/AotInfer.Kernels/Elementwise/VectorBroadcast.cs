using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels.Elementwise;

/// <summary>An arithmetic operator that also works on whole SIMD vectors (Add, Sub, Mul, Div on float or double).</summary>
public interface IVectorBinaryOperator<T> : IBinaryOperator<T, T> where T : unmanaged
{
    /// <summary>Computes one vector of elements; lane i must equal <c>Invoke(a[i], b[i])</c> exactly.</summary>
    Vector<T> Invoke(Vector<T> a, Vector<T> b);
}

/// <summary>a + b, element by element or a vector at a time.</summary>
public readonly struct AddVectors<T> : IVectorBinaryOperator<T> where T : unmanaged, INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a + b;
    /// <inheritdoc/>
    public Vector<T> Invoke(Vector<T> a, Vector<T> b) => a + b;
}

/// <summary>a - b, element by element or a vector at a time.</summary>
public readonly struct SubtractVectors<T> : IVectorBinaryOperator<T> where T : unmanaged, INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a - b;
    /// <inheritdoc/>
    public Vector<T> Invoke(Vector<T> a, Vector<T> b) => a - b;
}

/// <summary>a * b, element by element or a vector at a time.</summary>
public readonly struct MultiplyVectors<T> : IVectorBinaryOperator<T> where T : unmanaged, INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a * b;
    /// <inheritdoc/>
    public Vector<T> Invoke(Vector<T> a, Vector<T> b) => a * b;
}

/// <summary>a / b for floating-point types (IEEE division, so a vector lane equals the scalar quotient).</summary>
public readonly struct DivideVectors<T> : IVectorBinaryOperator<T> where T : unmanaged, INumberBase<T>
{
    /// <inheritdoc/>
    public T Invoke(T a, T b) => a / b;
    /// <inheritdoc/>
    public Vector<T> Invoke(Vector<T> a, Vector<T> b) => a / b;
}

/// <summary>
/// <see cref="Broadcast.Binary{TIn, TOut, TOp}"/> for operators that work on SIMD vectors. Dimensions that both
/// inputs walk contiguously (or both repeat) are merged first, so a per-channel bias [1,C,1,1] against [1,C,H,W]
/// becomes C runs of H·W elements against one repeated value, and equal shapes become one run. Each run is then
/// computed a vector at a time, with a repeated side held in one broadcast vector. Results are bit-identical to
/// the scalar loop: the same IEEE operation on the same pair of elements.
/// </summary>
public static class VectorBroadcast
{
    /// <summary>y = op(a, b) with broadcasting (right-aligned shapes, size-1 dimensions repeat).</summary>
    public static void Binary<T, TOp>(ReadOnlySpan<T> a, int[] aShape, ReadOnlySpan<T> b, int[] bShape, Span<T> y, int[] yShape, TOp op = default)
        where T : unmanaged where TOp : struct, IVectorBinaryOperator<T>
    {
        int rank = yShape.Length;
        if (rank == 0 || y.Length == 0)
        {
            if (y.Length == 1) y[0] = op.Invoke(a[0], b[0]);
            return;
        }
        Span<int> aStrides = stackalloc int[rank];
        Span<int> bStrides = stackalloc int[rank];
        Span<int> sizes = stackalloc int[rank];
        Broadcast.BroadcastStrides(aShape, yShape, aStrides);
        Broadcast.BroadcastStrides(bShape, yShape, bStrides);
        int dims = Coalesce(yShape, aStrides, bStrides, sizes);
        int inner = sizes[dims - 1];
        int aInner = aStrides[dims - 1], bInner = bStrides[dims - 1];
        int outer = y.Length / inner;
        Span<int> index = stackalloc int[dims];
        index.Clear();
        int ai = 0, bi = 0;
        for (int o = 0, yi = 0; o < outer; o++, yi += inner)
        {
            Run(a.Slice(ai), aInner, b.Slice(bi), bInner, y.Slice(yi, inner), op);
            // Advance the multi-index over the outer (merged) dimensions.
            for (int d = dims - 2; d >= 0; d--)
            {
                index[d]++;
                ai += aStrides[d];
                bi += bStrides[d];
                if (index[d] < sizes[d]) break;
                ai -= aStrides[d] * sizes[d];
                bi -= bStrides[d] * sizes[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>
    /// Merges each dimension into the next one where both inputs step through the pair as one dimension (stride of
    /// the outer = stride of the inner × inner size, which also holds when both strides are 0) and drops size-1
    /// dimensions. Returns the number of dimensions left (at least 1); strides and sizes are rewritten in place.
    /// </summary>
    static int Coalesce(int[] shape, Span<int> aStrides, Span<int> bStrides, Span<int> sizes)
    {
        int dims = 0;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            if (dims > 0 && aStrides[dims - 1] == aStrides[d] * shape[d] && bStrides[dims - 1] == bStrides[d] * shape[d])
            {
                sizes[dims - 1] *= shape[d];
                aStrides[dims - 1] = aStrides[d];
                bStrides[dims - 1] = bStrides[d];
                continue;
            }
            sizes[dims] = shape[d];
            aStrides[dims] = aStrides[d];
            bStrides[dims] = bStrides[d];
            dims++;
        }
        if (dims == 0)
        {
            sizes[0] = 1;
            aStrides[0] = bStrides[0] = 0;
            dims = 1;
        }
        return dims;
    }

    /// <summary>One run of y: each input either advances one element per output (stride 1) or repeats (stride 0).</summary>
    static void Run<T, TOp>(ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> b, int bStride, Span<T> y, TOp op)
        where T : unmanaged where TOp : struct, IVectorBinaryOperator<T>
    {
        int n = y.Length, i = 0;
        // The unchecked loads below stay inside the spans: a walking side holds at least n elements.
        if (aStride != 0 && a.Length < n || bStride != 0 && b.Length < n) throw new ArgumentException("an input is shorter than the run");
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count && (aStride | bStride) != 0)
        {
            int width = Vector<T>.Count;
            ref T a0 = ref MemoryMarshal.GetReference(a), b0 = ref MemoryMarshal.GetReference(b), y0 = ref MemoryMarshal.GetReference(y);
            if (aStride == 0)
                for (var av = new Vector<T>(a0); i <= n - width; i += width)
                    op.Invoke(av, Vector.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref y0, (nuint)i);
            else if (bStride == 0)
                for (var bv = new Vector<T>(b0); i <= n - width; i += width)
                    op.Invoke(Vector.LoadUnsafe(ref a0, (nuint)i), bv).StoreUnsafe(ref y0, (nuint)i);
            else
                for (; i <= n - width; i += width)
                    op.Invoke(Vector.LoadUnsafe(ref a0, (nuint)i), Vector.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref y0, (nuint)i);
        }
        for (; i < n; i++) y[i] = op.Invoke(a[i * aStride], b[i * bStride]);
    }
}
