using System;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// The packed-operand sizes of the int8 GEMMs (<c>AotInfer.Kernels.Quantization.QuantizedMatrixMultiply</c> and
/// <c>Int8Gemm</c>), mirrored here because the compiler cannot reference the kernel library; the lowerings size
/// scratch with them and choose the kernel with <see cref="ByteGemmScheme"/>.
/// </summary>
internal static class QuantizedPacking
{
    /// <summary>Columns per packed B panel (<c>QuantizedMatrixMultiply.PanelColumns</c>).</summary>
    public const int PanelColumns = 16;

    /// <summary>int32 words of packed A: one per row and k pair.</summary>
    public static int PackedALength(int m, int k) => m * ((k + 1) / 2);

    /// <summary>int16 elements of packed B: panels of 16 columns, two values per k pair.</summary>
    public static int PackedBLength(int k, int n) => (n + PanelColumns - 1) / PanelColumns * PanelColumns * ((k + 1) / 2) * 2;

    /// <summary>Bytes of <c>Int8Gemm.PackRows</c> output: rows of K rounded up to 64.</summary>
    public static int PackedRowsLength(int m, int k) => m * ((k + 63) / 64 * 64);

    /// <summary>Bytes of <c>Int8Gemm.PackColumns</c> output: N rounded up to 16, K to 4.</summary>
    public static int PackedColumnsLength(int k, int n) => (n + 15) / 16 * 16 * ((k + 3) / 4 * 4);

    /// <summary>
    /// Ints of accumulator scratch <c>QuantizedConvolution.Im2ColGemmToBytes</c> needs (its <c>BlockAccumulatorLength</c>;
    /// the kernel checks it): one block of output positions (about 128 KB of int32, 64 to 1024 positions, a multiple of 16) per group output channel.
    /// </summary>
    public static int BlockAccumulatorLength(int groupOutChannels, int outputSize) =>
        groupOutChannels * Math.Min(Math.Min(Math.Max(32768 / Math.Max(groupOutChannels, 1) / 16 * 16, 64), 1024), outputSize);

    /// <summary>
    /// Ints of scratch <c>QuantizedDepthwise.Convolve2D</c> needs (its <c>ScratchLength</c>; the kernel checks it): the
    /// tap weights and offsets, stride×stride phase planes of (OH + ⌊(KH−1)·dh/sh⌋ + 1) rows of OW + ⌊(KW−1)·dw/sw⌋
    /// plus 16, and the output grid of OH rows of that pitch rounded up to 16, plus 16; or, when the padded extent the
    /// window covers is at most 16384 positions (and the taps at most 258), the larger of that and the channel-block
    /// path's 17 ints per tap, one per image position, one per output position, 15 to align its band on a cache line, 16
    /// per position of its band of padded rows and 4 per output position rounded up to 16. The band's rows are max(covered columns, left pad + W) positions; it holds all the
    /// covered rows while within 4096 positions, else span + 4·stride rows (span = (KH−1)·dh + 1), or more while within
    /// 512 positions, at most the covered rows.
    /// </summary>
    public static int DepthwiseScratchLength(Convolution.WindowGeometry g)
    {
        int rows = g.Output[0] + (g.Kernel[0] - 1) * g.Dilations[0] / g.Strides[0];
        int pitch = g.Output[1] + (g.Kernel[1] - 1) * g.Dilations[1] / g.Strides[1];
        int taps = g.Kernel[0] * g.Kernel[1];
        int phases = 2 * taps + g.Strides[0] * g.Strides[1] * ((rows + 1) * pitch + 16) + (g.Output[0] * pitch + 15) / 16 * 16 + 16;
        if (!DepthwiseChannelBlockFits(g)) return phases;
        int span = (g.Kernel[0] - 1) * g.Dilations[0] + 1, stride = g.Strides[0];
        int coveredRows = CoveredRows(g), coveredColumns = CoveredColumns(g);
        int bandPitch = Math.Max(coveredColumns, g.PadsBegin[1] + g.Input[1]);
        int bandRows = coveredRows * bandPitch <= 4096 ? coveredRows : Math.Min(coveredRows, Math.Max(span + 4 * stride, 512 / bandPitch));
        return Math.Max(phases, 17 * taps + g.Input[0] * g.Input[1] + g.Output[0] * g.Output[1] + 15 + 16 * bandRows * bandPitch + (g.Output[0] * g.Output[1] + 15) / 16 * 64);
    }

    /// <summary>
    /// Whether the channel-block path of <c>QuantizedDepthwise.Convolve2DRequantized</c> takes a layer of this geometry
    /// on AVX-512BW with VBMI (<c>QuantizedDepthwise.ChannelBlockFits</c>): a 2-D window of at most 258 taps whose
    /// covered padded extent is at most 16384 positions. Elsewhere the phase-plane path runs.
    /// </summary>
    public static bool DepthwiseChannelBlockFits(Convolution.WindowGeometry g) =>
        g.Rank == 2 && g.KernelSize <= 258 && (long)CoveredRows(g) * CoveredColumns(g) <= 16384;

