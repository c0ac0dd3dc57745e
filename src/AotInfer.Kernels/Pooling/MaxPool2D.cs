using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Pooling;

/// <summary>
/// Vectorised 2-D max pooling (no index output; float, or any other number type) for any kernel, stride, dilation, padding and ceil_mode.
/// Float stride 2 on the AVX-512 tier (squeezenet's 3×3/2 pools) reads the input rows directly: per tap, whole-vector loads
/// and a permute to the even lanes give 16 (or 8) outputs, with no copies and no call per row pass. Otherwise each output row is computed in three contiguous passes over one row of scratch instead of one strided scalar
/// loop per tap: the max over the kernel's rows (whole input rows, vectorised), then the max over the kernel's
/// columns (shifted copies of that row, vectorised), then every stride-th element is kept (a vector compress for
/// stride 2, the common case, on the AVX-512 tier of <see cref="MatrixMultiply.Tier"/>). Plain 2×2 stride-2 pools
/// and other k×k stride-k ones take a flat two-pass path over many rows at once. Padding reads as
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
    public static unsafe void Max<T>(ReadOnlySpan<T> x, Span<T> y, int planes, int[] geometry) where T : unmanaged, INumber<T>, IMinMaxValue<T>
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
        int? tile = TilesThePlane(window);
        if (Unsafe.SizeOf<T>() == 1 && tile == 2)
        {
            Max2x2Bytes(x, y, planes, inHeight, inWidth, outHeight, outWidth);
            return;
        }
        if (typeof(T) == typeof(float) && tile is int size and > 1 && size * outWidth <= RowChunk)
        {
            fixed (T* px = x)
            fixed (T* py = y)
                MaxOfTiles((float*)px, (float*)py, planes, size, inHeight, inWidth, outHeight, outWidth);
            return;
        }
        // Input columns [first, last) land in the spanned row at first + padLeft; the rest of the row is padding.
        int first = Math.Max(0, -padLeft), last = Math.Min(inWidth, spanned - padLeft);
        Span<T> columns = stackalloc T[spanned];
        Span<T> windows = stackalloc T[taken];
        bool direct = typeof(T) == typeof(float) && stride == 2 && MatrixMultiply.Tier == GemmTier.Avx512 && Avx512F.IsSupported;
        fixed (T* px = x)
        fixed (T* py = y)
        for (int plane = 0; plane < planes; plane++)
        {
            ReadOnlySpan<T> input = x.Slice(plane * inputSize, inputSize);
            Span<T> output = y.Slice(plane * outputSize, outputSize);
            for (int oh = 0; oh < outHeight; oh++)
            {
                window.ValidTaps(0, oh, out int khBegin, out int khEnd, out int ihStart);
                if (direct && khBegin < khEnd &&
                    Stride2Row((float*)px + (long)plane * inputSize, (float*)px + x.Length, (float*)py + (long)plane * outputSize + oh * outWidth, window, khBegin, khEnd, ihStart))
                    continue;
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

    /// <summary>
    /// One output row of a stride-2 pool on AVX-512, straight from the input: outputs whose taps all lie inside the
    /// input row are computed 16 at a time (per tap, two loads and one vpermt2ps keep the even lanes), or 8 at a time
    /// when fewer than 16 are interior (one load and one vpermps), the border outputs one by one. False, leaving the
    /// row to the padded-row path, when fewer than 8 outputs are interior or the last loads would run past
    /// <paramref name="xEnd"/>.
    /// </summary>
    static unsafe bool Stride2Row(float* plane, float* xEnd, float* output, Window window, int khBegin, int khEnd, int ihStart)
    {
        int inWidth = window.Input(1), outWidth = window.Output(1), kernelWidth = window.Kernel(1);
        int dilation = window.Dilation(1), padLeft = window.PadBegin(1), rowDilation = window.Dilation(0);
        // Interior outputs [low, high): first tap 2j − padLeft ≥ 0 and last tap 2j + (KW−1)·d − padLeft < W.
        int low = (padLeft + 1) / 2, reach = inWidth - 1 - (kernelWidth - 1) * dilation + padLeft;
        int high = reach < 0 ? 0 : Math.Min(outWidth, reach / 2 + 1);
        int block = high - low >= 16 ? 16 : 8;
        if (high - low < block) return false;
        float* lastRow = plane + (long)(ihStart + (khEnd - 1) * rowDilation) * inWidth;
        if (lastRow + 2 * (high - block) + (kernelWidth - 1) * dilation - padLeft + 2 * block > xEnd) return false;
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        if (block == 8) Stride2Blocks8(plane, output, window, khBegin, khEnd, ihStart, low, high, evens);
        else for (int j = low; ; j += 16)
        {
            if (j > high - 16) j = high - 16; // the last block overlaps the one before
            var best = Vector512.Create(float.MinValue);
            for (int kh = khBegin; kh < khEnd; kh++)
            {
                float* row = plane + (long)(ihStart + kh * rowDilation) * inWidth + 2 * j - padLeft;
                for (int kw = 0; kw < kernelWidth; kw++)
                {
                    float* tap = row + kw * dilation;
                    best = Vector512.Max(best, Avx512F.PermuteVar16x32x2(Vector512.Load(tap), evens, Vector512.Load(tap + 16)));
                }
            }
            best.Store(output + j);
            if (j == high - 16) break;
        }
        for (int j = 0; j < low; j++) output[j] = BorderWindow(plane, window, khBegin, khEnd, ihStart, j);
        for (int j = high; j < outWidth; j++) output[j] = BorderWindow(plane, window, khBegin, khEnd, ihStart, j);
        return true;
    }

    /// <summary>Interior outputs [low, high) of a narrow stride-2 row, 8 at a time: 16 loaded floats, one vpermps to their even lanes.</summary>
    static unsafe void Stride2Blocks8(float* plane, float* output, Window window, int khBegin, int khEnd, int ihStart, int low, int high, Vector512<int> evens)
    {
        int inWidth = window.Input(1), kernelWidth = window.Kernel(1), dilation = window.Dilation(1), padLeft = window.PadBegin(1);
        for (int j = low; ; j += 8)
        {
            if (j > high - 8) j = high - 8;
            var best = Vector256.Create(float.MinValue);
            for (int kh = khBegin; kh < khEnd; kh++)
            {
                float* row = plane + (long)(ihStart + kh * window.Dilation(0)) * inWidth + 2 * j - padLeft;
                for (int kw = 0; kw < kernelWidth; kw++)
                    best = Vector256.Max(best, Avx512F.PermuteVar16x32(Vector512.Load(row + kw * dilation), evens).GetLower());
            }
            best.Store(output + j);
            if (j == high - 8) break;
        }
    }

    /// <summary>Max of output column <paramref name="j"/>'s taps that lie inside the input (stride 2), NaN-propagating like the generic path.</summary>
    static unsafe float BorderWindow(float* plane, Window window, int khBegin, int khEnd, int ihStart, int j)
    {
        int inWidth = window.Input(1);
        float best = float.MinValue;
        for (int kh = khBegin; kh < khEnd; kh++)
        {
            float* row = plane + (long)(ihStart + kh * window.Dilation(0)) * inWidth;
            for (int kw = 0; kw < window.Kernel(1); kw++)
            {
                int column = 2 * j + kw * window.Dilation(1) - window.PadBegin(1);
                if (column < 0 || column >= inWidth) continue;
                float value = row[column];
                if (value > best || float.IsNaN(value)) best = value;
            }
        }
        return best;
    }

    /// <summary>
    /// The window size k when every window is a k×k tile at stride k (no dilation, no padding, inside the image:
    /// LeNet's 2×2/2 pools, mnist-8's 3×3/3); null otherwise.
    /// </summary>
    static int? TilesThePlane(Window window)
    {
        int k = window.Kernel(0);
        for (int d = 0; d < 2; d++)
            if (window.Kernel(d) != k || window.Stride(d) != k || window.Dilation(d) != 1 || window.PadBegin(d) != 0 || window.PadEnd(d) != 0
                || k * window.Output(d) > window.Input(d)) return null;
        return k;
    }

    /// <summary>Floats of the stack chunk <see cref="MaxOfTiles"/> gathers row-group maxima into (8 KB).</summary>
    const int RowChunk = 2048;

    /// <summary>
    /// A k×k stride-k float pool in two flat passes per chunk of output rows, whatever the width: the max of each group
    /// of k input rows into a chunk of rows k·OW wide, then the max of each k neighbours over the whole chunk at once
    /// (for k = 2 by vpermt2ps or shufps to the even and odd lanes). Row by row, LeNet's 24- and 8-wide rows left most
    /// lanes of the stride-2 row kernel idle and paid its border handling on every row (fashion_lenet5's two pools
    /// took 4.9 and 5.2 µs).
    /// </summary>
    static unsafe void MaxOfTiles(float* x, float* y, int planes, int size, int inHeight, int inWidth, int outHeight, int outWidth)
    {
        int pitch = size * outWidth, rowsPerChunk = RowChunk / pitch, total = planes * outHeight;
        float* groups = stackalloc float[RowChunk];
        for (int first = 0; first < total; first += rowsPerChunk)
        {
            int rows = Math.Min(rowsPerChunk, total - first);
            for (int r = 0; r < rows; r++)
            {
                int plane = (first + r) / outHeight, oh = (first + r) % outHeight;
                float* top = x + ((long)plane * inHeight + size * oh) * inWidth, target = groups + r * pitch;
                RowMax(top, top + inWidth, target, pitch);
                for (int kh = 2; kh < size; kh++) RowMax(target, top + kh * inWidth, target, pitch);
            }
            float* output = y + (long)first * outWidth;
            if (size == 2) NeighbourMax(groups, output, rows * outWidth);
            else
                for (int i = 0; i < rows * outWidth; i++)
                {
                    float best = groups[size * i];
                    for (int kw = 1; kw < size; kw++) best = MathF.Max(best, groups[size * i + kw]);
                    output[i] = best;
                }
        }
    }

    /// <summary>target[i] = max(a[i], b[i]) for i &lt; n, NaN-propagating.</summary>
    static unsafe void RowMax(float* a, float* b, float* target, int n)
    {
        int i = 0;
        if (MatrixMultiply.Tier == GemmTier.Avx512 && Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) Vector512.Max(Vector512.Load(a + i), Vector512.Load(b + i)).Store(target + i);
        if (MatrixMultiply.Tier != GemmTier.Scalar && Vector128.IsHardwareAccelerated)
            for (; i + 4 <= n; i += 4) Vector128.Max(Vector128.Load(a + i), Vector128.Load(b + i)).Store(target + i);
        for (; i < n; i++) target[i] = MathF.Max(a[i], b[i]);
    }

    /// <summary>target[i] = max(source[2i], source[2i+1]) for i &lt; n, NaN-propagating.</summary>
    static unsafe void NeighbourMax(float* source, float* target, int n)
    {
        int i = 0;
        if (MatrixMultiply.Tier == GemmTier.Avx512 && Avx512F.IsSupported)
        {
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = evens + Vector512<int>.One;
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> low = Vector512.Load(source + 2 * i), high = Vector512.Load(source + 2 * i + 16);
                Vector512.Max(Avx512F.PermuteVar16x32x2(low, evens, high), Avx512F.PermuteVar16x32x2(low, odds, high)).Store(target + i);
            }
        }
        if (MatrixMultiply.Tier != GemmTier.Scalar && Sse.IsSupported)
            for (; i + 4 <= n; i += 4)
            {
                Vector128<float> low = Vector128.Load(source + 2 * i), high = Vector128.Load(source + 2 * i + 4);
                Vector128.Max(Sse.Shuffle(low, high, 0b10_00_10_00), Sse.Shuffle(low, high, 0b11_01_11_01)).Store(target + i);
            }
        for (; i < n; i++) target[i] = MathF.Max(source[2 * i], source[2 * i + 1]);
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
        if (typeof(T) == typeof(float) && stride == 2 && MatrixMultiply.Tier == GemmTier.Avx512 && Avx512F.IsSupported)
        {
            // 32 loaded floats hold 16 outputs at their even lanes: one two-register permute (vpermt2ps) gathers them.
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            ref float s = ref Unsafe.As<T, float>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source));
            ref float t = ref Unsafe.As<T, float>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(target));
            // source has 2·(n−1)+1 elements: two 16-float loads from 2i stay in bounds while 2i+32 ≤ length.
            for (; i + 16 <= target.Length && 2 * i + 32 <= source.Length; i += 16)
                Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref s, (nuint)(2 * i)), evens, Vector512.LoadUnsafe(ref s, (nuint)(2 * i + 16))).StoreUnsafe(ref t, (nuint)i);
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
