using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="Int8DirectConvolution"/> on every tier this machine has, forced in turn, with and without AVX-VNNI,
/// against a convolution computed straight from the definition: channels 1…17 and multiples of 4, output widths across
/// the vector widths, kernels 1…5, strides 1…3, dilations, asymmetric and negative pads, u8/s8 images and weights,
/// every zero-point class (none, mid-range, random, per-channel, and weights spanning the whole signed byte range),
/// bias or none, batches; both the int32 output (ConvInteger) and the requantised bytes (QLinearConv, checked against
/// <see cref="Requantization.ToInteger{TOut}"/> of the reference sums). Results must be exact. One-channel layers
/// also run with their weights packed as horizontal tap quads (<see cref="Int8ConvWeights.PackSingleChannel{T}"/>),
/// kernels up to 10×9 (several quads per kernel row, a partial last one).
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8DirectConvolutionTests
{
    static IEnumerable<Int8ConvolutionCase> Cases(int count, int seed, bool singleChannel = false)
    {
        var random = new Random(seed);
        int made = 0;
        while (made < count)
        {
            int h = random.Next(1, 12), w = random.Next(1, 36), kh = random.Next(1, singleChannel ? 11 : 6), kw = random.Next(1, singleChannel ? 10 : 6);
            int sy = random.Next(1, 4), sx = random.Next(1, 4), dy = random.Next(1, 3), dx = random.Next(1, 3);
            // A negative pad crops: rare, but ONNX allows it.
            int[] pads = Enumerable.Range(0, 4).Select(_ => random.Next(12) == 0 ? -1 : random.Next(0, 3)).ToArray();
            int spanY = h + pads[0] + pads[2] - (kh - 1) * dy - 1, spanX = w + pads[1] + pads[3] - (kw - 1) * dx - 1;
            if (spanY < 0 || spanX < 0) continue;
            int oh = spanY / sy + 1, ow = spanX / sx + 1;
            int channels = singleChannel ? 1 : made < 17 ? made + 1 : random.Next(4) == 0 ? 4 * random.Next(1, 9) : random.Next(1, 18);
            int outChannels = made < 17 ? 17 - made : random.Next(1, 21), batch = random.Next(1, 3);
            int[] geometry = { 2, h, w, oh, ow, kh, kw, sy, sx, dy, dx, pads[0], pads[1], pads[2], pads[3] };
            string shape = $"image {h}x{w} kernel {kh}x{kw} strides {sy}x{sx} dilations {dy}x{dx} pads [{string.Join(",", pads)}]";
            yield return Int8ConvolutionChecks.Draw(random, made, batch, channels, outChannels, 1, geometry, shape, extremeImages: true);
            made++;
        }
    }

    /// <summary><see cref="Int8DirectConvolution"/> with its weights packed for the case (as horizontal tap quads when <paramref name="HorizontalTaps"/>).</summary>
    readonly record struct DirectKernel(bool HorizontalTaps) : IInt8ConvolutionUnderTest
    {
        Int8ConvWeights Pack<TW>(Int8ConvolutionCase t) where TW : unmanaged, IBinaryInteger<TW>
        {
            TW[] weights = t.W.Select(TW.CreateTruncating).ToArray(), zeroPoints = t.Zw.Select(TW.CreateTruncating).ToArray();
            return HorizontalTaps
                ? Int8ConvWeights.PackSingleChannel(weights, zeroPoints, t.OutChannels, t.Geometry[5], t.Geometry[6])
                : Int8ConvWeights.Pack(weights, zeroPoints, t.OutChannels, t.Channels, t.Geometry[5] * t.Geometry[6]);
        }

        // Scratch starts as garbage: the kernel must not depend on its contents.
        static int[] Scratch(Int8ConvolutionCase t) => Enumerable.Repeat(0x5A5A5A5A, Int8DirectConvolution.ScratchLength(t.Channels, t.Geometry)).ToArray();

        public int[]? Sums<TX, TW>(Int8ConvolutionCase t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
        {
            var y = new int[t.Batch * t.OutChannels * t.OutputSize];
            Int8DirectConvolution.Convolve<TX>(t.X.Select(TX.CreateTruncating).ToArray(), t.ZeroPoint<TX>(), Pack<TW>(t), t.Bias, y, Scratch(t), t.Batch, t.Geometry);
            return y;
        }

        public int[] Bytes<TX, TW, TY>(Int8ConvolutionCase t, float[] multipliers, int zeroPoint)
            where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
        {
            var y = new TY[t.Batch * t.OutChannels * t.OutputSize];
            Int8DirectConvolution.ConvolveToBytes<TX, TY>(t.X.Select(TX.CreateTruncating).ToArray(), t.ZeroPoint<TX>(), Pack<TW>(t), t.Bias, multipliers, zeroPoint, y,
                Scratch(t), t.Batch, t.Geometry);
            return y.Select(int.CreateTruncating).ToArray();
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionForShapesStridesPadsAndZeroPoints(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new DirectKernel(false), Cases(160, seed), seed, context), 3141, 2718));

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void OneChannelWithHorizontalTapQuadsMatchesTheDefinition(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new DirectKernel(true), Cases(120, seed, singleChannel: true), seed, context), 1618, 5772));

    [Fact]
    public void HorizontalTapQuadsHoldFourTapsOfAKernelRow()
    {
        // A 2×5 kernel: two quads per row (taps 0…3, then tap 4 and three zeros), centred by the zero point 10.
        sbyte[] weights = { 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
        var packed = Int8ConvWeights.PackSingleChannel(weights, new sbyte[] { 10 }, 1, 2, 5);
        Assert.Equal(4, packed.Quads);
        Assert.Equal(5, packed.KernelWidth);
        Assert.Equal(55, packed.RowSums[0]);
        var error = Assert.Throws<ArgumentException>(() => Int8DirectConvolution.Convolve<byte>(new byte[50], ReadOnlySpan<byte>.Empty, packed, ReadOnlySpan<int>.Empty,
            new int[50], new int[Int8DirectConvolution.ScratchLength(1, new[] { 2, 5, 10, 4, 6, 2, 5, 1, 1, 1, 1, 0, 0, 0, 0 })], 1, new[] { 2, 5, 10, 1, 1, 5, 2, 1, 1, 1, 1, 0, 0, 0, 0 }));
        Assert.Contains("kernel", error.Message);
    }

    [Fact]
    public void PackRejectsWeightsBeyondASignedByteFromTheirZeroPoint()
    {
        Assert.False(Int8ConvWeights.Fits<byte>(new byte[] { 0, 255 }, Array.Empty<byte>(), 1, 2));
        Assert.True(Int8ConvWeights.Fits<byte>(new byte[] { 0, 255 }, new byte[] { 128 }, 1, 2));
        var error = Assert.Throws<ArgumentException>(() => Int8ConvWeights.Pack(new byte[] { 0, 255 }, Array.Empty<byte>(), 1, 1, 2));
        Assert.Contains("signed byte", error.Message);
    }

    [Fact]
    public void RejectsTooSmallScratch()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var weights = Int8ConvWeights.Pack(new sbyte[18], Array.Empty<sbyte>(), 2, 1, 9);
        var error = Assert.Throws<ArgumentException>(() => Int8DirectConvolution.Convolve<byte>(new byte[25], ReadOnlySpan<byte>.Empty, weights,
            ReadOnlySpan<int>.Empty, new int[50], new int[Int8DirectConvolution.ScratchLength(1, geometry) - 1], 1, geometry));
        Assert.Contains("scratch", error.Message);
    }
}
