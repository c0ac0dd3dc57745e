using System;
using System.Numerics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The constant weights of a k×k integer convolution packed once (at type initialisation of generated code) for
/// <see cref="Int8DirectConvolution"/>: each output channel's centred weights w − zw as sbyte, four input channels at
/// one kernel position per int32 "quad" (the four bytes <c>vpdpbusd</c> multiplies with one lane of activations), and
/// the quads of four output channels side by side, so a tile broadcasts its four weight quads from one 16-byte line.
/// </summary>
/// <remarks>
/// Quad q = cq·KernelSize + (ky·KW + kx) holds w[r, 4·cq + i, ky, kx] − zw[r] in byte i; input channels past the
/// last and output channels past the last (up to a multiple of four) are zero, so they add nothing. Weights of one
/// input channel packed by <see cref="PackSingleChannel{T}"/> hold four horizontal taps per quad instead: quad
/// q = ky·⌈KW/4⌉ + kx/4 holds w[r, 0, ky, kx] − zw[r] in byte kx mod 4 (taps past KW zero), a quarter of the quads
/// the channel layout would spend on one channel.
/// Unlike <see cref="Int8PackedWeights"/> nothing is clamped: <c>vpdpbusd</c> and the widening tiers multiply any
/// sbyte exactly, so the weights only have to fit in [−128, 127] once centred (<see cref="Fits{T}"/>).
/// </remarks>
public sealed class Int8ConvWeights
{
    Int8ConvWeights(int outChannels, int inChannels, int kernelSize, int kernelWidth)
    {
        OutChannels = outChannels;
        InChannels = inChannels;
        KernelSize = kernelSize;
        KernelWidth = kernelWidth;
        Quads = kernelWidth > 0 ? kernelSize / kernelWidth * HorizontalQuads(kernelWidth) : (inChannels + 3) / 4 * kernelSize;
        Values = new int[(outChannels + 3) / 4 * Quads * 4];
        RowSums = new int[outChannels];
    }

    /// <summary>Output channels (weight rows).</summary>
    public int OutChannels { get; }

    /// <summary>Input channels the kernel reads (one group's).</summary>
    public int InChannels { get; }

    /// <summary>Kernel positions (KH·KW).</summary>
    public int KernelSize { get; }

    /// <summary>
    /// The kernel width when each quad holds four horizontal taps of the one input channel (<see cref="PackSingleChannel{T}"/>),
    /// 0 when it holds four input channels at one kernel position (<see cref="Pack{T}"/>).
    /// </summary>
    public int KernelWidth { get; }

    /// <summary>Quads per output channel: ⌈InChannels / 4⌉ · KernelSize, or KH · ⌈KW / 4⌉ for horizontal tap quads.</summary>
    public int Quads { get; }

    /// <summary>Blocks of four output channels × <see cref="Quads"/> × four quads (one per channel of the block).</summary>
    internal int[] Values { get; }

    /// <summary>Σ of each output channel's centred weights: folds the activation zero point into one offset per channel.</summary>
    public int[] RowSums { get; }

