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
/// Float stride 2 on the AVX-512 tier (squeezenet's 3×3/2 pools) is separable: the max over the kernel's rows into one
/// scratch row, then per kernel column one permute to the even lanes per 16 outputs. Otherwise each output row is
/// computed in three contiguous passes over one row of scratch instead of one strided scalar loop per tap: the max over the kernel's rows (whole input rows, vectorised), then the max over the kernel's
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
        fixed (T* px = x)
        fixed (T* py = y)
        {
            if (typeof(T) == typeof(float) && stride == 2 && inWidth >= 16 && padLeft + inWidth <= MaxRowWidth &&
                MatrixMultiply.Tier == GemmTier.Avx512 && Avx512F.IsSupported)
            {
                Stride2Separable((float*)px, (float*)py, (float*)py + (long)planes * outputSize, planes, window);
                return;
            }
        }
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

    /// <summary>
    /// A float pool of stride 2 along the rows on the AVX-512 tier, separably: per output row, the max over the kernel's
    /// rows of whole input rows into a scratch row (padding stays <see cref="float.MinValue"/>), then per 16 outputs and
    /// kernel column, two loads of that row and one vpermt2ps to their even lanes. A 3×3 window costs 3 permutes per 16
    /// outputs instead of the 9 of reading each tap from the input (squeezenet's three 3×3/2 pools took 146, 94 and 88
    /// µs that way). The row maxima are computed one output row ahead into the other of two scratch rows: loads that
    /// straddle two vector stores just made cannot be forwarded from the store buffer and stall until they retire.
    /// Stores may run past an output row into the next ones, which are written later, but never past
    /// <paramref name="yEnd"/>.
    /// </summary>
    static unsafe void Stride2Separable(float* x, float* y, float* yEnd, int planes, Window window)
    {
        var rows = new PoolRows(window);
        int outWidth = window.Output(1), kernelWidth = window.Kernel(1), dilation = window.Dilation(1), padLeft = window.PadBegin(1);
        int spanned = (outWidth - 1) * 2 + (kernelWidth - 1) * dilation + 1;
        // The last block of taps loads 32 floats from column 2·max(OW − 16, 0) + (KW − 1)·d.
        int rowLength = Math.Max(spanned, padLeft + rows.InputWidth) + 32;
        float* scratch = stackalloc float[2 * rowLength];
        new Span<float>(scratch, 2 * rowLength).Fill(float.MinValue);
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        bool threeWide = kernelWidth == 3 && dilation == 1;
        int total = planes * rows.OutputHeight;
        rows.Max(x, 0, 0, scratch + padLeft);
        float* output = y;
        for (int r = 0, plane = 0, oh = 0; r < total; r++, output += outWidth)
        {
            if (++oh == rows.OutputHeight) { oh = 0; plane++; }
            if (r + 1 < total) rows.Max(x, plane, oh, scratch + ((r + 1) & 1) * rowLength + padLeft);
            float* row = scratch + (r & 1) * rowLength;
            for (int j = 0; ; j += 16)
            {
                if (outWidth >= 16 && j > outWidth - 16) j = outWidth - 16; // the last block overlaps the one before
                float* taps = row + 2 * j;
                Vector512<float> best, low = Vector512.Load(taps), high = Vector512.Load(taps + 16);
                if (threeWide)
                {
                    // Taps 0 and 1 are the even and odd lanes of the same 32 floats (the common 3×3 window, unrolled).
                    best = Vector512.Max(Avx512F.PermuteVar16x32x2(low, evens, high), Avx512F.PermuteVar16x32x2(low, odds, high));
                    best = Vector512.Max(best, Avx512F.PermuteVar16x32x2(Vector512.Load(taps + 2), evens, Vector512.Load(taps + 18)));
                }
                else
                {
                    best = Avx512F.PermuteVar16x32x2(low, evens, high);
                    for (int kw = 1; kw < kernelWidth; kw++)
                    {
                        float* tap = taps + kw * dilation;
                        best = Vector512.Max(best, Avx512F.PermuteVar16x32x2(Vector512.Load(tap), evens, Vector512.Load(tap + 16)));
                    }
                }
                if (output + j + 16 <= yEnd) best.Store(output + j);
                else for (int i = 0; i < outWidth - j; i++) output[j + i] = best.GetElement(i);
                if (j + 16 >= outWidth) break;
            }
        }
    }

    /// <summary>The vertical pass of <see cref="Stride2Separable"/>, with the window's fields unpacked once.</summary>
    readonly unsafe struct PoolRows(Window window)
    {
        public readonly int InputWidth = window.Input(1), OutputHeight = window.Output(0);
        readonly int _inputHeight = window.Input(0), _kernelHeight = window.Kernel(0), _stride = window.Stride(0);
        readonly int _dilation = window.Dilation(0), _padTop = window.PadBegin(0);

        /// <summary>
        /// target[c] = max over the kernel rows inside the input of output row <paramref name="oh"/> of plane
        /// <paramref name="plane"/>, for the <see cref="InputWidth"/> (≥ 16) columns; <see cref="float.MinValue"/> when no kernel row is inside.
        /// </summary>
        public void Max(float* x, int plane, int oh, float* target)
        {
            // The kernel rows [begin, end) inside the input (Window.ValidTaps, inline: this runs once per output row).
            int top = oh * _stride - _padTop;
            int begin = top >= 0 ? 0 : (-top + _dilation - 1) / _dilation;
            int end = _inputHeight - top <= 0 ? 0 : Math.Min(_kernelHeight, _dilation == 1 ? _inputHeight - top : (_inputHeight - top + _dilation - 1) / _dilation);
            if (begin >= end)
            {
                new Span<float>(target, InputWidth).Fill(float.MinValue);
                return;
            }
            long step = (long)_dilation * InputWidth;
            float* first = x + ((long)plane * _inputHeight + top + begin * _dilation) * InputWidth;
            int count = end - begin;
            for (int c = 0; ; c += 16)
            {
                if (c > InputWidth - 16) c = InputWidth - 16; // the last vector overlaps the one before
                float* column = first + c;
                Vector512<float> best;
                // Three rows (3×3 windows inside the image), unrolled.
                if (count == 3) best = Vector512.Max(Vector512.Max(Vector512.Load(column), Vector512.Load(column + step)), Vector512.Load(column + 2 * step));
                else
                {
                    best = Vector512.Load(column);
                    for (int kh = 1; kh < count; kh++) best = Vector512.Max(best, Vector512.Load(column + kh * step));
                }
                best.Store(target + c);
                if (c == InputWidth - 16) break;
            }
        }
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