    /// <summary>Rows of the padded image a 2-D window covers: (OH − 1)·sh + (KH − 1)·dh + 1.</summary>
    static int CoveredRows(Convolution.WindowGeometry g) => (g.Output[0] - 1) * g.Strides[0] + (g.Kernel[0] - 1) * g.Dilations[0] + 1;

    /// <summary>Columns of the padded image a 2-D window covers: (OW − 1)·sw + (KW − 1)·dw + 1.</summary>
    static int CoveredColumns(Convolution.WindowGeometry g) => (g.Output[1] - 1) * g.Strides[1] + (g.Kernel[1] - 1) * g.Dilations[1] + 1;

    /// <summary>
    /// Ints of scratch <c>Int8DirectConvolution</c> needs (its <c>ScratchLength</c>; the kernel checks it): the image as
    /// ⌈C/4⌉ planes of channel quads, each padded row split into stride phases of ⌈width/stride⌉ + 4 ints, one more
    /// row step (stride rows), 16 ints of slack, and one tap offset per channel quad and kernel position. One input
    /// channel: at least the horizontal tap layout (<see cref="SingleChannelConvolutionScratchLength"/>).
    /// </summary>
    public static int DirectConvolutionScratchLength(int inChannels, Convolution.WindowGeometry g)
    {
        int quads = (inChannels + 3) / 4;
        int height = CoveredRows(g), width = CoveredColumns(g);
        int rowInts = g.Strides[1] * ((width + g.Strides[1] - 1) / g.Strides[1] + 4);
        int channelQuads = quads * height * rowInts + g.Strides[0] * rowInts + 16 + quads * g.Kernel[0] * g.Kernel[1];
        return inChannels != 1 ? channelQuads : Math.Max(channelQuads, SingleChannelConvolutionScratchLength(g));
    }

    /// <summary>
    /// Ints of scratch <c>Int8SingleChannelConvolution</c> needs (its <c>ScratchLength</c>; the kernel checks it), and
    /// <c>Int8DirectConvolution</c> with one channel's weights as horizontal tap quads: ⌈KW/4⌉ planes of the padded rows
    /// (rounded up to whole stride phases) × OW quads, 16 ints of slack, one padded input row of bytes, and a tap offset
    /// per kernel row and quad.
    /// </summary>
    public static int SingleChannelConvolutionScratchLength(Convolution.WindowGeometry g)
    {
        int rowQuads = (g.Kernel[1] + 3) / 4, taps = g.Kernel[0] * rowQuads, height = CoveredRows(g);
        int rowBytes = (g.Output[1] - 1) * g.Strides[1] + (4 * rowQuads - 1) * g.Dilations[1] + 1;
        int planeInts = g.Strides[0] * ((height + g.Strides[0] - 1) / g.Strides[0] * g.Output[1]);
        return rowQuads * planeInts + 16 + (rowBytes + 3) / 4 + taps;
    }

    /// <summary>
    /// Ints of scratch <c>Int8PointwiseConvolution</c> needs (its <c>ScratchLength</c>; the kernel checks it): ⌈C/4⌉ rows
    /// of channel quads, each the pixels rounded up to 16 ints (at least 16: one vector reads past a narrower plane), or
    /// to whole blocks of 64 for planes of 64 pixels or more.
    /// </summary>
    public static int PointwiseConvolutionScratchLength(int inChannels, int pixels) =>
        (inChannels + 3) / 4 * (pixels >= 64 ? (pixels + 63) / 64 * 64 : (Math.Max(pixels, 1) + 15) / 16 * 16);

    /// <summary>
    /// Ints of scratch <c>Int8WinogradF2x3</c> needs (its <c>ScratchLength</c>; the kernel checks it), with 2×2 output
    /// tiles, ⌈OH/2⌉ × ⌈OW/2⌉, chunks of R = clamp(⌊64 / tiles per row⌋, 1, tile rows) tile rows and slots = the chunk's
    /// tiles rounded up to 16, plus 16: ⌈C/2⌉ padded planes of (2·tile rows + 2) × 2·(tiles per row + 1) ints plus 16,
    /// 16 positions × (⌈C/2⌉ · slots + 16) of V and 16 × 4 · slots of M, and 4 channels × 2R output rows.
    /// </summary>
    public static int WinogradScratchLength(int inChannels, Convolution.WindowGeometry g)
    {
        int tilesHigh = (g.Output[0] + 1) / 2, tilesWide = (g.Output[1] + 1) / 2, pairs = (inChannels + 1) / 2;
        int chunkRows = Math.Min(Math.Max(64 / tilesWide, 1), tilesHigh);
        int slots = (chunkRows * tilesWide + 15) / 16 * 16 + 16;
        int planeInts = (2 * tilesHigh + 2) * 2 * (tilesWide + 1);
        return pairs * planeInts + 16 + 16 * (pairs * slots + 16 + 4 * slots) + 4 * 2 * chunkRows * g.Output[1];
    }

