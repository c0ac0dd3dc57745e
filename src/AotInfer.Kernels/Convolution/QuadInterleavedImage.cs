using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Quantization;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Where a byte image lives once laid out for a direct 2-D convolution that vectorises over output pixels: every
/// group of four channels interleaved into one int32 per pixel ("quad"), the padding made part of the plane, and each
/// padded row split into <c>stride</c> phases by column (x mod stride), so that for any kernel position the quads
/// of consecutive output pixels sit at consecutive ints. Layout (ints):
/// <c>[channel quad][padded row][phase][column / stride]</c>, plus slack for whole-vector reads past the last one used.
/// </summary>
internal readonly struct QuadImageLayout
{
    /// <summary>Ints a vector load may read past the last quad a valid output pixel uses (one 512-bit vector).</summary>
    public const int Slack = 16;

    public QuadImageLayout(Window window, int channels)
    {
        Window = window;
        ChannelQuads = (channels + 3) / 4;
        StrideY = window.Stride(0);
        StrideX = window.Stride(1);
        // Every position the windows read, padding included: top-left is (−padTop, −padLeft).
        Height = (window.Output(0) - 1) * StrideY + (window.Kernel(0) - 1) * window.Dilation(0) + 1;
        Width = (window.Output(1) - 1) * StrideX + (window.Kernel(1) - 1) * window.Dilation(1) + 1;
        // Four spare ints per phase row: the stride-2 split stores four quads at a time.
        PhaseWidth = (Width + StrideX - 1) / StrideX + 4;
    }

    public Window Window { get; }

    public int ChannelQuads { get; }

    public int StrideY { get; }

    public int StrideX { get; }

    /// <summary>Padded rows.</summary>
    public int Height { get; }

    /// <summary>Padded columns.</summary>
    public int Width { get; }

    /// <summary>Ints per phase row.</summary>
    public int PhaseWidth { get; }

    /// <summary>Ints per padded row (all its phases).</summary>
    public int RowInts => StrideX * PhaseWidth;

    /// <summary>Ints per channel quad.</summary>
    public int PlaneInts => Height * RowInts;

    /// <summary>
    /// Ints the whole laid-out image needs: the planes, one more padded row step (a pair of output rows whose second
    /// row is past the last reads there) and <see cref="Slack"/>.
    /// </summary>
    public int Length => ChannelQuads * PlaneInts + StrideY * RowInts + Slack;

    /// <summary>Offset of output pixel (oy, ox)'s quad for kernel position (0, 0) of channel quad 0.</summary>
    public int PixelOffset(int oy, int ox) => oy * StrideY * RowInts + ox;

    /// <summary>What to add to <see cref="PixelOffset"/> for channel quad <paramref name="cq"/> at kernel position (ky, kx).</summary>
    public int TapOffset(int cq, int ky, int kx)
    {
        int x = kx * Window.Dilation(1);
        return cq * PlaneInts + ky * Window.Dilation(0) * RowInts + x % StrideX * PhaseWidth + x / StrideX;
    }
}

/// <summary>Builds the <see cref="QuadImageLayout"/> of one byte image.</summary>
internal static class QuadInterleavedImage
{
    /// <summary>
    /// Whether the 512-bit paths run: on the AVX-512 tier of the int8 kernels (tests force the narrower tiers to cover
    /// the 128-bit and scalar paths; the quads are the same either way).
    /// </summary>
    internal static bool Wide => QuantizedMatrixMultiply.Tier >= QuantizedGemmTier.Avx512BW && Avx512BW.IsSupported;