    /// <summary>
    /// Whether every centred weight w − zw lies in [−128, 127] (what <see cref="Pack{T}"/> needs). Weights are
    /// <paramref name="outChannels"/> × <paramref name="depth"/>; zero points: none, one, or one per output channel.
    /// </summary>
    public static bool Fits<T>(ReadOnlySpan<T> weights, ReadOnlySpan<T> zeroPoints, int outChannels, int depth) where T : IBinaryInteger<T>
    {
        for (int r = 0; r < outChannels; r++)
        {
            int zero = ZeroPoint(zeroPoints, r);
            for (int k = 0; k < depth; k++)
            {
                int value = int.CreateTruncating(weights[r * depth + k]) - zero;
                if (value is < sbyte.MinValue or > sbyte.MaxValue) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Packs ONNX convolution weights <c>[M, C, KH, KW]</c> (<paramref name="outChannels"/> = M,
    /// <paramref name="inChannels"/> = C, <paramref name="kernelSize"/> = KH·KW) with their zero points (none, one, or
    /// one per output channel). Throws when the weights do not <see cref="Fits{T}"/>.
    /// </summary>
    public static Int8ConvWeights Pack<T>(T[] weights, T[] zeroPoints, int outChannels, int inChannels, int kernelSize) where T : IBinaryInteger<T> =>
        Fill(new Int8ConvWeights(outChannels, inChannels, kernelSize, 0), weights, zeroPoints);

    /// <summary>
    /// Packs the weights <c>[M, 1, KH, KW]</c> of a layer with one input channel as horizontal tap quads (see the
    /// remarks), for <see cref="Int8DirectConvolution"/>'s single-channel path. Throws when the weights do not <see cref="Fits{T}"/>.
    /// </summary>
    public static Int8ConvWeights PackSingleChannel<T>(T[] weights, T[] zeroPoints, int outChannels, int kernelHeight, int kernelWidth) where T : IBinaryInteger<T>
    {
        if (kernelHeight <= 0 || kernelWidth <= 0) throw new ArgumentException($"kernel {kernelHeight}×{kernelWidth} must be positive");
        return Fill(new Int8ConvWeights(outChannels, 1, kernelHeight * kernelWidth, kernelWidth), weights, zeroPoints);
    }

    /// <summary>Quads of horizontal taps per kernel row of width <paramref name="kernelWidth"/>.</summary>
    internal static int HorizontalQuads(int kernelWidth) => (kernelWidth + 3) / 4;

    /// <summary>Writes the centred weights into <paramref name="packed"/>'s quads (by its layout) and their row sums.</summary>
    static Int8ConvWeights Fill<T>(Int8ConvWeights packed, T[] weights, T[] zeroPoints) where T : IBinaryInteger<T>
    {
        int outChannels = packed.OutChannels, inChannels = packed.InChannels, kernelSize = packed.KernelSize, kernelWidth = packed.KernelWidth;
        int depth = inChannels * kernelSize;
        if (weights.Length < outChannels * depth) throw new ArgumentException($"weights hold {weights.Length} values, expected {outChannels}×{inChannels}×{kernelSize}");
        if (zeroPoints.Length is not (0 or 1) && zeroPoints.Length != outChannels) throw new ArgumentException($"expected 0, 1 or {outChannels} zero points, got {zeroPoints.Length}");
        if (!Fits<T>(weights, zeroPoints, outChannels, depth)) throw new ArgumentException("a weight differs from its zero point by more than a signed byte holds");
        Span<byte> bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(packed.Values.AsSpan());
        for (int r = 0; r < outChannels; r++)
        {
            int zero = ZeroPoint<T>(zeroPoints, r), sum = 0;
            for (int c = 0; c < inChannels; c++)
            {
                for (int p = 0; p < kernelSize; p++)
                {
                    int value = int.CreateTruncating(weights[(r * inChannels + c) * kernelSize + p]) - zero;
                    // Channel quads: four channels at kernel position p. Horizontal quads: taps kx…kx+3 of kernel row ky.
                    int quad = kernelWidth > 0 ? p / kernelWidth * HorizontalQuads(kernelWidth) + p % kernelWidth / 4 : c / 4 * kernelSize + p;
                    int lane = kernelWidth > 0 ? p % kernelWidth % 4 : c % 4;
                    bytes[((r / 4 * packed.Quads + quad) * 4 + r % 4) * 4 + lane] = (byte)(sbyte)value;
                    sum += value;
                }
            }
            packed.RowSums[r] = sum;
        }
        return packed;
    }

    static int ZeroPoint<T>(ReadOnlySpan<T> zeroPoints, int row) where T : IBinaryInteger<T> =>
        zeroPoints.IsEmpty ? 0 : int.CreateTruncating(zeroPoints[zeroPoints.Length == 1 ? 0 : row]);
}
