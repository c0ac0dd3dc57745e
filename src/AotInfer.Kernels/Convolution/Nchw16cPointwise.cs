using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// 1×1 stride-1 unpadded ungrouped convolution from <see cref="Nchw16c"/> images to <see cref="Nchw16c"/> images: the
/// pointwise layers of depthwise-separable blocks (DS-CNN, MobileNet). A tile is up to 8 pixels × two vectors of output
/// channels (two 16-channel blocks with AVX-512), accumulated over every input channel from a broadcast of each pixel's
/// input value into the weight vectors (<see cref="ChannelBlockedFilter"/>'s layout). In this layout a pixel's output
/// channels are one vector, so the bias, the fused residual (also NCHW16c) and Relu or Clip are applied as each vector
/// is stored, with no transpose back to NCHW, and the input pixels a tile broadcasts lie 16 floats apart in one block.
/// The input may instead be NCHW (any channel count): the layer that starts a chain, after a tensor that stays NCHW
/// (MobileNetV2's 24-channel stage), broadcasts from consecutive floats of each plane.
/// </summary>
public static unsafe class Nchw16cPointwise
{
    /// <summary>
    /// y = W·x + b (+ <paramref name="residual"/>, then <paramref name="activation"/>) over <paramref name="pixels"/>
    /// pixels of each image; x, y and the residual in NCHW16c, <paramref name="filter"/> packed from ONNX weights
    /// <c>[M, C, 1, 1]</c> by <see cref="ChannelBlockedFilter.Pack"/>; M a multiple of 16, and C too unless x is NCHW
    /// (<paramref name="nchwInput"/>).
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, ChannelBlockedFilter filter, ReadOnlySpan<float> bias, Span<float> y,
        int batch, int pixels, FusedActivation activation = default, ReadOnlySpan<float> residual = default, bool nchwInput = false)
    {
        ArgumentNullException.ThrowIfNull(filter);
        int inChannels = filter.InChannels, outChannels = filter.OutChannels;
        if (filter.Depth != inChannels) throw new ArgumentException("the filter was packed for a window larger than 1×1", nameof(filter));
        if (!nchwInput && inChannels % Nchw16c.Block != 0 || outChannels % Nchw16c.Block != 0)
            throw new ArgumentException($"{inChannels} input or {outChannels} output channels are not a multiple of {Nchw16c.Block}", nameof(filter));
        ChannelBlockArguments.CheckLengths(x, y, bias, residual, batch, inChannels, pixels, outChannels, pixels);
        bool clamps = ChannelBlockArguments.Clamps(activation, out float low, out float high);
        int lanes = filter.Lanes, blocks = filter.Blocks;
        float* pairBias = stackalloc float[2 * 16];
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pr = residual)
        {
            for (int n = 0; n < batch; n++)
            {
                for (int block = 0; block < blocks; block += 2)
                {
                    var (pair, first, _) = ChannelBlockArguments.Pair(block, blocks, lanes, outChannels, bias, pairBias);
                    long imageOut = (long)n * outChannels * pixels;
                    var tiles = new Tiles(px + (long)n * inChannels * pixels, filter.Block(block), pair == 2 ? filter.Block(block + 1) : null, pairBias,
                        inChannels, pixels, first, py + imageOut, pr == null ? null : pr + imageOut, low, high);
                    if (nchwInput) Tier<NchwInput>(filter.Tier, tiles);
                    else Tier<Nchw16cInput>(filter.Tier, tiles);
                }
            }
        }
        // Other activations are element-wise: the layout does not matter to them.
        if (!clamps) activation.Apply(y.Slice(0, batch * outChannels * pixels));
    }

    static void Tier<TInput>(GemmTier tier, in Tiles tiles) where TInput : IInputLayout
    {
        switch (tier)
        {
            case GemmTier.Avx512: Runs<ChannelVector512, Vector512<float>, TInput>(tiles); break;
            case GemmTier.Fma256: Runs<ChannelVector256, Vector256<float>, TInput>(tiles); break;
            case GemmTier.Vector128: Runs<ChannelVector128, Vector128<float>, TInput>(tiles); break;
            default: Runs<ChannelScalar, float, TInput>(tiles); break;
        }
    }

    /// <summary>
    /// How the input's channels and pixels lie: groups of <c>GroupSize</c> channels, group g starting g·GroupSize·pixels
    /// floats in, the channels of a group <c>ChannelStride</c> floats apart and the pixels <see cref="PixelStride"/> (a
    /// compile-time constant, so a tile's eight broadcasts keep constant offsets).
    /// </summary>
    interface IInputLayout
    {
        static abstract int PixelStride { get; }
        static abstract int GroupSize(int channels);
        static abstract int ChannelStride(int pixels);
    }

    /// <summary>NCHW16c: blocks of 16 channels one float apart, a block's pixels 16 floats apart.</summary>
    readonly struct Nchw16cInput : IInputLayout
    {
        public static int PixelStride => Nchw16c.Block;
        public static int GroupSize(int channels) => Nchw16c.Block;
        public static int ChannelStride(int pixels) => 1;
    }

    /// <summary>NCHW: one group of every channel, planes apart, pixels consecutive.</summary>
    readonly struct NchwInput : IInputLayout
    {
        public static int PixelStride => 1;
        public static int GroupSize(int channels) => channels;
        public static int ChannelStride(int pixels) => pixels;
    }

    /// <summary>What every tile of one pair of channel vectors shares.</summary>
    readonly struct Tiles(float* image, float* weights0, float* weights1, float* bias, int inChannels, int pixels, int first, float* output, float* residual, float low, float high)
    {
        public readonly float* Image = image, Weights0 = weights0, Weights1 = weights1, Bias = bias, Output = output, Residual = residual;
        public readonly int InChannels = inChannels, Pixels = pixels, First = first;
        public readonly float Low = low, High = high;
    }

    /// <summary>
    /// The pixels in equal runs of at most <see cref="IChannelVector{TVector}.MaxPixels"/>: 49 pixels (MobileNet's 7×7)
    /// are 7 runs of 7, not 6 of 8 and a last single pixel whose two accumulators would wait on each multiply-add.
    /// </summary>
    static void Runs<TOps, TVector, TInput>(in Tiles tiles) where TOps : IChannelVector<TVector> where TVector : struct where TInput : IInputLayout
    {
        bool pair = tiles.Weights1 != null;
        int runs = (tiles.Pixels + TOps.MaxPixels - 1) / TOps.MaxPixels, run = (tiles.Pixels + runs - 1) / runs;
        for (int p = 0; p < tiles.Pixels; p += run)
        {
            int count = Math.Min(run, tiles.Pixels - p);
            if (pair) Tile<TOps, TVector, TInput, Pixels2>(tiles, p, count);
            else Tile<TOps, TVector, TInput, Pixels1>(tiles, p, count);
        }
    }

    static void Tile<TOps, TVector, TInput, TVectors>(in Tiles tiles, int pixel, int count)
        where TOps : IChannelVector<TVector> where TVector : struct where TInput : IInputLayout where TVectors : IPixelCount
    {
        switch (count)
        {
            case 1: Tile<TOps, TVector, TInput, TVectors, Pixels1>(tiles, pixel); break;
            case 2: Tile<TOps, TVector, TInput, TVectors, Pixels2>(tiles, pixel); break;
            case 3: Tile<TOps, TVector, TInput, TVectors, Pixels3>(tiles, pixel); break;
            case 4: Tile<TOps, TVector, TInput, TVectors, Pixels4>(tiles, pixel); break;
            case 5: Tile<TOps, TVector, TInput, TVectors, Pixels5>(tiles, pixel); break;
            case 6: Tile<TOps, TVector, TInput, TVectors, Pixels6>(tiles, pixel); break;
            case 7: Tile<TOps, TVector, TInput, TVectors, Pixels7>(tiles, pixel); break;
            case 8: Tile<TOps, TVector, TInput, TVectors, Pixels8>(tiles, pixel); break;
            default: throw new ArgumentOutOfRangeException(nameof(count), count, "more pixels than the tile holds");
        }
    }

    /// <summary>
    /// One tile: TPixels pixels from <paramref name="pixel"/> × TVectors vectors of output channels (a for the first,
    /// b for the second), accumulated over the input channels, block by block, then stored.
    /// </summary>
    static void Tile<TOps, TVector, TInput, TVectors, TPixels>(in Tiles tiles, int pixel)
        where TOps : IChannelVector<TVector> where TVector : struct where TInput : IInputLayout where TVectors : IPixelCount where TPixels : IPixelCount
    {
        int B = TInput.PixelStride, group = TInput.GroupSize(tiles.InChannels), step = TInput.ChannelStride(tiles.Pixels);
        int lanes = TOps.Lanes, pixels = TPixels.Count;
        bool two = TVectors.Count == 2;
        TVector bias0 = TOps.Load(tiles.Bias), bias1 = TOps.Load(tiles.Bias + lanes);
        TVector a0 = bias0, a1 = bias0, a2 = bias0, a3 = bias0, a4 = bias0, a5 = bias0, a6 = bias0, a7 = bias0;
        TVector b0 = bias1, b1 = bias1, b2 = bias1, b3 = bias1, b4 = bias1, b5 = bias1, b6 = bias1, b7 = bias1;
        float* w0 = tiles.Weights0, w1 = two ? tiles.Weights1 : tiles.Weights0;
        for (int c0 = 0; c0 < tiles.InChannels; c0 += group)
        {
            // A group of channels starts c0 · pixels floats in (an NCHW16c block, or the one NCHW group at 0).
            float* p = tiles.Image + (long)c0 * tiles.Pixels + pixel * B;
            for (int c = 0; c < group; c++, p += step, w0 += lanes, w1 += lanes)
            {
                TVector wa = TOps.Load(w0), wb = two ? TOps.Load(w1) : wa;
                Step<TOps, TVector, TVectors>(ref a0, ref b0, p[0], wa, wb);
                if (pixels > 1) Step<TOps, TVector, TVectors>(ref a1, ref b1, p[B], wa, wb);
                if (pixels > 2) Step<TOps, TVector, TVectors>(ref a2, ref b2, p[2 * B], wa, wb);
                if (pixels > 3) Step<TOps, TVector, TVectors>(ref a3, ref b3, p[3 * B], wa, wb);
                if (pixels > 4) Step<TOps, TVector, TVectors>(ref a4, ref b4, p[4 * B], wa, wb);
                if (pixels > 5) Step<TOps, TVector, TVectors>(ref a5, ref b5, p[5 * B], wa, wb);
                if (pixels > 6) Step<TOps, TVector, TVectors>(ref a6, ref b6, p[6 * B], wa, wb);
                if (pixels > 7) Step<TOps, TVector, TVectors>(ref a7, ref b7, p[7 * B], wa, wb);
            }
        }
        var store = new Epilogue<TVector>(tiles, TOps.Broadcast(tiles.Low), TOps.Broadcast(tiles.High));
        Store<TOps, TVector, TVectors>(store, pixel, a0, b0);
        if (pixels > 1) Store<TOps, TVector, TVectors>(store, pixel + 1, a1, b1);
        if (pixels > 2) Store<TOps, TVector, TVectors>(store, pixel + 2, a2, b2);
        if (pixels > 3) Store<TOps, TVector, TVectors>(store, pixel + 3, a3, b3);
        if (pixels > 4) Store<TOps, TVector, TVectors>(store, pixel + 4, a4, b4);
        if (pixels > 5) Store<TOps, TVector, TVectors>(store, pixel + 5, a5, b5);
        if (pixels > 6) Store<TOps, TVector, TVectors>(store, pixel + 6, a6, b6);
        if (pixels > 7) Store<TOps, TVector, TVectors>(store, pixel + 7, a7, b7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step<TOps, TVector, TVectors>(ref TVector a, ref TVector b, float input, TVector wa, TVector wb)
        where TOps : IChannelVector<TVector> where TVector : struct where TVectors : IPixelCount
    {
        TVector v = TOps.Broadcast(input);
        a = TOps.MultiplyAdd(v, wa, a);
        if (TVectors.Count == 2) b = TOps.MultiplyAdd(v, wb, b);
    }

    /// <summary>The store's targets and clamp bounds.</summary>
    readonly struct Epilogue<TVector>(in Tiles tiles, TVector low, TVector high) where TVector : struct
    {
        public readonly float* Output = tiles.Output, Residual = tiles.Residual;
        public readonly int Pixels = tiles.Pixels, First = tiles.First;
        public readonly TVector Low = low, High = high;
    }

    /// <summary>One pixel's vectors (+ the residual, clamped) to their places in the NCHW16c output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<TOps, TVector, TVectors>(in Epilogue<TVector> e, int pixel, TVector a, TVector b)
        where TOps : IChannelVector<TVector> where TVector : struct where TVectors : IPixelCount
    {
        Store<TOps, TVector>(e, Nchw16c.Offset(e.First, pixel, e.Pixels), a);
        if (TVectors.Count == 2) Store<TOps, TVector>(e, Nchw16c.Offset(e.First + TOps.Lanes, pixel, e.Pixels), b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<TOps, TVector>(in Epilogue<TVector> e, long offset, TVector value) where TOps : IChannelVector<TVector> where TVector : struct
    {
        if (e.Residual != null) value = TOps.Add(value, TOps.Load(e.Residual + offset));
        TOps.Store(TOps.Clamp(value, e.Low, e.High), e.Output + offset);
    }
}
