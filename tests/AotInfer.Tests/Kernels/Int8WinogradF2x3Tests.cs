using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="Int8WinogradF2x3"/> on every tier this machine has, forced in turn, with and without AVX-VNNI, against the
/// convolution computed from the definition (the int32 sums the direct kernel computes, and their requantisation):
/// channels 1…70, images 1×1…33×33 (odd and even output sizes, partial last tiles), pads 0/1 per side, u8/s8 images and
/// weights, every zero-point class, per-tensor and per-channel weight zero points, bias or none, batches, and extreme
/// layers whose image and weights sit 255 from their zero points. Results must be exact.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8WinogradF2x3Tests
{
    static int[] Geometry(int h, int w, int[] pads) => new[] { 2, h, w, h + pads[0] + pads[2] - 2, w + pads[1] + pads[3] - 2, 3, 3, 1, 1, 1, 1, pads[0], pads[1], pads[2], pads[3] };

    static IEnumerable<Int8ConvolutionCase> Cases(int count, int seed)
    {
        var random = new Random(seed);
        int made = 0;
        while (made < count)
        {
            int h = random.Next(1, 34), w = random.Next(1, 34);
            int[] pads = Enumerable.Range(0, 4).Select(_ => random.Next(2)).ToArray();
            if (h + pads[0] + pads[2] < 3 || w + pads[1] + pads[3] < 3) continue;
            // The first 70 cases sweep the channel counts; the rest draw them.
            int channels = made < 70 ? made + 1 : random.Next(1, 71), outChannels = random.Next(1, 19), batch = random.Next(4) == 0 ? 2 : 1;
            string shape = $"image {h}x{w} pads [{string.Join(",", pads)}]";
            yield return Int8ConvolutionChecks.Draw(random, made, batch, channels, outChannels, 1, Geometry(h, w, pads), shape, extremeImages: true);
            made++;
        }
    }

    /// <summary>
    /// Layers at the bounds of the int16 transforms: every image value and every weight 255 from its zero point (u8 0
    /// against 255, s8 −128 against 127), of either sign, with pads, so |V| and |U'| reach 1020 and 2295.
    /// </summary>
    static IEnumerable<Int8ConvolutionCase> ExtremeCases()
    {
        var random = new Random(77);
        foreach (bool xSigned in new[] { false, true })
        foreach (bool wSigned in new[] { false, true })
        foreach (int channels in new[] { 1, 2, 7, 64 })
        {
            int low = xSigned ? -128 : 0, lowW = wSigned ? -128 : 0, outChannels = 5;
            int[] geometry = Geometry(9, 12, new[] { 1, 1, 1, 1 });
            int zx = random.Next(2) == 0 ? low : low + 255;
            int[] zw = Enumerable.Range(0, outChannels).Select(m => m % 2 == 0 ? lowW : lowW + 255).ToArray();
            // Images at the far end from their zero point (with an even channel count every third value at it instead).
            int[] x = Enumerable.Range(0, channels * 9 * 12).Select(i => channels % 2 == 0 && i % 3 == 0 ? zx : 2 * low + 255 - zx).ToArray();
            int[] weights = Enumerable.Range(0, outChannels * channels * 9).Select(i => random.Next(4) == 0 ? zw[i / (channels * 9)] : 2 * lowW + 255 - zw[i / (channels * 9)]).ToArray();
            int[] bias = Enumerable.Range(0, outChannels).Select(_ => random.Next(-1000, 1000)).ToArray();
            yield return new Int8ConvolutionCase(1, channels, outChannels, 1, geometry, xSigned, wSigned, x, zx, false, weights, zw, bias,
                $"extreme {channels} channels {(xSigned ? "s8" : "u8")}x{(wSigned ? "s8" : "u8")} zx {zx}");
        }
    }

    readonly record struct WinogradKernel : IInt8ConvolutionUnderTest
    {
        static Int8WinogradWeights Pack<TW>(Int8ConvolutionCase t) where TW : unmanaged, IBinaryInteger<TW> =>
            Int8WinogradWeights.Pack(t.W.Select(TW.CreateTruncating).ToArray(), t.Zw.Select(TW.CreateTruncating).ToArray(), t.OutChannels, t.Channels);

        // Scratch starts as garbage: the kernel must not depend on its contents.
        static int[] Scratch(Int8ConvolutionCase t) => Enumerable.Repeat(0x5A5A5A5A, Int8WinogradF2x3.ScratchLength(t.Channels, t.Geometry)).ToArray();

        public int[]? Sums<TX, TW>(Int8ConvolutionCase t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
        {
            var y = new int[t.Batch * t.OutChannels * t.OutputSize];
            Int8WinogradF2x3.Convolve<TX>(t.X.Select(TX.CreateTruncating).ToArray(), t.ZeroPoint<TX>(), Pack<TW>(t), t.Bias, y, Scratch(t), t.Batch, t.Geometry);
            return y;
        }

        public int[] Bytes<TX, TW, TY>(Int8ConvolutionCase t, float[] multipliers, int zeroPoint)
            where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
        {
            var y = new TY[t.Batch * t.OutChannels * t.OutputSize];
            Int8WinogradF2x3.ConvolveToBytes<TX, TY>(t.X.Select(TX.CreateTruncating).ToArray(), t.ZeroPoint<TX>(), Pack<TW>(t), t.Bias, multipliers, zeroPoint, y,
                Scratch(t), t.Batch, t.Geometry);
            return y.Select(int.CreateTruncating).ToArray();
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionForShapesPadsChannelsAndZeroPoints(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new WinogradKernel(), Cases(110, seed), seed, context), 2357, 1113));

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void IsExactAtTheBoundsOfTheInt16Transforms(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new WinogradKernel(), ExtremeCases(), seed, context), 31, 37));

    /// <summary>
    /// The method itself, tile by tile: with U' = G'·g·G'ᵀ (G' = 2G) and V = Bᵀ·d·B, Aᵀ·(U' ⊙ V)·A is a multiple of 4
    /// and a quarter of it is the 3×3 correlation of d with g, for random and extreme int8-range tiles.
    /// </summary>
    [Fact]
    public void TheIntegerTransformsGiveFourTimesTheCorrelation()
    {
        int[,] gPrime = { { 2, 0, 0 }, { 1, 1, 1 }, { 1, -1, 1 }, { 0, 0, 2 } };
        int[,] bT = { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, 1, 0, -1 } };
        int[,] aT = { { 1, 1, 1, 0 }, { 0, 1, -1, -1 } };
        var random = new Random(5);
        for (int trial = 0; trial < 2000; trial++)
        {
            int[,] g = new int[3, 3], d = new int[4, 4];
            bool extreme = trial % 4 == 0;
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) g[i, j] = extreme ? (random.Next(2) == 0 ? -255 : 255) : random.Next(-255, 256);
            for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) d[i, j] = extreme ? (random.Next(2) == 0 ? -255 : 255) : random.Next(-255, 256);
            int[,] u = Product(Product(gPrime, g), Transpose(gPrime)), v = Product(Product(bT, d), Transpose(bT));
            var uv = new int[4, 4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                {
                    Assert.InRange(u[i, j], -2295, 2295);
                    Assert.InRange(v[i, j], -1020, 1020);
                    uv[i, j] = u[i, j] * v[i, j];
                }
            int[,] y = Product(Product(aT, uv), Transpose(aT));
            for (int r = 0; r < 2; r++)
                for (int s = 0; s < 2; s++)
                {
                    int expected = 0;
                    for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) expected += g[i, j] * d[r + i, s + j];
                    Assert.True(y[r, s] % 4 == 0, $"trial {trial}: Y' {y[r, s]} is not a multiple of 4");
                    Assert.Equal(expected, y[r, s] >> 2);
                }
        }
    }

    [Fact]
    public void RejectsLayersItCannotComputeExactly()
    {
        // 1000 channels with weights 255 from their zero point could overflow the int32 sums.
        Assert.True(Int8WinogradF2x3.Exact(64, 255));
        Assert.False(Int8WinogradF2x3.Exact(1000, 255));
        var weights = Int8WinogradWeights.Pack(Enumerable.Repeat((byte)255, 1000 * 9).ToArray(), Array.Empty<byte>(), 1, 1000);
        int[] geometry = Geometry(4, 4, new[] { 1, 1, 1, 1 });
        var error = Assert.Throws<ArgumentException>(() => Int8WinogradF2x3.Convolve<byte>(new byte[16000], ReadOnlySpan<byte>.Empty, weights, ReadOnlySpan<int>.Empty,
            new int[16], new int[Int8WinogradF2x3.ScratchLength(1000, geometry)], 1, geometry));
        Assert.Contains("overflow", error.Message);
        // Strided, dilated and 5×5 windows are not Winograd F(2×2, 3×3).
        Assert.False(Int8WinogradF2x3.Supports(new[] { 2, 8, 8, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 }));
        Assert.False(Int8WinogradF2x3.Supports(new[] { 2, 8, 8, 4, 4, 3, 3, 1, 1, 2, 2, 0, 0, 0, 0 }));
        Assert.False(Int8WinogradF2x3.Supports(new[] { 2, 8, 8, 4, 4, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0 }));
        Assert.True(Int8WinogradF2x3.Supports(geometry));
    }

    static int[,] Product(int[,] a, int[,] b)
    {
        var c = new int[a.GetLength(0), b.GetLength(1)];
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < b.GetLength(1); j++)
                for (int k = 0; k < a.GetLength(1); k++) c[i, j] += a[i, k] * b[k, j];
        return c;
    }

    static int[,] Transpose(int[,] a)
    {
        var t = new int[a.GetLength(1), a.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) t[j, i] = a[i, j];
        return t;
    }
}
