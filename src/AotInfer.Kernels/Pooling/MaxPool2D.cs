using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Pooling;

/// <summary>
/// Vectorised 2-D max pooling (no index output; float, or any other number type) for any kernel, stride, dilation, padding and ceil_mode.
/// Each output row is computed in three contiguous passes over one row of scratch instead of one strided scalar
/// loop per tap: the max over the kernel's rows (whole input rows, vectorised), then the max over the kernel's
/// columns (shifted copies of that row, vectorised), then every stride-th element is kept (a vector compress for
/// stride 2, the common case, on the AVX-512 tier of <see cref="MatrixMultiply.Tier"/>). Padding reads as
/// <see cref="float.MinValue"/>, the identity the generic path starts from, so both paths give the same maxima and
/// both propagate NaN.
/// </summary>
public static class MaxPool2D
{
    /// <summary>
    /// Widest padded row (in floats) the two stack rows cover; wider pools take the generic
    /// <see cref="Pooling.Max{T}"/> path, which needs no scratch.
    /// </summary>
    public const int MaxRowWidth = 4096;

    /// <summary>y = max over each window of x; <paramref name="planes"/> = N·C planes of the geometry's input size.</summary>
    public static void Max(ReadOnlySpan<float> x, Span<float> y, int planes, int[] geometry) => Max<float>(x, y, planes, geometry);