    /// <summary>
    /// Lays out <paramref name="image"/> (<paramref name="channels"/> planes of bytes, NCHW) in <paramref name="layout"/>
    /// at <paramref name="destination"/>: each byte XOR <paramref name="flip"/>, padding and missing channels
    /// <paramref name="padding"/> (already flipped).
    /// </summary>
    public static void Build(ReadOnlySpan<byte> image, int channels, QuadImageLayout layout, byte flip, byte padding, Span<int> destination)
    {
        Window window = layout.Window;
        int height = window.Input(0), width = window.Input(1), top = window.PadBegin(0), left = window.PadBegin(1), planeSize = height * width;
        int padQuad = padding * 0x01010101;
        // Image column x sits at padded column x + left; negative pads (cropping) clip the image instead.
        int x0 = Math.Max(0, -left), x1 = Math.Min(width, layout.Width - left);
        Span<int> row = stackalloc int[layout.Width + 16];
        bool wide = Wide;
        for (int cq = 0; cq < layout.ChannelQuads; cq++)
        {
            for (int py = 0; py < layout.Height; py++)
            {
                Span<int> target = destination.Slice(cq * layout.PlaneInts + py * layout.RowInts, layout.RowInts);
                int y = py - top;
                if (y < 0 || y >= height || x1 <= x0)
                {
                    target.Fill(padQuad);
                    continue;
                }
                // Stride 1: one phase, the padded row itself.
                Span<int> padded = layout.StrideX == 1 ? target : row;
                // Pads are a column or two: a loop, not a Fill call per row.
                ref int p0 = ref MemoryMarshal.GetReference(padded);
                for (int i = 0; i < x0 + left; i++) Unsafe.Add(ref p0, i) = padQuad;
                for (int i = x1 + left; i < layout.Width; i++) Unsafe.Add(ref p0, i) = padQuad;
                InterleaveRow(image, channels, 4 * cq, y * width, planeSize, x0, x1, flip, padding, padded, left, wide);
                if (layout.StrideX > 1) SplitPhases(row, layout.Width, layout.StrideX, layout.PhaseWidth, target);
            }
        }
    }

    /// <summary>
    /// quads[x + <paramref name="left"/>] for x in [<paramref name="x0"/>, <paramref name="x1"/>) = the bytes of
    /// channels c0…c0+3 at row offset <paramref name="rowStart"/> + x (XOR flip), channels past the last as
    /// <paramref name="padding"/>; 16 pixels at a time by unpacking four rows of bytes (8, then one by one, for rows
    /// narrower than 16; 64 at a time for rows of 64 or more when <paramref name="wide"/>, <see cref="Wide"/> read once
    /// by the caller, which interleaves many rows).
    /// </summary>
    internal static void InterleaveRow(ReadOnlySpan<byte> image, int channels, int c0, int rowStart, int planeSize, int x0, int x1, byte flip, byte padding, Span<int> quads, int left, bool wide)
    {
        var mask = Vector128.Create(flip);
        var pad = Vector128.Create(padding);
        ref byte i0 = ref MemoryMarshal.GetReference(image);
        // Byte offsets into quads are 4·(x + left) ≥ 0: x0 already skips the columns a negative pad crops.
        ref byte q0 = ref Unsafe.As<int, byte>(ref MemoryMarshal.GetReference(quads));
        int x = x0;
        if (wide && x1 - x0 >= 64)
        {
            // 64 pixels at a time, the last block moved back like the 16-pixel blocks below.
            for (; ; x = Math.Min(x + 64, x1 - 64))
            {
                Interleave64(ref i0, channels, c0, rowStart + x, planeSize, flip, padding, ref Unsafe.Add(ref q0, 4 * (x + left)));
                if (x + 64 >= x1) break;
            }
            return;
        }
        if (Sse2.IsSupported)
        {
            if (x1 - x0 >= 16)
            {
                // Whole blocks of 16 pixels, the last one moved back to end on the last pixel (it writes a few quads again,
                // with the same values): a 125-pixel plane otherwise left 13 pixels to the byte-by-byte loop.
                for (; ; x = Math.Min(x + 16, x1 - 16))
                {
                    Interleave16(ref i0, channels, c0, rowStart + x, planeSize, mask, pad, ref Unsafe.Add(ref q0, 4 * (x + left)));
                    if (x + 16 >= x1) break;
                }
                return;
            }
            for (; x + 8 <= x1; x += 8)
            {
                Vector128<byte> r0 = Row8(ref i0, channels, c0, rowStart + x, planeSize, mask, pad), r1 = Row8(ref i0, channels, c0 + 1, rowStart + x, planeSize, mask, pad);
                Vector128<byte> r2 = Row8(ref i0, channels, c0 + 2, rowStart + x, planeSize, mask, pad), r3 = Row8(ref i0, channels, c0 + 3, rowStart + x, planeSize, mask, pad);
                Vector128<short> t0 = Sse2.UnpackLow(r0, r1).AsInt16(), t2 = Sse2.UnpackLow(r2, r3).AsInt16();
                Sse2.UnpackLow(t0, t2).AsByte().StoreUnsafe(ref q0, (nuint)(4 * (x + left)));
                Sse2.UnpackHigh(t0, t2).AsByte().StoreUnsafe(ref q0, (nuint)(4 * (x + left) + 16));
            }
        }
        for (; x < x1; x++)
        {
            for (int i = 0; i < 4; i++)
                Unsafe.Add(ref q0, 4 * (x + left) + i) = c0 + i < channels ? (byte)(Unsafe.Add(ref i0, (c0 + i) * planeSize + rowStart + x) ^ flip) : padding;
        }
    }

