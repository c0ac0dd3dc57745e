using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
                InterleaveRow(image, channels, 4 * cq, y * width, planeSize, x0, x1, flip, padding, padded, left);
                if (layout.StrideX > 1) SplitPhases(row, layout.Width, layout.StrideX, layout.PhaseWidth, target);
            }
        }
    }

    /// <summary>
    /// quads[x + <paramref name="left"/>] for x in [<paramref name="x0"/>, <paramref name="x1"/>) = the bytes of
    /// channels c0…c0+3 at row offset <paramref name="rowStart"/> + x (XOR flip), channels past the last as
    /// <paramref name="padding"/>; 16 pixels at a time by unpacking four rows of bytes (8, then one by one, for rows
    /// narrower than 16).
    /// </summary>
    internal static void InterleaveRow(ReadOnlySpan<byte> image, int channels, int c0, int rowStart, int planeSize, int x0, int x1, byte flip, byte padding, Span<int> quads, int left)
    {
        var mask = Vector128.Create(flip);
        var pad = Vector128.Create(padding);
        ref byte i0 = ref MemoryMarshal.GetReference(image);
        // Byte offsets into quads are 4·(x + left) ≥ 0: x0 already skips the columns a negative pad crops.
        ref byte q0 = ref Unsafe.As<int, byte>(ref MemoryMarshal.GetReference(quads));
        int x = x0;
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
    /// The quads of channels c0…c0+3 (XOR flip; channels past the last <paramref name="padding"/>) at the pixels a 2-D
    /// 1×1 unpadded <paramref name="window"/> reads, output position by output position: quads[oy·OW + ox] from
    /// input (oy·strideY, ox·strideX). Each output row's pixels are first copied out of the four channel rows
    /// (stride 2: 16 at a time, the even bytes of 32), then interleaved like a whole row.
    /// </summary>
    internal static void InterleaveStrided(ReadOnlySpan<byte> image, int channels, int c0, Window window, byte flip, byte padding, Span<int> quads)
    {
        int width = window.Input(1), planeSize = window.InputSize, strideY = window.Stride(0), strideX = window.Stride(1);
        int outputHeight = window.Output(0), outputWidth = window.Output(1), present = Math.Min(4, channels - c0);
        // Up to 256 output columns at a time: a fixed stack buffer for any width.
        const int Chunk = 256;
        Span<byte> rows = stackalloc byte[4 * Chunk];
        ref byte i0 = ref MemoryMarshal.GetReference(image);
        ref byte r0 = ref MemoryMarshal.GetReference(rows);
        var evenBytes = Vector128.Create((ushort)0x00FF);
        for (int oy = 0; oy < outputHeight; oy++)
        {
            for (int first = 0; first < outputWidth; first += Chunk)
            {
                int count = Math.Min(Chunk, outputWidth - first);
                for (int i = 0; i < present; i++)
                {
                    ref byte source = ref Unsafe.Add(ref i0, (c0 + i) * planeSize + oy * strideY * width + first * strideX);
                    ref byte target = ref Unsafe.Add(ref r0, i * count);
                    int ox = 0;
                    // The 32 bytes read must stay in the row.
                    if (strideX == 2 && Sse2.IsSupported)
                        for (; 2 * (first + ox) + 32 <= width && ox + 16 <= count; ox += 16)
                        {
                            Vector128<ushort> low = Vector128.LoadUnsafe(ref source, (nuint)(2 * ox)).AsUInt16() & evenBytes;
                            Vector128<ushort> high = Vector128.LoadUnsafe(ref source, (nuint)(2 * ox + 16)).AsUInt16() & evenBytes;
                            Sse2.PackUnsignedSaturate(low.AsInt16(), high.AsInt16()).StoreUnsafe(ref target, (nuint)ox);
                        }
                    for (; ox < count; ox++) Unsafe.Add(ref target, ox) = Unsafe.Add(ref source, ox * strideX);
                }
                InterleaveRow(rows, present, 0, 0, count, 0, count, flip, padding, quads.Slice(oy * outputWidth + first, count), 0);
            }
        }
    }

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
