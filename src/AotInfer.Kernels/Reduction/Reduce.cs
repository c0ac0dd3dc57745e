using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Reduction;

/// <summary>
/// Reductions over any set of axes. The compiler passes a canonical shape: size-1 dimensions dropped and
/// neighbouring dimensions that are both reduced or both kept merged, so the input alternates kept and reduced
/// blocks (<c>dims</c>, with <c>reduced[d]</c> 1 for a reduced block). The innermost block decides the inner loop:
/// a reduced innermost block is a contiguous run folded to one value, a kept innermost block is a contiguous row
/// combined element-wise into the output row. Both are vectorised (Vector512, Vector256, scalar tail).
/// </summary>
public static class Reduce
{
    /// <summary>y = reduction of <paramref name="x"/> over the reduced blocks of the canonical shape.</summary>
    public static void Run<T, TOp>(ReadOnlySpan<T> x, Span<T> y, int[] dims, int[] reduced, TOp op = default)
        where T : unmanaged, INumber<T> where TOp : struct, IReduceOperator<T>
    {
        y.Fill(op.Identity);
        if (x.Length == 0) return;
        int last = dims.Length - 1;
        int run = dims[last];
        int outer = x.Length / run;
        Span<int> outStrides = stackalloc int[dims.Length];
        Span<int> index = stackalloc int[dims.Length];
        OutputStrides(dims, reduced, outStrides);
        int outOffset = 0;
        for (int o = 0; o < outer; o++)
        {
            var source = x.Slice(o * run, run);
            if (reduced[last] != 0) y[outOffset] = op.Combine(y[outOffset], Fold(source, op));
            else CombineRow(y.Slice(outOffset, run), source, op);
            outOffset = Advance(dims, outStrides, index, last, outOffset);
        }
    }

    /// <summary>
    /// log Σ exp(x) computed stably as m + log Σ exp(x − m) with m the maximum of each output's set;
    /// <paramref name="sums"/> is scratch with one element per output.
    /// </summary>
    public static void LogSumExp<T>(ReadOnlySpan<T> x, Span<T> y, int[] dims, int[] reduced, Span<T> sums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Run<T, ReduceMaxOperator<T>>(x, y, dims, reduced);
        sums.Fill(T.Zero);
        if (x.Length > 0)
        {
            int last = dims.Length - 1;
            int run = dims[last];
            int outer = x.Length / run;
            Span<int> outStrides = stackalloc int[dims.Length];
            Span<int> index = stackalloc int[dims.Length];
            OutputStrides(dims, reduced, outStrides);
            int outOffset = 0;
            for (int o = 0; o < outer; o++)
            {
                var source = x.Slice(o * run, run);
                if (reduced[last] != 0)
                {
                    T max = y[outOffset], sum = T.Zero;
                    if (T.IsFinite(max)) foreach (T v in source) sum += T.Exp(v - max);
                    sums[outOffset] += sum;
                }
                else
                {
                    for (int i = 0; i < run; i++)
                    {
                        T max = y[outOffset + i];
                        if (T.IsFinite(max)) sums[outOffset + i] += T.Exp(source[i] - max);
                    }
                }
                outOffset = Advance(dims, outStrides, index, last, outOffset);
            }
        }
        // A set whose maximum is ±∞ or NaN yields that maximum (log of the shifted sum is meaningless there).
        for (int i = 0; i < y.Length; i++)
            if (T.IsFinite(y[i])) y[i] += T.Log(sums[i]);
    }

    /// <summary>Max (any) or min (all) of bool tensors, over the canonical shape.</summary>
    public static void Bool(ReadOnlySpan<bool> x, Span<bool> y, int[] dims, int[] reduced, bool any)
    {
        // Bools are stored as 0/1 bytes, so max/min over bytes is any/all.
        var bytes = MemoryMarshal.Cast<bool, byte>(x);
        var result = MemoryMarshal.Cast<bool, byte>(y);
        if (any) Run<byte, ReduceMaxOperator<byte>>(bytes, result, dims, reduced);
        else Run<byte, ReduceMinOperator<byte>>(bytes, result, dims, reduced);
    }