    /// <summary>
    /// The quads of every channel (XOR flip; channels past the last <paramref name="padding"/>) at the pixels a 2-D 1×1
    /// unpadded <paramref name="window"/> reads, output position by output position: quad row cq at
    /// quads[cq·<paramref name="quadStride"/>], quad oy·OW + ox from input (oy·strideY, ox·strideX). The pixels of
    /// whole output rows (up to <c>Chunk</c> at a time; a wider row in pieces) are first gathered out of four channels
    /// into one compact row each, then interleaved like a unit-stride plane: one long row interleaves in blocks of 64
    /// or 16 pixels where a row of 8 output pixels alone would go 8 at a time. <paramref name="wide"/>: <see cref="Wide"/>.
    /// </summary>
    [SkipLocalsInit]
    internal static void InterleaveStrided(ReadOnlySpan<byte> image, int channels, Window window, byte flip, byte padding, Span<int> quads, int quadStride, bool wide)
    {
        int outputHeight = window.Output(0), outputWidth = window.Output(1);
        // A fixed stack buffer for any plane: Chunk output pixels per channel, and the slack of one 64-byte gather.
        const int Chunk = 1024;
        int columns = Math.Min(outputWidth, Chunk), rowsPerChunk = Chunk / columns;
        Span<byte> gathered = stackalloc byte[4 * Chunk + 64];
        var rowGather = new RowGather(window, wide);
        for (int cq = 0; 4 * cq < channels; cq++)
        {
            int present = Math.Min(4, channels - 4 * cq);
            for (int oy0 = 0; oy0 < outputHeight; oy0 += rowsPerChunk)
            {
                int rows = Math.Min(rowsPerChunk, outputHeight - oy0);
                for (int first = 0; first < outputWidth; first += columns)
                {
                    int count = Math.Min(columns, outputWidth - first);
                    for (int i = 0; i < present; i++)
                        rowGather.Rows(image, 4 * cq + i, oy0, rows, first, count, gathered.Slice(i * Chunk));
                    InterleaveRow(gathered, present, 0, 0, Chunk, 0, rows * count, flip, padding, quads.Slice(cq * quadStride + oy0 * outputWidth + first, rows * count), 0, wide);
                }
            }
        }
    }

    /// <summary>
    /// Gathers the pixels a strided 1×1 window reads from one channel into compact output rows. Rows of 64 output
    /// pixels or fewer go several at a time where AVX-512 VBMI has <c>vpermt2b</c>: one table lookup picks the pixels of
    /// as many output rows as fit in 64 bytes out of the 128 input bytes they lie in (resnet8's 16×16 stride-2 shortcut:
    /// four 8-pixel rows per lookup instead of four rows of 16 bytes each).
    /// </summary>
    readonly ref struct RowGather
    {
        readonly int width, planeSize, strideY, strideX, outputWidth;
        /// <summary>Output rows per lookup; 0 without VBMI or for rows too long or too far apart.</summary>
        readonly int rowsPerLookup;
        readonly bool wide;
        readonly Vector512<byte> index;

        public RowGather(Window window, bool wide)
        {
            width = window.Input(1);
            planeSize = window.InputSize;
            strideY = window.Stride(0);
            strideX = window.Stride(1);
            outputWidth = window.Output(1);
            this.wide = wide;
            rowsPerLookup = wide && Avx512Vbmi.IsSupported && outputWidth <= 64 ? 64 / outputWidth : 0;
            // Every byte a lookup reads lies in its 128: (k − 1) rows down and the last column across.
            while (rowsPerLookup > 0 && (rowsPerLookup - 1) * strideY * width + (outputWidth - 1) * strideX >= 128) rowsPerLookup--;
            if (rowsPerLookup == 0) return;
            Span<byte> bytes = stackalloc byte[64];
            bytes.Clear();
            // Counters, not j / outputWidth: a division per byte cost more than the lookups of a small layer.
            for (int j = 0, row = 0, column = 0; j < rowsPerLookup * outputWidth; j++)
            {
                bytes[j] = (byte)(row * strideY * width + column * strideX);
                if (++column == outputWidth) (row, column) = (row + 1, 0);
            }
            index = Vector512.Create<byte>(bytes);
        }

        /// <summary>
        /// Output rows oy0…oy0+rows−1, columns first…first+count−1 of <paramref name="channel"/> into target (rows·count
        /// bytes; up to 64 more may be written past them).
        /// </summary>
        public void Rows(ReadOnlySpan<byte> image, int channel, int oy0, int rows, int first, int count, Span<byte> target)
        {
            ref byte i0 = ref MemoryMarshal.GetReference(image);
            ref byte t0 = ref MemoryMarshal.GetReference(target);
            int r = 0;
            if (rowsPerLookup > 0 && count == outputWidth)
            {
                // Lookups of rowsPerLookup rows; the last one moved back to end on the last row (it writes some rows again).
                for (; r + rowsPerLookup <= rows; r = Math.Min(r + rowsPerLookup, rows - rowsPerLookup))
                {
                    int source = channel * planeSize + (oy0 + r) * strideY * width;
                    if (source + 128 > image.Length) break;
                    Vector512<byte> low = Vector512.LoadUnsafe(ref i0, (nuint)source), high = Vector512.LoadUnsafe(ref i0, (nuint)(source + 64));
                    // All 64 bytes stored: the ones past the rows' are overwritten by the next lookup or lie past the gathered rows.
                    Avx512Vbmi.PermuteVar64x8x2(low, index, high).StoreUnsafe(ref t0, (nuint)(r * count));
                    if (r + rowsPerLookup >= rows)
                    {
                        r = rows;
                        break;
                    }
                }
            }
            for (; r < rows; r++)
            {
                int source = channel * planeSize + (oy0 + r) * strideY * width + first * strideX;
                GatherRow(ref Unsafe.Add(ref i0, source), image.Length - source, strideX, count, ref Unsafe.Add(ref t0, r * count), wide);
            }
        }
    }

