using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
    /// each byte XOR <paramref name="flip"/>, padding <paramref name="padding"/> (already flipped).
    /// </summary>
    public static void Build(ReadOnlySpan<byte> image, HorizontalTapLayout layout, byte flip, byte padding, Span<int> destination)
    {
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
