using System;
using System.Runtime.CompilerServices;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Constant weights of an ungrouped 2-D convolution laid out for <see cref="ChannelBlockedConvolution"/>:
/// <c>[M/L blocks][C][KH][KW][L]</c>, L output channels of one tap side by side (L = the tier's vector lanes), the
/// channels past M zero. With it comes each tap's offset into the image the kernel reads (the zero-bordered copy, or the
/// image itself when the window needs no padding). Generated code builds one per layer at type initialisation: the
/// layout depends on the CPU, so it cannot be baked in at build time.
/// </summary>
public sealed unsafe class ChannelBlockedFilter
{
    readonly float[] _data;
    readonly int _offset;
    readonly int[] _taps;

    ChannelBlockedFilter(GemmTier tier, int lanes, int outChannels, int inChannels, int[] geometry, float[] data, int offset, int[] taps)
    {
        Tier = tier;
        Lanes = lanes;
        OutChannels = outChannels;
        InChannels = inChannels;
        Geometry = geometry;
        _data = data;
        _offset = offset;
        _taps = taps;
    }

    /// <summary>The tier whose vector width this layout feeds.</summary>
    public GemmTier Tier { get; }

    /// <summary>Output channels per block (the tier's vector lanes).</summary>
    public int Lanes { get; }

    /// <summary>Output channels M.</summary>
    public int OutChannels { get; }

    /// <summary>Input channels C.</summary>
    public int InChannels { get; }

    /// <summary>The packed window geometry the tap offsets were computed for.</summary>
    internal int[] Geometry { get; }

    /// <summary>Channel blocks: ⌈M / L⌉.</summary>
    public int Blocks => (OutChannels + Lanes - 1) / Lanes;

    /// <summary>C × KH × KW: the multiply-adds per output value.</summary>
    internal int Depth => _taps.Length;

    /// <summary>The packed weights of block <paramref name="block"/>: Depth vectors of L floats.</summary>
    internal float* Block(int block) => (float*)Unsafe.AsPointer(ref _data[_offset]) + (long)block * Depth * Lanes;

    /// <summary>Tap t = (c, kh, kw) reads the image at this offset from its output pixel's first tap.</summary>
    internal int* TapOffsets => (int*)Unsafe.AsPointer(ref _taps[0]);

    /// <summary>Output channels per vector on <paramref name="tier"/>: the channel block of the packed layouts.</summary>
    internal static int LanesOf(GemmTier tier) => tier switch
    {
        GemmTier.Avx512 => ChannelVector512.Lanes,
        GemmTier.Fma256 => ChannelVector256.Lanes,
        GemmTier.Vector128 => ChannelVector128.Lanes,
        _ => ChannelScalar.Lanes,
    };

    /// <summary>
    /// Packs ONNX Conv weights <c>[M, C, KH, KW]</c> (group 1) for the current <see cref="MatrixMultiply.Tier"/> and
    /// the 2-D window <paramref name="geometry"/> (the packed geometry the compiler emits).
    /// </summary>
    public static ChannelBlockedFilter Pack(ReadOnlySpan<float> weights, int outChannels, int[] geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var window = new Window2D(new Window(geometry));
        int taps = window.Taps;
        if (outChannels <= 0 || weights.Length == 0 || weights.Length % (outChannels * taps) != 0)
            throw new ArgumentException($"weights have {weights.Length} elements, not {outChannels} output channels × C × {window.KernelHeight}×{window.KernelWidth}", nameof(weights));
        int inChannels = weights.Length / (outChannels * taps), depth = inChannels * taps;
        var tier = MatrixMultiply.Tier;
        int lanes = LanesOf(tier);
        int blocks = (outChannels + lanes - 1) / lanes;
        var data = AlignedFloats.Allocate(blocks * depth * lanes, out int offset);
        for (int m = 0; m < outChannels; m++)
        {
            int block = m / lanes, lane = m - block * lanes;
            for (int t = 0; t < depth; t++) data[offset + ((long)block * depth + t) * lanes + lane] = weights[m * depth + t];
        }
        var tapOffsets = GC.AllocateArray<int>(depth, pinned: true);
        ChannelBlockedConvolution.Source(window, out int pitch, out int planeSize);
        for (int c = 0, t = 0; c < inChannels; c++)
            for (int kh = 0; kh < window.KernelHeight; kh++)
                for (int kw = 0; kw < window.KernelWidth; kw++, t++)
                    tapOffsets[t] = c * planeSize + kh * window.DilationHeight * pitch + kw * window.DilationWidth;
        return new ChannelBlockedFilter(tier, lanes, outChannels, inChannels, (int[])geometry.Clone(), data, offset, tapOffsets);
    }
}