    /// <summary>
    /// target[ox] = source[ox·stride] for ox &lt; <paramref name="count"/>, reading no more than <paramref name="available"/>
    /// bytes: stride 2 keeps the even bytes of 64 (vpmovwb), 32 or 16 bytes at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GatherRow(ref byte source, int available, int stride, int count, ref byte target, bool wide)
    {
        int ox = 0;
        if (stride == 2)
        {
            if (wide)
                for (; ox + 32 <= count && 2 * ox + 64 <= available; ox += 32)
                    Avx512BW.ConvertToVector256Byte(Vector512.LoadUnsafe(ref source, (nuint)(2 * ox)).AsUInt16()).StoreUnsafe(ref target, (nuint)ox);
            if (Sse2.IsSupported)
            {
                var evenBytes = Vector128.Create((ushort)0x00FF);
                for (; ox + 16 <= count && 2 * ox + 32 <= available; ox += 16)
                {
                    Vector128<ushort> low = Vector128.LoadUnsafe(ref source, (nuint)(2 * ox)).AsUInt16() & evenBytes;
                    Vector128<ushort> high = Vector128.LoadUnsafe(ref source, (nuint)(2 * ox + 16)).AsUInt16() & evenBytes;
                    Sse2.PackUnsignedSaturate(low.AsInt16(), high.AsInt16()).StoreUnsafe(ref target, (nuint)ox);
                }
                for (; ox + 8 <= count && 2 * ox + 16 <= available; ox += 8)
                {
                    Vector128<short> even = (Vector128.LoadUnsafe(ref source, (nuint)(2 * ox)).AsUInt16() & evenBytes).AsInt16();
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, ox), Sse2.PackUnsignedSaturate(even, even).AsUInt64().ToScalar());
                }
            }
        }
        for (; ox < count; ox++) Unsafe.Add(ref target, ox) = Unsafe.Add(ref source, ox * stride);
    }

    /// <summary>
    /// The 256 bytes of quads of 64 pixels at <paramref name="at"/> (channels c0…c0+3) into <paramref name="quads"/>: the
    /// byte and word unpacks interleave within each 128-bit lane (lane k of the four results holds pixels 16k…16k+15),
    /// then a 4×4 transpose of the lanes puts the pixels in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Interleave64(ref byte image, int channels, int c0, int at, int planeSize, byte flip, byte padding, ref byte quads)
    {
        Unpack64(ref image, channels, c0, at, planeSize, flip, padding, out var q0, out var q1, out var q2, out var q3);
        // qj holds pixels 16k + 4j … 16k + 4j + 3 in lane k; output vector k is (q0, q1, q2, q3)'s lane k.
        Vector512<int> u0 = Avx512F.Shuffle4x128(q0, q1, 0b01_00_01_00), u1 = Avx512F.Shuffle4x128(q0, q1, 0b11_10_11_10);
        Vector512<int> u2 = Avx512F.Shuffle4x128(q2, q3, 0b01_00_01_00), u3 = Avx512F.Shuffle4x128(q2, q3, 0b11_10_11_10);
        Avx512F.Shuffle4x128(u0, u2, 0b10_00_10_00).AsByte().StoreUnsafe(ref quads);
        Avx512F.Shuffle4x128(u0, u2, 0b11_01_11_01).AsByte().StoreUnsafe(ref quads, 64);
        Avx512F.Shuffle4x128(u1, u3, 0b10_00_10_00).AsByte().StoreUnsafe(ref quads, 128);
        Avx512F.Shuffle4x128(u1, u3, 0b11_01_11_01).AsByte().StoreUnsafe(ref quads, 192);
    }

    /// <summary>
    /// The quads of a unit-stride plane of <paramref name="pixels"/> ≥ 64 pixels, every channel quad (XOR flip, channels
    /// past the last <paramref name="padding"/>), in blocks of 64 pixels: block b starts at pixel min(64b, pixels − 64)
    /// (the last one moved back to end on the last pixel) and goes to ints 64b… of each quad row (<paramref name="rowInts"/>
    /// apart) in lane order: the quad of the block's pixel 16k + 4j + i at int 16j + 4k + i, as <see cref="Interleave64"/>
    /// leaves it before its transpose of the lanes, which this order saves. (The saturating packs of a requantisation
    /// undo the order: see <see cref="Int8ByteRequantization.LaneOrderBlock"/>.) Quad row by quad row, so that the image
    /// is read as four sequential streams at a time: block by block across all channels (32 streams for MobileNetV2's
    /// 32→16 on 112×112) made that layer 52 µs in the model, where its input is no longer in L2, against 37 µs so.
    /// </summary>
    internal static void InterleaveLaneOrder(ReadOnlySpan<byte> image, int channels, int pixels, byte flip, byte padding, Span<int> quads, int rowInts)
    {
        int rows = (channels + 3) / 4, blocks = (pixels + 63) / 64;
        if (pixels < 64) throw new ArgumentException($"blocks of 64 pixels need a plane of 64 or more, got {pixels}", nameof(pixels));
        if (image.Length < channels * pixels || rowInts < 64 * blocks || quads.Length < (rows - 1) * rowInts + 64 * blocks)
            throw new ArgumentException($"the image holds {image.Length} bytes and the quads {quads.Length} ints, {rowInts} a row: too few for {channels}×{pixels}");
        ref byte i0 = ref MemoryMarshal.GetReference(image);
        ref byte q0 = ref Unsafe.As<int, byte>(ref MemoryMarshal.GetReference(quads));
        for (int cq = 0; cq < rows; cq++)
            for (int b = 0; b < blocks; b++)
            {
                Unpack64(ref i0, channels, 4 * cq, Math.Min(64 * b, pixels - 64), pixels, flip, padding, out var u0, out var u1, out var u2, out var u3);
                ref byte block = ref Unsafe.Add(ref q0, 4 * (cq * rowInts + 64 * b));
                u0.AsByte().StoreUnsafe(ref block);
                u1.AsByte().StoreUnsafe(ref block, 64);
                u2.AsByte().StoreUnsafe(ref block, 128);
                u3.AsByte().StoreUnsafe(ref block, 192);
            }
    }

    /// <summary>
    /// The byte and word unpacks of 64 pixels at <paramref name="at"/> of channels c0…c0+3: q<i>j</i>'s lane k holds the
    /// quads of pixels 16k + 4j … 16k + 4j + 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Unpack64(ref byte image, int channels, int c0, int at, int planeSize, byte flip, byte padding,
        out Vector512<int> q0, out Vector512<int> q1, out Vector512<int> q2, out Vector512<int> q3)
    {
        Vector512<byte> mask = Vector512.Create(flip), pad = Vector512.Create(padding);
        Vector512<byte> r0 = Row64(ref image, channels, c0, at, planeSize, mask, pad), r1 = Row64(ref image, channels, c0 + 1, at, planeSize, mask, pad);
        Vector512<byte> r2 = Row64(ref image, channels, c0 + 2, at, planeSize, mask, pad), r3 = Row64(ref image, channels, c0 + 3, at, planeSize, mask, pad);
        Vector512<short> t0 = Avx512BW.UnpackLow(r0, r1).AsInt16(), t1 = Avx512BW.UnpackHigh(r0, r1).AsInt16();
        Vector512<short> t2 = Avx512BW.UnpackLow(r2, r3).AsInt16(), t3 = Avx512BW.UnpackHigh(r2, r3).AsInt16();
        q0 = Avx512BW.UnpackLow(t0, t2).AsInt32();
        q1 = Avx512BW.UnpackHigh(t0, t2).AsInt32();
        q2 = Avx512BW.UnpackLow(t1, t3).AsInt32();
        q3 = Avx512BW.UnpackHigh(t1, t3).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<byte> Row64(ref byte image, int channels, int c, int at, int planeSize, Vector512<byte> mask, Vector512<byte> pad) =>
        c < channels ? Vector512.LoadUnsafe(ref image, (nuint)(c * planeSize + at)) ^ mask : pad;

    /// <summary>The 64 bytes of quads of 16 pixels at <paramref name="at"/> (channels c0…c0+3) into <paramref name="quads"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Interleave16(ref byte image, int channels, int c0, int at, int planeSize, Vector128<byte> mask, Vector128<byte> pad, ref byte quads)
    {
        Vector128<byte> r0 = Row16(ref image, channels, c0, at, planeSize, mask, pad), r1 = Row16(ref image, channels, c0 + 1, at, planeSize, mask, pad);
        Vector128<byte> r2 = Row16(ref image, channels, c0 + 2, at, planeSize, mask, pad), r3 = Row16(ref image, channels, c0 + 3, at, planeSize, mask, pad);
        Vector128<short> t0 = Sse2.UnpackLow(r0, r1).AsInt16(), t1 = Sse2.UnpackHigh(r0, r1).AsInt16();
        Vector128<short> t2 = Sse2.UnpackLow(r2, r3).AsInt16(), t3 = Sse2.UnpackHigh(r2, r3).AsInt16();
        Sse2.UnpackLow(t0, t2).AsByte().StoreUnsafe(ref quads);
        Sse2.UnpackHigh(t0, t2).AsByte().StoreUnsafe(ref quads, 16);
        Sse2.UnpackLow(t1, t3).AsByte().StoreUnsafe(ref quads, 32);
        Sse2.UnpackHigh(t1, t3).AsByte().StoreUnsafe(ref quads, 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> Row16(ref byte image, int channels, int c, int at, int planeSize, Vector128<byte> mask, Vector128<byte> pad) =>
        c < channels ? Vector128.LoadUnsafe(ref image, (nuint)(c * planeSize + at)) ^ mask : pad;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> Row8(ref byte image, int channels, int c, int at, int planeSize, Vector128<byte> mask, Vector128<byte> pad) =>
        c < channels ? Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref image, c * planeSize + at))).AsByte() ^ mask : pad;

    /// <summary>
    /// target[phase·phaseWidth + j] = row[j·stride + phase]: stride 2 four quads at a time (two shuffles of 4 + 4
    /// quads), other strides one at a time.
    /// </summary>
    static void SplitPhases(Span<int> row, int width, int stride, int phaseWidth, Span<int> target)
    {
        int j = 0;
        if (stride == 2 && Sse.IsSupported)
        {
            ref float r0 = ref Unsafe.As<int, float>(ref MemoryMarshal.GetReference(row));
            ref float t0 = ref Unsafe.As<int, float>(ref MemoryMarshal.GetReference(target));
            // Reads up to 7 quads past the row (the row buffer has 16 spare); writes up to 3 past each phase (4 spare).
            for (; 2 * j < width; j += 4)
            {
                Vector128<float> a = Vector128.LoadUnsafe(ref r0, (nuint)(2 * j)), b = Vector128.LoadUnsafe(ref r0, (nuint)(2 * j + 4));
                Sse.Shuffle(a, b, 0b10_00_10_00).StoreUnsafe(ref t0, (nuint)j);
                Sse.Shuffle(a, b, 0b11_01_11_01).StoreUnsafe(ref t0, (nuint)(phaseWidth + j));
            }
            return;
        }
        for (int phase = 0; phase < stride; phase++)
            for (j = 0; j * stride + phase < width; j++) target[phase * phaseWidth + j] = row[j * stride + phase];
    }
}
