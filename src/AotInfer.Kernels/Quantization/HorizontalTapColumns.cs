using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// Where a one-channel byte image lives once laid out for <see cref="Int8DirectConvolution"/> with horizontal tap
/// quads (<see cref="Int8ConvWeights.PackSingleChannel{T}"/>): for each quad of kernel columns kq (taps 4·kq…4·kq+3)
/// and each padded input row, the quads the <c>OW</c> output columns read there, one int each; the padded rows split
/// into <c>strideY</c> phases by row (y mod strideY). Output position p = oy·OW + ox at kernel row ky then reads int
/// <see cref="TapOffset"/>(ky, kq) + p: the quads of consecutive output positions are consecutive ints whatever the
/// output width, so pixel vectors run over the whole output plane. Layout (ints):
/// <c>[kq][phase][padded row / strideY][ox]</c>, <see cref="Slack"/>, then one padded input row of bytes.
/// </summary>
/// <remarks>
/// One channel in the channel-quad layout (<see cref="QuadImageLayout"/>) leaves three bytes of every quad as padding:
/// a 10×4 kernel costs 40 quads per pixel there and 10 here. Each padded row is cut once, however many kernel rows
/// read it.
/// </remarks>
internal readonly struct HorizontalTapLayout
{
    /// <summary>Ints a vector load may read past the last quad a valid output position uses (one 512-bit vector).</summary>
    public const int Slack = 16;

    public HorizontalTapLayout(Window window)
    {
        Window = window;
        RowQuads = Int8ConvWeights.HorizontalQuads(window.Kernel(1));
        Quads = window.Kernel(0) * RowQuads;
        StrideY = window.Stride(0);
        Height = (window.Output(0) - 1) * StrideY + (window.Kernel(0) - 1) * window.Dilation(0) + 1;
        PhaseInts = (Height + StrideY - 1) / StrideY * window.Output(1);
        // The last byte a window reads: tap 4·RowQuads − 1 (past KW only in weights that are zero) of the last output column.
        RowBytes = (window.Output(1) - 1) * window.Stride(1) + (4 * RowQuads - 1) * window.Dilation(1) + 1;
    }

    public Window Window { get; }

    /// <summary>Quads per kernel row: ⌈KW / 4⌉.</summary>
    public int RowQuads { get; }

    /// <summary>Quads per output position: KH · ⌈KW / 4⌉.</summary>
    public int Quads { get; }

    public int StrideY { get; }

    /// <summary>Padded rows the windows read.</summary>
    public int Height { get; }

    /// <summary>Ints per row phase: ⌈Height / strideY⌉ rows of OW quads.</summary>
    public int PhaseInts { get; }

    /// <summary>Bytes of one padded input row as the windows read it.</summary>
    public int RowBytes { get; }

    /// <summary>Ints per quad of kernel columns (all its phases).</summary>
    public int PlaneInts => StrideY * PhaseInts;

    /// <summary>Ints the quads, the slack and the padded row need.</summary>
    public int Length => RowQuads * PlaneInts + Slack + (RowBytes + 3) / 4;

    /// <summary>What output position p adds to read its quad of kernel row <paramref name="ky"/>, columns 4·kq…4·kq+3.</summary>
    public int TapOffset(int ky, int kq)
    {
        int y = ky * Window.Dilation(0);
        return kq * PlaneInts + y % StrideY * PhaseInts + y / StrideY * Window.Output(1);
    }
}