    /// <summary>
    /// <see cref="Max(ReadOnlySpan{float}, Span{float}, int, int[])"/> for any element type (the u8/s8 pools of
    /// quantised models: window-by-window scalar code was half of lenet5_qop's time); padding reads as the type's minimum.
    /// </summary>
    public static void Max<T>(ReadOnlySpan<T> x, Span<T> y, int planes, int[] geometry) where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        var window = new Window(geometry);
        if (window.Rank != 2) throw new ArgumentException($"geometry has rank {window.Rank}, expected 2", nameof(geometry));
        int inHeight = window.Input(0), inWidth = window.Input(1), outHeight = window.Output(0), outWidth = window.Output(1);
        int kernelWidth = window.Kernel(1), stride = window.Stride(1), dilation = window.Dilation(1), padLeft = window.PadBegin(1);
        // Columns the windows span, from the first window's first tap (input column −padLeft) onwards.
        int spanned = (outWidth - 1) * stride + (kernelWidth - 1) * dilation + 1, taken = (outWidth - 1) * stride + 1;
        if (spanned > MaxRowWidth)
        {
            Pooling.Max<T>(x, y, Span<long>.Empty, planes, geometry, false);
            return;
        }
        int inputSize = inHeight * inWidth, outputSize = outHeight * outWidth;
        if (x.Length < planes * inputSize || y.Length < planes * outputSize)
            throw new ArgumentException($"x or y is too short for {planes} planes of {inHeight}×{inWidth} → {outHeight}×{outWidth}");
        if (Unsafe.SizeOf<T>() == 1 && IsPlain2x2(window))
        {
            Max2x2Bytes(x, y, planes, inHeight, inWidth, outHeight, outWidth);
            return;
        }
        // Input columns [first, last) land in the spanned row at first + padLeft; the rest of the row is padding.
        int first = Math.Max(0, -padLeft), last = Math.Min(inWidth, spanned - padLeft);
        Span<T> columns = stackalloc T[spanned];
        Span<T> windows = stackalloc T[taken];
        for (int plane = 0; plane < planes; plane++)
        {
            ReadOnlySpan<T> input = x.Slice(plane * inputSize, inputSize);
            Span<T> output = y.Slice(plane * outputSize, outputSize);
            for (int oh = 0; oh < outHeight; oh++)
            {
                window.ValidTaps(0, oh, out int khBegin, out int khEnd, out int ihStart);
                if (last <= first || khBegin == khEnd) columns.Fill(T.MinValue);
                else
                {
                    columns.Slice(0, first + padLeft).Fill(T.MinValue);
                    columns.Slice(last + padLeft).Fill(T.MinValue);
                    Span<T> inside = columns.Slice(first + padLeft, last - first);
                    for (int kh = khBegin; kh < khEnd; kh++)
                    {
                        ReadOnlySpan<T> row = input.Slice((ihStart + kh * window.Dilation(0)) * inWidth + first, last - first);
                        if (kh == khBegin) row.CopyTo(inside);
                        else VectorMath.Max(inside, row);
                    }
                }
                columns.Slice(0, taken).CopyTo(windows);
                for (int kw = 1; kw < kernelWidth; kw++) VectorMath.Max(windows, columns.Slice(kw * dilation, taken));
                KeepEveryStride(windows, output.Slice(oh * outWidth, outWidth), stride);
            }
        }
    }

    /// <summary>2×2 windows at stride 2, no dilation, no padding, every window inside the image (LeNet's pools).</summary>
    static bool IsPlain2x2(Window window)
    {
        for (int d = 0; d < 2; d++)
            if (window.Kernel(d) != 2 || window.Stride(d) != 2 || window.Dilation(d) != 1 || window.PadBegin(d) != 0 || window.PadEnd(d) != 0
                || 2 * window.Output(d) > window.Input(d)) return false;
        return true;
    }

    /// <summary>
    /// The 2×2 stride-2 pool of one-byte elements in one pass per output row: the max of the two input rows, then of
    /// each pair of neighbours (the even and odd bytes, split by narrowing words and words shifted down by 8), 8
    /// outputs per step. The row-and-compress passes of the general kernel cost more than the maxima themselves here.
    /// </summary>
    static void Max2x2Bytes<T>(ReadOnlySpan<T> x, Span<T> y, int planes, int inHeight, int inWidth, int outHeight, int outWidth)
        where T : unmanaged, INumber<T>
    {
        ref T x0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        ref T y0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
        for (int plane = 0; plane < planes; plane++)
        {
            for (int oh = 0; oh < outHeight; oh++)
            {
                ref T top = ref Unsafe.Add(ref x0, (plane * inHeight + 2 * oh) * inWidth);
                ref T bottom = ref Unsafe.Add(ref top, inWidth);
                ref T output = ref Unsafe.Add(ref y0, (plane * outHeight + oh) * outWidth);
                int i = 0;
                if (Vector128.IsHardwareAccelerated)
                {
                    for (; i + 8 <= outWidth && 2 * i + 16 <= inWidth; i += 8)
                    {
                        var rows = Vector128.Max(Vector128.LoadUnsafe(ref top, (nuint)(2 * i)), Vector128.LoadUnsafe(ref bottom, (nuint)(2 * i))).AsUInt16();
                        var even = Vector128.Narrow(rows, rows).As<byte, T>();
                        var odd = Vector128.Narrow(rows >>> 8, rows >>> 8).As<byte, T>();
                        Unsafe.WriteUnaligned(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref output, i)), Vector128.Max(even, odd).AsUInt64().ToScalar());
                    }
                }
                for (; i < outWidth; i++)
                    Unsafe.Add(ref output, i) = T.Max(T.Max(Unsafe.Add(ref top, 2 * i), Unsafe.Add(ref top, 2 * i + 1)),
                                                      T.Max(Unsafe.Add(ref bottom, 2 * i), Unsafe.Add(ref bottom, 2 * i + 1)));
            }
        }
    }

    /// <summary>target[i] = source[i·stride].</summary>
    static void KeepEveryStride<T>(ReadOnlySpan<T> source, Span<T> target, int stride) where T : unmanaged
    {
        if (stride == 1)
        {
            source.Slice(0, target.Length).CopyTo(target);
            return;
        }
        int i = 0;
        if (typeof(T) == typeof(float) && stride == 2 && MatrixMultiply.Tier == GemmTier.Avx512 && Vector512.IsHardwareAccelerated)
        {
            // 16 loaded floats hold 8 outputs at their even lanes: one permute gathers them into the lower half.
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
            ref float s = ref Unsafe.As<T, float>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source));
            ref float t = ref Unsafe.As<T, float>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(target));
            // source has 2·(n−1)+1 elements, so a full 16-float load starting at 2i is in bounds while 2i+16 ≤ length.
            for (; i + 8 <= target.Length && 2 * i + 16 <= source.Length; i += 8)
                Vector512.Shuffle(Vector512.LoadUnsafe(ref s, (nuint)(2 * i)), evens).GetLower().StoreUnsafe(ref t, (nuint)i);
        }
        if (Unsafe.SizeOf<T>() == 1 && stride == 2 && Vector128.IsHardwareAccelerated)
        {
            // 16 loaded bytes as 8 words hold 8 outputs in their low bytes, which narrowing keeps.
            ref byte s = ref Unsafe.As<T, byte>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source));
            ref byte t = ref Unsafe.As<T, byte>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(target));
            for (; i + 8 <= target.Length && 2 * i + 16 <= source.Length; i += 8)
            {
                var words = Vector128.LoadUnsafe(ref s, (nuint)(2 * i)).AsUInt16();
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref t, i), Vector128.Narrow(words, words).AsUInt64().ToScalar());
            }
        }
        for (; i < target.Length; i++) target[i] = source[i * stride];
    }
}
