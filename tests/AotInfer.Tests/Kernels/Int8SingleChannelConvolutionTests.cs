using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="Int8SingleChannelConvolution"/> on every tier this machine has, forced in turn, with and without AVX-VNNI,
/// against a convolution computed straight from the definition (requantised by <see cref="Requantization.ToInteger{TOut}"/>):
/// one input channel, kernels 1×1…10×9 (kernel rows of one to three quads, partial last ones), strides 1…3, dilations,
/// asymmetric and negative pads, planes narrower than one vector up to several tiles, images of fewer than 64 bytes
/// and rows wider than 64 padded bytes (the two ways the image is laid out), output channels 1…17 (partial blocks of
/// four), u8/s8 images and weights, every zero-point class, bias or none, batches. Results must be exact; the DS-CNN
/// stem also gives the same bytes as <see cref="Int8DirectConvolution"/>.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8SingleChannelConvolutionTests
{
    static IEnumerable<Int8ConvolutionCase> Cases(int count, int seed)
    {
        var random = new Random(seed);
        int made = 0;
        while (made < count)
        {
            // Every fourth image is wide enough for padded rows past 64 bytes.
            int h = random.Next(1, 16), w = made % 4 == 3 ? random.Next(60, 90) : random.Next(1, 36), kh = random.Next(1, 11), kw = random.Next(1, 10);
            int sy = random.Next(1, 4), sx = random.Next(1, 4), dy = random.Next(1, 3), dx = random.Next(1, 3);
            // A negative pad crops: rare, but ONNX allows it.
            int[] pads = Enumerable.Range(0, 4).Select(_ => random.Next(12) == 0 ? -1 : random.Next(0, 6)).ToArray();
            int spanY = h + pads[0] + pads[2] - (kh - 1) * dy - 1, spanX = w + pads[1] + pads[3] - (kw - 1) * dx - 1;
            if (spanY < 0 || spanX < 0) continue;
            int oh = spanY / sy + 1, ow = spanX / sx + 1;
            int outChannels = made < 17 ? 17 - made : random.Next(1, 70), batch = random.Next(1, 3);
            int[] geometry = { 2, h, w, oh, ow, kh, kw, sy, sx, dy, dx, pads[0], pads[1], pads[2], pads[3] };
            string shape = $"image {h}x{w} kernel {kh}x{kw} strides {sy}x{sx} dilations {dy}x{dx} pads [{string.Join(",", pads)}]";
            yield return Int8ConvolutionChecks.Draw(random, made, batch, 1, outChannels, 1, geometry, shape, extremeImages: true);
            made++;
        }
    }

    /// <summary>The kernel with its weights packed as horizontal tap quads; it has no int32 output.</summary>
    readonly record struct SingleChannelKernel : IInt8ConvolutionUnderTest
    {
        public int[]? Sums<TX, TW>(Int8ConvolutionCase t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> => null;

        public int[] Bytes<TX, TW, TY>(Int8ConvolutionCase t, float[] multipliers, int zeroPoint)
            where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
        {
            var weights = Int8ConvWeights.PackSingleChannel(t.W.Select(TW.CreateTruncating).ToArray(), t.Zw.Select(TW.CreateTruncating).ToArray(), t.OutChannels,
                t.Geometry[5], t.Geometry[6]);
            // Scratch starts as garbage: the kernel must not depend on its contents.
            int[] scratch = Enumerable.Repeat(0x5A5A5A5A, Int8SingleChannelConvolution.ScratchLength(t.Geometry)).ToArray();
            var y = new TY[t.Batch * t.OutChannels * t.OutputSize];
            Int8SingleChannelConvolution.ConvolveToBytes<TX, TY>(t.X.Select(TX.CreateTruncating).ToArray(), t.ZeroPoint<TX>(), weights, t.Bias, multipliers, zeroPoint, y,
                scratch, t.Batch, t.Geometry);
            return y.Select(int.CreateTruncating).ToArray();
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionForKernelsStridesPadsAndZeroPoints(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new SingleChannelKernel(), Cases(140, seed), seed, context), 2024, 1202));

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void TheStemOfDsCnnGivesTheDirectKernelsBytes(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        // 1×49×10 u8, 64 channels of 10×4 s8 weights, strides 2, pads [5,1,5,1] → 64×25×5.
        int[] geometry = { 2, 49, 10, 25, 5, 10, 4, 2, 2, 1, 1, 5, 1, 5, 1 };
        var random = new Random(61);
        byte[] x = Enumerable.Range(0, 490).Select(_ => (byte)random.Next(256)).ToArray();
        sbyte[] w = Enumerable.Range(0, 64 * 40).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
        int[] bias = Enumerable.Range(0, 64).Select(_ => random.Next(-20000, 20000)).ToArray();
        float[] multipliers = Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() * 0.004)).ToArray();
        var weights = Int8ConvWeights.PackSingleChannel(w, Array.Empty<sbyte>(), 64, 10, 4);
        byte[] expected = new byte[64 * 125], actual = new byte[64 * 125];
        Int8DirectConvolution.ConvolveToBytes<byte, byte>(x, new byte[] { 131 }, weights, bias, multipliers, 7, expected,
            new int[Int8DirectConvolution.ScratchLength(1, geometry)], 1, geometry);
        Int8SingleChannelConvolution.ConvolveToBytes<byte, byte>(x, new byte[] { 131 }, weights, bias, multipliers, 7, actual,
            new int[Int8SingleChannelConvolution.ScratchLength(geometry)], 1, geometry);
        Assert.Equal(expected, actual);
        Assert.Contains(expected, b => b != 7);
    });

    [Fact]
    public void RejectsWeightsNotPackedAsHorizontalTapQuads()
    {
        int[] geometry = { 2, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0 };
        var channelQuads = Int8ConvWeights.Pack(new sbyte[18], Array.Empty<sbyte>(), 2, 1, 9);
        var error = Assert.Throws<ArgumentException>(() => Int8SingleChannelConvolution.ConvolveToBytes<byte, byte>(new byte[25], ReadOnlySpan<byte>.Empty, channelQuads,
            ReadOnlySpan<int>.Empty, new[] { 1f }, 0, new byte[18], new int[Int8SingleChannelConvolution.ScratchLength(geometry)], 1, geometry));
        Assert.Contains("PackSingleChannel", error.Message);
    }

    [Fact]
    public void RejectsTooSmallScratch()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var weights = Int8ConvWeights.PackSingleChannel(new sbyte[18], Array.Empty<sbyte>(), 2, 3, 3);
        var error = Assert.Throws<ArgumentException>(() => Int8SingleChannelConvolution.ConvolveToBytes<byte, byte>(new byte[25], ReadOnlySpan<byte>.Empty, weights,
            ReadOnlySpan<int>.Empty, new[] { 1f }, 0, new byte[50], new int[Int8SingleChannelConvolution.ScratchLength(geometry) - 1], 1, geometry));
        Assert.Contains("scratch", error.Message);
    }
}