/// <summary>Builds the <see cref="HorizontalTapLayout"/> of one byte image.</summary>
internal static class HorizontalTapColumns
{
    /// <summary>
    /// Lays out the one-channel <paramref name="image"/> in <paramref name="layout"/> at <paramref name="destination"/>:
    /// each byte XOR <paramref name="flip"/>, padding <paramref name="padding"/> (already flipped). Padded rows of up
    /// to 64 bytes are cut in registers where <paramref name="tier"/> is AVX-512's and the CPU has VBMI (<see cref="PermutedRows"/>).
    /// </summary>
    public static void Build(ReadOnlySpan<byte> image, HorizontalTapLayout layout, byte flip, byte padding, Span<int> destination, QuantizedGemmTier tier)
    {
        if (tier >= QuantizedGemmTier.Avx512BW && Avx512Vbmi.IsSupported && layout.RowBytes <= 64)
        {
            PermutedRows(image, layout, flip, padding, destination);
            return;
        }
        Window window = layout.Window;
        int height = window.Input(0), width = window.Input(1), top = window.PadBegin(0), left = window.PadBegin(1);
        int outputWidth = window.Output(1), strideX = window.Stride(1), dilationX = window.Dilation(1), strideY = layout.StrideY;
        int padQuad = padding * 0x01010101, planes = layout.RowQuads * layout.PlaneInts;
        Span<byte> row = MemoryMarshal.AsBytes(destination.Slice(planes + HorizontalTapLayout.Slack, (layout.RowBytes + 3) / 4)).Slice(0, layout.RowBytes);
        ref byte r0 = ref MemoryMarshal.GetReference(row);
        // Padded row byte j is image column j − left; negative pads (cropping) clip the image instead.
        int x0 = Math.Max(0, -left), x1 = Math.Min(width, layout.RowBytes - left);
        for (int i = 0; i < Math.Min(x0 + left, layout.RowBytes); i++) Unsafe.Add(ref r0, i) = padding;
        for (int i = Math.Max(0, x1 + left); i < layout.RowBytes; i++) Unsafe.Add(ref r0, i) = padding;
        for (int py = 0; py < layout.Height; py++)
        {
            int y = py - top, at = py % strideY * layout.PhaseInts + py / strideY * outputWidth;
            if (y < 0 || y >= height || x1 <= x0)
            {
                for (int kq = 0; kq < layout.RowQuads; kq++) destination.Slice(kq * layout.PlaneInts + at, outputWidth).Fill(padQuad);
                continue;
            }
            // The pads of the row buffer were written once above; only the image columns change from row to row.
            ref byte source = ref Unsafe.Add(ref MemoryMarshal.GetReference(image), y * width);
            for (int x = x0; x < x1; x++) Unsafe.Add(ref r0, x + left) = (byte)(Unsafe.Add(ref source, x) ^ flip);
            for (int kq = 0; kq < layout.RowQuads; kq++)
                Cut(ref r0, 4 * kq * dilationX, strideX, dilationX, destination.Slice(kq * layout.PlaneInts + at, outputWidth));
        }
    }

