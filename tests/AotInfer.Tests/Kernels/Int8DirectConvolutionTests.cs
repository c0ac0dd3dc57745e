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
/// <see cref="Requantization.ToInteger{TOut}"/> of the reference sums). Results must be exact.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8DirectConvolutionTests
{
    sealed record Case(int Batch, int Channels, int OutChannels, int[] Geometry, bool XSigned, bool WSigned, int[] X, int Zx, bool NoZx, int[] W, int[] Zw, int[] Bias, string Label);

    static IEnumerable<Case> Cases(int count, int seed)
    {
        var random = new Random(seed);
        int made = 0;
        while (made < count)
        {
            int h = random.Next(1, 12), w = random.Next(1, 36), kh = random.Next(1, 6), kw = random.Next(1, 6);
            int sy = random.Next(1, 4), sx = random.Next(1, 4), dy = random.Next(1, 3), dx = random.Next(1, 3);
            // A negative pad crops: rare, but ONNX allows it.
            int[] pads = Enumerable.Range(0, 4).Select(_ => random.Next(12) == 0 ? -1 : random.Next(0, 3)).ToArray();
            int spanY = h + pads[0] + pads[2] - (kh - 1) * dy - 1, spanX = w + pads[1] + pads[3] - (kw - 1) * dx - 1;
            if (spanY < 0 || spanX < 0) continue;
            int oh = spanY / sy + 1, ow = spanX / sx + 1;
            int channels = made < 17 ? made + 1 : random.Next(4) == 0 ? 4 * random.Next(1, 9) : random.Next(1, 18);
            int outChannels = made < 17 ? 17 - made : random.Next(1, 21), batch = random.Next(1, 3);
            bool xSigned = random.Next(2) == 1, wSigned = random.Next(2) == 1;
            int lowX = xSigned ? -128 : 0, lowW = wSigned ? -128 : 0;
            string zeroClass = new[] { "none", "middle", "random", "per-channel", "full range" }[made % 5];
            int zx = zeroClass switch { "none" => 0, "middle" => xSigned ? 0 : 128, _ => random.Next(lowX, lowX + 256) };
            // Centred weights must fit a signed byte: keep every zero point within reach of the weights drawn below.
            int[] zw = zeroClass switch
            {
                "none" or "full range" => wSigned ? Array.Empty<int>() : new[] { 128 },
                "middle" => new[] { wSigned ? 0 : 128 },
                "random" => new[] { random.Next(lowW + 64, lowW + 192) },
                _ => Enumerable.Range(0, outChannels).Select(_ => random.Next(lowW + 64, lowW + 192)).ToArray(),
            };
            int[] weights = new int[outChannels * channels * kh * kw];
            for (int r = 0, i = 0; r < outChannels; r++)
            {
                int zero = zw.Length == 0 ? 0 : zw[zw.Length == 1 ? 0 : r];
                int reach = zeroClass == "full range" ? 128 : 64;
                for (int k = 0; k < channels * kh * kw; k++, i++)
                    weights[i] = Math.Clamp(zero + random.Next(-reach, reach), Math.Max(lowW, zero - 128), Math.Min(lowW + 255, zero + 127));
            }
            // Extreme images (all minimum or all maximum) check that no intermediate saturates.
            int fill = made % 9 == 8 ? (random.Next(2) == 0 ? lowX : lowX + 255) : int.MinValue;
            int[] x = Enumerable.Range(0, batch * channels * h * w).Select(_ => fill != int.MinValue ? fill : random.Next(lowX, lowX + 256)).ToArray();
            int[] bias = random.Next(3) == 0 ? Array.Empty<int>() : Enumerable.Range(0, outChannels).Select(_ => random.Next(-20000, 20000)).ToArray();
            int[] geometry = { 2, h, w, oh, ow, kh, kw, sy, sx, dy, dx, pads[0], pads[1], pads[2], pads[3] };
            string label = $"batch {batch} channels {channels}→{outChannels} image {h}x{w} kernel {kh}x{kw} strides {sy}x{sx} dilations {dy}x{dx} " +
                           $"pads [{string.Join(",", pads)}] {(xSigned ? "s8" : "u8")}x{(wSigned ? "s8" : "u8")} zeros {zeroClass}{(bias.Length == 0 ? " no bias" : "")}" +
                           (fill != int.MinValue ? $" image all {fill}" : "");
            made++;
            yield return new Case(batch, channels, outChannels, geometry, xSigned, wSigned, x, zx, zeroClass == "none", weights, zw, bias, label);
        }
    }

    static int[] Reference(Case t)
    {
        int[] g = t.Geometry;
        int h = g[1], w = g[2], oh = g[3], ow = g[4], kh = g[5], kw = g[6], sy = g[7], sx = g[8], dy = g[9], dx = g[10], pt = g[11], pl = g[12];
        var acc = new int[t.Batch * t.OutChannels * oh * ow];
        for (int n = 0; n < t.Batch; n++)
        for (int m = 0; m < t.OutChannels; m++)
        {
            int zw = t.Zw.Length == 0 ? 0 : t.Zw[t.Zw.Length == 1 ? 0 : m];
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                long sum = t.Bias.Length == 0 ? 0 : t.Bias[m];
                for (int c = 0; c < t.Channels; c++)
                for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                {
                    int iy = oy * sy + ky * dy - pt, ix = ox * sx + kx * dx - pl;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    sum += (long)(t.W[((m * t.Channels + c) * kh + ky) * kw + kx] - zw) * (t.X[((n * t.Channels + c) * h + iy) * w + ix] - t.Zx);
                }
                acc[((n * t.OutChannels + m) * oh + oy) * ow + ox] = checked((int)sum);
            }
        }
        return acc;
    }

    static Int8ConvWeights Pack<TW>(Case t) where TW : unmanaged, IBinaryInteger<TW> =>
        Int8ConvWeights.Pack(t.W.Select(TW.CreateTruncating).ToArray(), t.Zw.Select(TW.CreateTruncating).ToArray(), t.OutChannels, t.Channels, t.Geometry[5] * t.Geometry[6]);

    static int[] Scratch(Case t) => Enumerable.Repeat(0x5A5A5A5A, Int8DirectConvolution.ScratchLength(t.Channels, t.Geometry)).ToArray();

    static TX[] ZeroPoint<TX>(Case t) where TX : IBinaryInteger<TX> => t.NoZx ? Array.Empty<TX>() : new[] { TX.CreateTruncating(t.Zx) };

    static int[] RunInt32<TX, TW>(Case t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        var y = new int[t.Batch * t.OutChannels * t.Geometry[3] * t.Geometry[4]];
        Int8DirectConvolution.Convolve<TX>(t.X.Select(TX.CreateTruncating).ToArray(), ZeroPoint<TX>(t), Pack<TW>(t), t.Bias, y, Scratch(t), t.Batch, t.Geometry);
        return y;
    }

    static int[] RunBytes<TX, TW, TY>(Case t, float[] multipliers, int zeroPoint) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
        where TY : unmanaged, IBinaryInteger<TY>
    {
        var y = new TY[t.Batch * t.OutChannels * t.Geometry[3] * t.Geometry[4]];
        Int8DirectConvolution.ConvolveToBytes<TX, TY>(t.X.Select(TX.CreateTruncating).ToArray(), ZeroPoint<TX>(t), Pack<TW>(t), t.Bias, multipliers, zeroPoint, y,
            Scratch(t), t.Batch, t.Geometry);
        return y.Select(int.CreateTruncating).ToArray();
    }

    static int[] RequantizedReference<TY>(int[] sums, Case t, float[] multipliers, int zeroPoint) where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        var y = new TY[sums.Length];
        int plane = t.Geometry[3] * t.Geometry[4];
        float[] perRow = Enumerable.Range(0, t.Batch * t.OutChannels).Select(r => multipliers[multipliers.Length == 1 ? 0 : r % t.OutChannels]).ToArray();
        Requantization.ToInteger<TY>(sums, ReadOnlySpan<int>.Empty, perRow, true, zeroPoint, y, t.Batch * t.OutChannels, plane);
        return y.Select(int.CreateTruncating).ToArray();
    }

    static IEnumerable<(string Path, int[] Actual, int[] Expected)> Run<TX, TW>(Case t, int[] sums, Random random)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        yield return ("int32", RunInt32<TX, TW>(t), sums);
        // Multipliers of 0.5 and 0.25 put many values exactly on rounding ties; small ones keep most values in range.
        float[] multipliers = Enumerable.Range(0, random.Next(2) == 0 ? 1 : t.OutChannels)
            .Select(_ => random.Next(3) switch { 0 => 0.5f, 1 => 0.25f, _ => (float)(random.NextDouble() * 0.02) }).ToArray();
        int uZero = random.Next(256), sZero = random.Next(-128, 128);
        yield return ("u8 output", RunBytes<TX, TW, byte>(t, multipliers, uZero), RequantizedReference<byte>(sums, t, multipliers, uZero));
        yield return ("s8 output", RunBytes<TX, TW, sbyte>(t, multipliers, sZero), RequantizedReference<sbyte>(sums, t, multipliers, sZero));
    }

    static void Check(QuantizedGemmTier tier, string vnni, int seed)
    {
        var random = new Random(seed);
        foreach (var t in Cases(160, seed))
        {
            int[] sums = Reference(t);
            var results = (t.XSigned, t.WSigned) switch
            {
                (false, true) => Run<byte, sbyte>(t, sums, random),
                (false, false) => Run<byte, byte>(t, sums, random),
                (true, true) => Run<sbyte, sbyte>(t, sums, random),
                _ => Run<sbyte, byte>(t, sums, random),
            };
            foreach (var (path, actual, expected) in results)
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(expected[i] == actual[i], $"tier {tier}{vnni} {path} {t.Label}: element {i} is {actual[i]}, expected {expected[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionForShapesStridesPadsAndZeroPoints(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        Check(tier, "", 3141);
        // On a CPU with AVX-VNNI the AVX2 and AVX-512 tiers run vpdpbusd by default: their widening kernel too.
        if (tier >= QuantizedGemmTier.Avx2 && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            Int8Gemm.AllowVnni = false;
            try { Check(tier, " without VNNI", 2718); }
            finally { Int8Gemm.AllowVnni = true; }
        }
    });

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
