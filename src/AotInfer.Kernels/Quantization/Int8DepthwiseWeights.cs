using System;
using System.Numerics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The constant weights of a depthwise integer convolution packed once (at type initialisation of generated code) for
/// the channel-block path of <see cref="QuantizedDepthwise.Convolve2DRequantized{TX, TW, TOut}(ReadOnlySpan{TX}, ReadOnlySpan{TX}, Int8DepthwiseWeights{TW}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, Span{TOut}, Span{int}, int, int, int[])"/>:
/// per block of 16 channels, each tap's centred weights w − zw as floats, channel k of the block in lane k, and each
/// channel's Σ |w − zw| over its taps, what that path otherwise transposes and widens on every call (a sixth of DS-CNN's
/// 25×5 layers). The weights and zero points themselves stay for the other paths.
/// </summary>
/// <remarks>
/// Tap t of block b is floats [(b·Taps + t)·16, … + 16) of <see cref="TapWeights"/>, lane k holding
/// w[16b + k, t] − zw[16b + k]; lanes past the last channel are 0, so they add nothing.
/// </remarks>
public sealed class Int8DepthwiseWeights<TW> where TW : unmanaged, IBinaryInteger<TW>
{
    /// <summary>Channels per block, the lanes of one AVX-512 float vector.</summary>
    const int Lanes = 16;

    Int8DepthwiseWeights(TW[] weights, TW[] zeroPoints, int channels, int taps)
    {
        Weights = weights;
        ZeroPoints = zeroPoints;
        Channels = channels;
        Taps = taps;
        int blocks = (channels + Lanes - 1) / Lanes;
        TapWeights = new float[blocks * taps * Lanes];
        AbsoluteSums = new float[blocks * Lanes];
    }

    /// <summary>The weights as given: <see cref="Channels"/> × <see cref="Taps"/>.</summary>
    public TW[] Weights { get; }

    /// <summary>The weight zero points as given: none, one, or one per channel.</summary>
    public TW[] ZeroPoints { get; }

    /// <summary>Channels (each its own group).</summary>
    public int Channels { get; }

    /// <summary>Kernel positions (KH·KW).</summary>
    public int Taps { get; }

    /// <summary>Per block of 16 channels, per tap, the 16 channels' centred weights (see the remarks).</summary>
    internal float[] TapWeights { get; }

    /// <summary>Per block of 16 channels, Σ over the taps of |w − zw| for each channel (0 past the last).</summary>
    internal float[] AbsoluteSums { get; }

    /// <summary>
    /// Packs <paramref name="weights"/> (<paramref name="channels"/> × <paramref name="taps"/>, channel-major like
    /// ONNX's [C, 1, KH, KW]) with their zero points (none, one, or one per channel).
    /// </summary>
    public static Int8DepthwiseWeights<TW> Pack(TW[] weights, TW[] zeroPoints, int channels, int taps)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(zeroPoints);
        if (channels <= 0 || taps <= 0 || weights.Length != channels * taps)
            throw new ArgumentException($"{weights.Length} depthwise weights for {channels} channels of {taps} taps", nameof(weights));
        if (zeroPoints.Length > 1 && zeroPoints.Length != channels)
            throw new ArgumentException($"{zeroPoints.Length} weight zero points for {channels} channels", nameof(zeroPoints));
        var packed = new Int8DepthwiseWeights<TW>(weights, zeroPoints, channels, taps);
        for (int c = 0; c < channels; c++)
        {
            int zero = zeroPoints.Length == 0 ? 0 : int.CreateTruncating(zeroPoints[zeroPoints.Length == 1 ? 0 : c]);
            int block = c / Lanes, lane = c % Lanes;
            float sum = 0;
            for (int t = 0; t < taps; t++)
            {
                int centred = int.CreateTruncating(weights[c * taps + t]) - zero;
                packed.TapWeights[(block * taps + t) * Lanes + lane] = centred;
                sum += Math.Abs(centred);
            }
            packed.AbsoluteSums[block * Lanes + lane] = sum;
        }
        return packed;
    }
}