    /// <summary>y /= count (ReduceMean); integer types truncate.</summary>
    public static void DivideBy<T>(Span<T> y, int count) where T : INumber<T>
    {
        T divisor = T.CreateTruncating(count);
        for (int i = 0; i < y.Length; i++) y[i] /= divisor;
    }

    /// <summary>y = √y (ReduceL2).</summary>
    public static void Sqrt<T>(Span<T> y) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < y.Length; i++) y[i] = T.Sqrt(y[i]);
    }

    /// <summary>y = ln y (ReduceLogSum).</summary>
    public static void Log<T>(Span<T> y) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < y.Length; i++) y[i] = T.Log(y[i]);
    }

    /// <summary>Folds a contiguous run to one value: whole vectors into vector accumulators, then the tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Fold<T, TOp>(ReadOnlySpan<T> x, TOp op = default) where T : unmanaged, INumber<T> where TOp : struct, IReduceOperator<T>
    {
        T result = op.Identity;
        int i = 0;
        ref T start = ref MemoryMarshal.GetReference(x);
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && x.Length >= Vector512<T>.Count)
        {
            var acc = Vector512.Create(op.Identity);
            for (; i <= x.Length - Vector512<T>.Count; i += Vector512<T>.Count)
                acc = op.Combine(acc, op.Map(Vector512.LoadUnsafe(ref start, (nuint)i)));
            for (int lane = 0; lane < Vector512<T>.Count; lane++) result = op.Combine(result, acc.GetElement(lane));
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && x.Length >= Vector256<T>.Count)
        {
            // Two accumulators halve the dependency chain and give a blocked (more accurate) summation order.
            var acc0 = Vector256.Create(op.Identity);
            var acc1 = acc0;
            int width = Vector256<T>.Count;
            for (; i <= x.Length - 2 * width; i += 2 * width)
            {
                acc0 = op.Combine(acc0, op.Map(Vector256.LoadUnsafe(ref start, (nuint)i)));
                acc1 = op.Combine(acc1, op.Map(Vector256.LoadUnsafe(ref start, (nuint)(i + width))));
            }
            if (i <= x.Length - width) { acc0 = op.Combine(acc0, op.Map(Vector256.LoadUnsafe(ref start, (nuint)i))); i += width; }
            acc0 = op.Combine(acc0, acc1);
            for (int lane = 0; lane < width; lane++) result = op.Combine(result, acc0.GetElement(lane));
        }
        for (; i < x.Length; i++) result = op.Combine(result, op.Map(x[i]));
        return result;
    }

    /// <summary>y[i] = combine(y[i], map(x[i])) over a contiguous row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CombineRow<T, TOp>(Span<T> y, ReadOnlySpan<T> x, TOp op = default) where T : unmanaged, INumber<T> where TOp : struct, IReduceOperator<T>
    {
        int i = 0;
        ref T source = ref MemoryMarshal.GetReference(x);
        ref T target = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            for (; i <= x.Length - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Combine(Vector512.LoadUnsafe(ref target, (nuint)i), op.Map(Vector512.LoadUnsafe(ref source, (nuint)i))).StoreUnsafe(ref target, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Combine(Vector256.LoadUnsafe(ref target, (nuint)i), op.Map(Vector256.LoadUnsafe(ref source, (nuint)i))).StoreUnsafe(ref target, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = op.Combine(y[i], op.Map(x[i]));
    }

    static void OutputStrides(int[] dims, int[] reduced, Span<int> strides)
    {
        int stride = 1;
        for (int d = dims.Length - 1; d >= 0; d--)
        {
            strides[d] = reduced[d] != 0 ? 0 : stride;
            if (reduced[d] == 0) stride *= dims[d];
        }
    }

    /// <summary>Moves the odometer over the dimensions before <paramref name="last"/> one step; returns the new output offset.</summary>
    static int Advance(int[] dims, Span<int> outStrides, Span<int> index, int last, int outOffset)
    {
        for (int d = last - 1; d >= 0; d--)
        {
            index[d]++;
            outOffset += outStrides[d];
            if (index[d] < dims[d]) return outOffset;
            outOffset -= outStrides[d] * dims[d];
            index[d] = 0;
        }
        return outOffset;
    }
}