    /// <summary>
    /// <see cref="Build"/> for padded rows of up to 64 bytes, on AVX-512 VBMI: each padded row is one vector (the image
    /// row's bytes moved into place by one <c>vpermb</c>, the pads blended in), and each vector of 16 quads one more
    /// <c>vpermb</c> of it, stored whole. Each store may run up to 15 ints past the row's quads; the rows are written in
    /// address order (plane, phase, row), so what it overwrites is written afterwards, or is the layout's slack.
    /// </summary>
    /// <remarks>
    /// Writing the padded row a byte at a time and reading its quads back as ints made each quad load wait for the byte
    /// stores it spans (a load over several pending stores is not forwarded): 0.47 µs for DS-CNN's stem (58 padded rows
    /// of 12 bytes, 290 quads), against 0.07 µs here (0.2 µs while the small image's copy, a call, came after the vectors
    /// were made: the JIT then kept them on the stack and reloaded them every row).
    /// </remarks>
    static void PermutedRows(ReadOnlySpan<byte> image, HorizontalTapLayout layout, byte flip, byte padding, Span<int> destination)
    {
        // An image of fewer than 64 bytes is read from a copy, so that every row can load a whole vector. (Copied before
        // the vectors below exist: they would not stay in registers across the call.)
        var buffer = new RowBuffer();
        bool small = image.Length < 64;
        if (small) image.CopyTo(buffer);
        ref byte x = ref small ? ref buffer[0] : ref MemoryMarshal.GetReference(image);
        int last = Math.Max(image.Length, 64) - 64;
        Window window = layout.Window;
        int height = window.Input(0), width = window.Input(1), top = window.PadBegin(0), left = window.PadBegin(1);
        int outputWidth = window.Output(1), strideX = window.Stride(1), dilationX = window.Dilation(1), strideY = layout.StrideY;
        // Padded byte j is image column j − left: the vector loaded from column x0 supplies bytes [before, after).
        int x0 = Math.Max(0, -left), x1 = Math.Min(width, layout.RowBytes - left);
        int before = Math.Min(Math.Max(x0 + left, 0), 64), after = Math.Max(before, x1 + left);
        Vector512<byte> lanes = Vector512<byte>.Indices;
        Vector512<byte> rowIndex = lanes - Vector512.Create((byte)before);
        Vector512<byte> inImage = Vector512.GreaterThanOrEqual(lanes, Vector512.Create((byte)before)) & Vector512.LessThan(lanes, Vector512.Create((byte)after));
        Vector512<byte> pads = Vector512.Create(padding), flips = Vector512.Create(flip);
        // Quad ox of a vector of 16 takes the padded bytes ox·strideX + i·dilationX, i = 0…3 (wrapping past 64 only for ox ≥ OW).
        Vector512<byte> cut = (lanes >> 2) * Vector512.Create((byte)strideX) + (lanes & Vector512.Create((byte)3)) * Vector512.Create((byte)dilationX);
        Vector512<byte> nextQuads = Vector512.Create((byte)(16 * strideX)), nextKernelQuad = Vector512.Create((byte)(4 * dilationX));
        ref int d = ref MemoryMarshal.GetReference(destination);
        int valid = x1 > x0 ? height : 0;
        // Rows in address order (plane, phase, row), for the stores that run past a row's quads.
        for (int kq = 0; kq < layout.RowQuads; kq++, cut += nextKernelQuad)
            for (int phase = 0; phase < strideY; phase++)
                for (int py = phase, to = kq * layout.PlaneInts + phase * layout.PhaseInts; py < layout.Height; py += strideY, to += outputWidth)
                {
                    int y = py - top;
                    Vector512<byte> row = pads;
                    if ((uint)y < (uint)valid)
                    {
                        // A row within 64 bytes of the image's end loads the last 64 bytes and moves its bytes further.
                        int start = y * width + x0, shift = Math.Max(0, start - last);
                        Vector512<byte> source = Vector512.LoadUnsafe(ref x, (nuint)(start - shift)) ^ flips;
                        row = Vector512.ConditionalSelect(inImage, Avx512Vbmi.PermuteVar64x8(source, rowIndex + Vector512.Create((byte)shift)), pads);
                    }
                    Vector512<byte> columns = cut;
                    for (int ox = 0; ox < outputWidth; ox += 16, columns += nextQuads)
                        Avx512Vbmi.PermuteVar64x8(row, columns).AsInt32().StoreUnsafe(ref d, (nuint)(to + ox));
                }
    }

    /// <summary>An image of fewer than 64 bytes, copied so that every row can load a whole vector.</summary>
    [InlineArray(64)]
    struct RowBuffer
    {
        byte _first;
    }

    /// <summary>quads[ox] = the row's bytes at start + ox·stride + i·dilation for i = 0…3 (byte i).</summary>
    static void Cut(ref byte row, int start, int stride, int dilation, Span<int> quads)
    {
        ref byte first = ref Unsafe.Add(ref row, start);
        if (dilation == 1)
        {
            for (int ox = 0; ox < quads.Length; ox++) quads[ox] = Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref first, ox * stride));
            return;
        }
        for (int ox = 0; ox < quads.Length; ox++)
        {
            ref byte b = ref Unsafe.Add(ref first, ox * stride);
            quads[ox] = b | Unsafe.Add(ref b, dilation) << 8 | Unsafe.Add(ref b, 2 * dilation) << 16 | Unsafe.Add(ref b, 3 * dilation) << 24;
        }
    }
}