    /// <summary>The largest |w − zw| of constant weights (rows × depth; zero points none, one, or one per row), −1 when the layout is not recognised.</summary>
    public static int LargestCentred(Tensor weights, Tensor? zeroPoints, int rows, int depth)
    {
        int[] w = Values(weights);
        int[] zeros = zeroPoints is null ? Array.Empty<int>() : Values(zeroPoints);
        if (w.Length < (long)rows * depth || (zeros.Length > 1 && zeros.Length != rows)) return -1;
        int largest = 0;
        for (int r = 0; r < rows; r++)
        {
            int zero = zeros.Length == 0 ? 0 : zeros[zeros.Length == 1 ? 0 : r];
            for (int k = 0; k < depth; k++) largest = Math.Max(largest, Math.Abs(w[r * depth + k] - zero));
        }
        return largest;
    }

    /// <summary>
    /// Whether every centred weight w − zw lies in [−128, 127], what the direct convolution (<c>Int8ConvWeights.Fits</c>)
    /// needs; weights are rows × depth, zero points none, one, or one per row.
    /// </summary>
    public static bool CentredFitsSignedByte(Tensor weights, Tensor? zeroPoints, int rows, int depth)
    {
        int[] w = Values(weights);
        int[] zeros = zeroPoints is null ? Array.Empty<int>() : Values(zeroPoints);
        if (w.Length < (long)rows * depth || (zeros.Length > 1 && zeros.Length != rows)) return false;
        for (int r = 0; r < rows; r++)
        {
            int zero = zeros.Length == 0 ? 0 : zeros[zeros.Length == 1 ? 0 : r];
            for (int k = 0; k < depth; k++)
                if (w[r * depth + k] - zero is < -128 or > 127) return false;
        }
        return true;
    }

    /// <summary>
    /// Which scheme the byte GEMM (<c>Int8Gemm</c>, <c>vpmaddubsw</c>) would use for these constant weights — "7-bit
    /// weights" when every |w − zw| ≤ 64, "sign transfer" when ≤ 127 or 128 for at most one weight in 16 (fixed up
    /// after the GEMM) — or null otherwise (the widening kernel is exact for any weights). Mirrors
    /// <c>Int8PackedWeights.CentredRange</c> and <c>Fits</c>. Weights are
    /// rows × depth, or depth × rows when <paramref name="transposed"/>; zero points: none, one, or one per row.
    /// </summary>
    public static string? ByteGemmScheme(Tensor weights, Tensor? zeroPoints, int rows, int depth, bool transposed) =>
        ByteGemmChoice(weights, zeroPoints, rows, depth, transposed).Scheme;

    /// <summary><see cref="ByteGemmScheme"/> with the reason for <c>inspect</c> when the byte GEMM cannot take the weights.</summary>
    public static (string? Scheme, string Reason) ByteGemmChoice(Tensor weights, Tensor? zeroPoints, int rows, int depth, bool transposed)
    {
        int[] w = Values(weights);
        int[] zeros = zeroPoints is null ? Array.Empty<int>() : Values(zeroPoints);
        if (w.Length < (long)rows * depth || (zeros.Length > 1 && zeros.Length != rows)) return (null, "weight or zero-point layout not recognised");
        int largest = 0, atLimit = 0;
        for (int r = 0; r < rows; r++)
        {
            int zero = zeros.Length == 0 ? 0 : zeros[zeros.Length == 1 ? 0 : r];
            for (int k = 0; k < depth; k++)
            {
                int magnitude = Math.Abs(w[transposed ? k * rows + r : r * depth + k] - zero);
                largest = Math.Max(largest, magnitude);
                if (magnitude == 128) atLimit++;
            }
        }
        if (largest <= 64) return ("7-bit weights", "");
        if (largest <= 127) return ("sign transfer", "");
        if (largest == 128 && atLimit * 16L <= (long)rows * depth) return ($"sign transfer, {atLimit} weights of ±128 fixed up", "");
        return (null, $"largest |w − zw| {largest}, {atLimit} of {(long)rows * depth} at 128");
    }

    // Typed reads: weight tensors can be large, and Tensor.ToInt64 boxes every element. Switch on the element type, not
    // on the array: the CLR lets an sbyte[] pass as byte[] (and the reverse), so a type pattern would misread int8.
    static int[] Values(Tensor tensor) => tensor.Type switch
    {
        DataType.UInt8 => Array.ConvertAll(tensor.As<byte>(), v => (int)v),
        DataType.Int8 => Array.ConvertAll(tensor.As<sbyte>(), v => (int)v),
        _ => Array.ConvertAll(tensor.ToInt64(), v => (int)Math.Max(int.MinValue, Math.Min(int.MaxValue, v))),
    };
}
