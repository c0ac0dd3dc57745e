using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="Int8PointwiseConvolution"/> on every tier this machine has, forced in turn, with and without AVX-VNNI,
/// against the convolution computed from the definition and requantised by <see cref="Requantization.ToInteger{TOut}"/>:
/// input channels 1…17 (most not a multiple of 4), output channels 1…17 (whole and partial blocks of four), planes of
/// 1…40 pixels (odd ones, narrower than a tile, not a whole number of tiles) and the model planes (25×5, 7×7, 14×14),
/// strides 1…3 in either direction, u8/s8 images, weights and outputs, every zero-point class, per-tensor and per-channel multipliers, bias or none,
/// batches; and planes of whole blocks of 64 pixels, which the AVX-VNNI tier with AVX-512 registers lays out in lane order. Results must be exact.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8PointwiseConvolutionTests
{
    static IEnumerable<Int8ConvolutionCase> Cases(int count, int seed)
    {
        var random = new Random(seed);
        int[][] planes = { new[] { 25, 5 }, new[] { 7, 7 }, new[] { 14, 14 }, new[] { 1, 1 } };
        for (int made = 0; made < count; made++)
        {
            int[] plane = made < planes.Length ? planes[made] : random.Next(3) == 0 ? new[] { random.Next(1, 8), random.Next(1, 8) } : new[] { 1, random.Next(1, 41) };
            int h = plane[0], w = plane[1];
            // One layer in four strided (resnet8's shortcuts are 1×1 stride 2): the kernel gathers the pixels it reads.
            bool strided = made >= planes.Length && made % 4 == 3;
            if (strided) (h, w) = (random.Next(1, 20), random.Next(1, 20));
            int sy = strided ? random.Next(1, 4) : 1, sx = strided ? random.Next(1, 4) : 1;
            // Rows of more than 256 output columns: the strided gather goes in chunks.
            if (made == planes.Length) (h, w, sy, sx) = (3, 601, 2, 2);
            int channels = made < 17 ? made + 1 : random.Next(1, 18), outChannels = made < 17 ? 17 - made : random.Next(1, 18), batch = random.Next(1, 3);
            int[] geometry = { 2, h, w, (h - 1) / sy + 1, (w - 1) / sx + 1, 1, 1, sy, sx, 1, 1, 0, 0, 0, 0 };
            yield return Int8ConvolutionChecks.Draw(random, made, batch, channels, outChannels, 1, geometry, $"plane {h}x{w} strides {sy}x{sx}", extremeImages: true);
        }
    }

    /// <summary>
    /// Layers as wide as the models' and wider: 1…70 input and output channels (64 and 70 among them), planes of 1…300
    /// pixels as one row or 2-D (25×5 and 7×7 among them), and 2-D planes of up to 40×40 at stride 2 (32×32 and 16×16,
    /// resnet8's shortcuts, and odd sizes whose last row and column end the input).
    /// </summary>
    static IEnumerable<Int8ConvolutionCase> WideCases(int count, int seed)
    {
        var random = new Random(seed);
        int[][] fixedLayers = { new[] { 64, 64, 25, 5, 1 }, new[] { 16, 32, 32, 32, 2 }, new[] { 32, 64, 16, 16, 2 }, new[] { 70, 61, 17, 17, 2 }, new[] { 61, 70, 7, 7, 1 } };
        for (int made = 0; made < count; made++)
        {
            int channels, outChannels, h, w, stride;
            if (made < fixedLayers.Length) (channels, outChannels, h, w, stride) = (fixedLayers[made][0], fixedLayers[made][1], fixedLayers[made][2], fixedLayers[made][3], fixedLayers[made][4]);
            else
            {
                (channels, outChannels, stride) = (random.Next(1, 71), random.Next(1, 71), made % 3 == 0 ? 2 : 1);
                (h, w) = stride == 2 ? (random.Next(1, 41), random.Next(1, 41)) : random.Next(2) == 0 ? (1, random.Next(1, 301)) : (random.Next(1, 18), random.Next(1, 18));
            }
            int[] geometry = { 2, h, w, (h - 1) / stride + 1, (w - 1) / stride + 1, 1, 1, stride, stride, 1, 1, 0, 0, 0, 0 };
            yield return Int8ConvolutionChecks.Draw(random, made, 1, channels, outChannels, 1, geometry, $"{channels}→{outChannels} plane {h}x{w} stride {stride}", extremeImages: true);
        }
    }

    /// <summary>
    /// Planes that the AVX-VNNI tier with AVX-512 registers computes in blocks of 64 pixels (two channels a tile, the
    /// image in lane order, the last block moved back): 64, 121…128 (DS-CNN's 125 among them), 185…192, 249…256 pixels,
    /// and planes past 2000 where any length fits, as one row or 2-D; input channels 1…70 and odd output channels (a
    /// last channel without a partner) among them; and planes just off the blocks (65, 100, 196) that keep the tiles of
    /// four channels.
    /// </summary>
    static IEnumerable<Int8ConvolutionCase> BlockCases(int count, int seed)
    {
        var random = new Random(seed);
        int[][] fixedLayers = { new[] { 64, 64, 25, 5 }, new[] { 16, 96, 1, 128 }, new[] { 5, 7, 1, 64 }, new[] { 3, 1, 1, 121 }, new[] { 70, 9, 1, 2049 }, new[] { 9, 3, 14, 14 }, new[] { 4, 5, 1, 65 } };
        int[] blockPlanes = { 64, 121, 122, 123, 124, 125, 126, 127, 128, 185, 190, 192, 249, 250, 255, 256, 2000, 2049, 2111 };
        for (int made = 0; made < count; made++)
        {
            int channels, outChannels, h, w;
            if (made < fixedLayers.Length) (channels, outChannels, h, w) = (fixedLayers[made][0], fixedLayers[made][1], fixedLayers[made][2], fixedLayers[made][3]);
            else
            {
                (channels, outChannels) = (random.Next(1, 71), random.Next(1, 40));
                (h, w) = (1, blockPlanes[random.Next(blockPlanes.Length)]);
                if (made % 4 == 0) (h, w) = (25, 5);
                if (made % 7 == 0) (h, w) = (1, new[] { 65, 100 }[random.Next(2)]);
            }
            int[] geometry = { 2, h, w, h, w, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
            yield return Int8ConvolutionChecks.Draw(random, made, 1 + made % 2, channels, outChannels, 1, geometry, $"{channels}→{outChannels} plane {h}x{w}", extremeImages: true);
        }
    }

    /// <summary><see cref="Int8PointwiseConvolution"/> with its weights packed for the case (it has no int32 output).</summary>
    readonly struct PointwiseKernel : IInt8ConvolutionUnderTest
    {
        public int[]? Sums<TX, TW>(Int8ConvolutionCase t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> => null;

        public int[] Bytes<TX, TW, TY>(Int8ConvolutionCase t, float[] multipliers, int zeroPoint)
            where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
        {
            var weights = Int8ConvWeights.Pack(t.W.Select(TW.CreateTruncating).ToArray(), t.Zw.Select(TW.CreateTruncating).ToArray(), t.OutChannels, t.Channels, 1);
            // Scratch starts as garbage: the kernel must not depend on its contents.
            int[] scratch = Enumerable.Repeat(0x5A5A5A5A, Int8PointwiseConvolution.ScratchLength(t.Channels, t.OutputSize)).ToArray();
            var y = new TY[t.Batch * t.OutChannels * t.OutputSize];
            Int8PointwiseConvolution.ConvolveToBytes<TX, TY>(t.X.Select(TX.CreateTruncating).ToArray(), t.ZeroPoint<TX>(), weights, t.Bias, multipliers, zeroPoint, y,
                scratch, t.Batch, t.Geometry);
            return y.Select(int.CreateTruncating).ToArray();
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionForChannelsPlanesAndZeroPoints(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new PointwiseKernel(), Cases(120, seed), seed, context), 1618, 1414));

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionForWideLayersAndLongPlanes(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new PointwiseKernel(), WideCases(30, seed), seed, context), 2718, 3141));

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionOnPlanesOfWholeBlocks(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new PointwiseKernel(), BlockCases(40, seed), seed, context), 1729, 4104));

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void NonFiniteMultipliersRequantiseLikeTheReference(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        // A zero output scale makes the multiplier infinite (NaN for a zero sum): the vector clamp would differ, so those layers take the scalar path.
        CheckRow<byte>(7, 5, 6, 30, new[] { float.PositiveInfinity }, 3));

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void HugeAndTinyFiniteMultipliersSaturateLikeTheReference(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        // Products far past int32 (the vector clamp caps them before converting) and products near zero, per channel,
        // on 64 channels of 125 pixels (the blocks of 64 on AVX-VNNI with AVX-512, else the four-vector tiles), to u8 and s8 with zero points at either end.
        float[] multipliers = Enumerable.Range(0, 64).Select(m => (m % 4) switch { 0 => 1e30f, 1 => 3e5f, 2 => 1e-30f, _ => 0.5f }).ToArray();
        foreach (int zero in new[] { 0, 255, 7 }) CheckRow<byte>(11, 64, 64, 125, multipliers, zero);
        foreach (int zero in new[] { -128, 127, -3 }) CheckRow<sbyte>(11, 64, 64, 125, multipliers, zero);
    });

    /// <summary>
    /// A random layer (u8 image with zero point 100, s8 weights, no bias) on one row of <paramref name="pixels"/> pixels
    /// through <see cref="Int8PointwiseConvolution"/> and through the definition requantised by
    /// <see cref="Requantization.ToInteger{TOut}"/>: the same bytes.
    /// </summary>
    static void CheckRow<TY>(int seed, int channels, int outChannels, int pixels, float[] multipliers, int zeroPoint)
        where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        var random = new Random(seed);
        sbyte[] w = Enumerable.Range(0, outChannels * channels).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
        byte[] x = Enumerable.Range(0, channels * pixels).Select(_ => (byte)random.Next(256)).ToArray();
        var weights = Int8ConvWeights.Pack(w, Array.Empty<sbyte>(), outChannels, channels, 1);
        var y = new TY[outChannels * pixels];
        Int8PointwiseConvolution.ConvolveToBytes<byte, TY>(x, new byte[] { 100 }, weights, ReadOnlySpan<int>.Empty, multipliers, zeroPoint, y,
            new int[Int8PointwiseConvolution.ScratchLength(channels, pixels)], 1, Row(pixels));
        var sums = new int[outChannels * pixels];
        for (int m = 0; m < outChannels; m++)
            for (int p = 0; p < pixels; p++)
                for (int c = 0; c < channels; c++) sums[m * pixels + p] += w[m * channels + c] * (x[c * pixels + p] - 100);
        var expected = new TY[y.Length];
        Requantization.ToInteger<TY>(sums, ReadOnlySpan<int>.Empty, multipliers, true, zeroPoint, expected, outChannels, pixels);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void RejectsTooSmallScratchWiderKernelsAndPadding()
    {
        var weights = Int8ConvWeights.Pack(new sbyte[6], Array.Empty<sbyte>(), 2, 3, 1);
        var error = Assert.Throws<ArgumentException>(() => Int8PointwiseConvolution.ConvolveToBytes<byte, byte>(new byte[30], ReadOnlySpan<byte>.Empty, weights,
            ReadOnlySpan<int>.Empty, new float[] { 1 }, 0, new byte[20], new int[Int8PointwiseConvolution.ScratchLength(3, 10) - 1], 1, Row(10)));
        Assert.Contains("scratch", error.Message);
        var wide = Int8ConvWeights.Pack(new sbyte[18], Array.Empty<sbyte>(), 2, 1, 9);
        error = Assert.Throws<ArgumentException>(() => Int8PointwiseConvolution.ConvolveToBytes<byte, byte>(new byte[10], ReadOnlySpan<byte>.Empty, wide,
            ReadOnlySpan<int>.Empty, new float[] { 1 }, 0, new byte[20], new int[Int8PointwiseConvolution.ScratchLength(1, 10)], 1, Row(10)));
        Assert.Contains("kernel positions", error.Message);
        int[] padded = { 2, 1, 10, 1, 12, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1 };
        error = Assert.Throws<ArgumentException>(() => Int8PointwiseConvolution.ConvolveToBytes<byte, byte>(new byte[30], ReadOnlySpan<byte>.Empty, weights,
            ReadOnlySpan<int>.Empty, new float[] { 1 }, 0, new byte[24], new int[Int8PointwiseConvolution.ScratchLength(3, 12)], 1, padded));
        Assert.Contains("without padding", error.Message);
    }

    /// <summary>The geometry of a 1×1 stride-1 layer on one row of <paramref name="pixels"/> pixels.</summary>
    static int[] Row(int pixels) => new[] { 2, 1, pixels, 1, pixels, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
}
