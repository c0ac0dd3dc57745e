using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The int8 convolution kernels on every tier this machine has, forced in turn, against references computed straight
/// from the definitions: <see cref="QuantizedDepthwise"/> (channels 1…17, odd widths, strides, dilations, asymmetric
/// pads, u8/s8 images and weights, every zero-point class, per-tensor and per-channel weight zero points, batches) and
/// the requantisation epilogue <see cref="Requantization.ToInteger{TOut}"/> (lengths across the vector widths, per-row
/// and per-column parameters, bias or none, exact rounding ties, saturation). Results must be exact.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class QuantizedConvolutionKernelTests
{
    /// <summary>A depthwise layer: geometry packed as the kernels take it (rank, input, output, kernel, strides, dilations, pads).</summary>
    sealed record DepthwiseCase(int Batch, int Channels, int[] Geometry, bool XSigned, bool WSigned, int[] X, int Zx, int[] W, int[] Zw, string Label);

    /// <summary>
    /// Random depthwise layers; with <paramref name="sameWidth"/>, stride 1 and left + right pads that keep the row width
    /// (the layers of MobileNet and DS-CNN), images up to 40 wide so rows fill whole vectors.
    /// </summary>
    static IEnumerable<DepthwiseCase> DepthwiseCases(int count, int seed, bool sameWidth = false)
    {
        var random = new Random(seed);
        int made = 0;
        while (made < count)
        {
            int h = random.Next(1, 14), w = random.Next(1, 34), kh = random.Next(1, 6), kw = random.Next(1, 6);
            int sy = random.Next(1, 4), sx = random.Next(1, 4), dy = random.Next(1, 3), dx = random.Next(1, 3);
            int[] pads = { random.Next(0, 3), random.Next(0, 3), random.Next(0, 3), random.Next(0, 3) };
            if (sameWidth)
            {
                sy = sx = 1;
                w = random.Next(1, 41);
                pads[1] = random.Next(0, (kw - 1) * dx + 1);
                pads[3] = (kw - 1) * dx - pads[1];
            }
            int oh = (h + pads[0] + pads[2] - (kh - 1) * dy - 1) / sy + 1, ow = (w + pads[1] + pads[3] - (kw - 1) * dx - 1) / sx + 1;
            if (h + pads[0] + pads[2] - (kh - 1) * dy - 1 < 0 || w + pads[1] + pads[3] - (kw - 1) * dx - 1 < 0) continue;
            int channels = made < 17 ? made + 1 : random.Next(1, 18), batch = random.Next(1, 3);
            int[] geometry = { 2, h, w, oh, ow, kh, kw, sy, sx, dy, dx, pads[0], pads[1], pads[2], pads[3] };
            yield return RandomCase(random, made++, batch, channels, geometry, extremeImages: true);
        }
    }

    /// <summary>
    /// Case <paramref name="made"/> of a sweep over <paramref name="geometry"/>: random signedness, the zero-point class
    /// of <see cref="ZeroPoints"/>, random image and weights (with <paramref name="extremeImages"/>, every ninth image all
    /// minimum or all maximum, which checks that no intermediate saturates).
    /// </summary>
    static DepthwiseCase RandomCase(Random random, int made, int batch, int channels, int[] geometry, bool extremeImages = false)
    {
        int h = geometry[1], w = geometry[2], kh = geometry[5], kw = geometry[6];
        bool xSigned = random.Next(2) == 1, wSigned = random.Next(2) == 1;
        int lowX = xSigned ? -128 : 0, lowW = wSigned ? -128 : 0;
        var (zeroClass, zx, zw) = ZeroPoints(random, made, channels, xSigned, wSigned);
        int fill = extremeImages && made % 9 == 8 ? (random.Next(2) == 0 ? lowX : lowX + 255) : int.MinValue;
        int[] x = Enumerable.Range(0, batch * channels * h * w).Select(_ => fill != int.MinValue ? fill : random.Next(lowX, lowX + 256)).ToArray();
        int[] weights = Enumerable.Range(0, channels * kh * kw).Select(_ => random.Next(lowW, lowW + 256)).ToArray();
        string label = $"batch {batch} channels {channels} image {h}x{w} kernel {kh}x{kw} strides {geometry[7]}x{geometry[8]} " +
                       $"dilations {geometry[9]}x{geometry[10]} pads [{string.Join(",", geometry[11..])}] " +
                       $"{(xSigned ? "s8" : "u8")}x{(wSigned ? "s8" : "u8")} zeros {zeroClass}{(fill != int.MinValue ? $" image all {fill}" : "")}";
        return new DepthwiseCase(batch, channels, geometry, xSigned, wSigned, x, zx, weights, zw, label);
    }

    /// <summary>
    /// The geometry of a k×k-reach window at stride <paramref name="s"/> and dilation <paramref name="d"/> over an h×w
    /// image with pads drawn from 0 to the kernel's reach, or null when the padded image is smaller than the window.
    /// </summary>
    static int[]? RandomPadsGeometry(Random random, int h, int w, int[] k, int s, int d)
    {
        int[] pads = { random.Next(0, (k[0] - 1) * d + 1), random.Next(0, (k[1] - 1) * d + 1), random.Next(0, (k[0] - 1) * d + 1), random.Next(0, (k[1] - 1) * d + 1) };
        int spanY = h + pads[0] + pads[2] - (k[0] - 1) * d - 1, spanX = w + pads[1] + pads[3] - (k[1] - 1) * d - 1;
        if (spanY < 0 || spanX < 0) return null;
        return new[] { 2, h, w, spanY / s + 1, spanX / s + 1, k[0], k[1], s, s, d, d, pads[0], pads[1], pads[2], pads[3] };
    }

    /// <summary>The zero points of case <paramref name="made"/>: none, the middle of the range, random, or random per channel, in turn.</summary>
    static (string Class, int Zx, int[] Zw) ZeroPoints(Random random, int made, int channels, bool xSigned, bool wSigned)
    {
        int lowX = xSigned ? -128 : 0, lowW = wSigned ? -128 : 0;
        string zeroClass = new[] { "none", "middle", "random", "per-channel" }[made % 4];
        int zx = zeroClass switch { "none" => 0, "middle" => xSigned ? -128 : 128, _ => random.Next(lowX, lowX + 256) };
        int[] zw = zeroClass switch
        {
            "none" => Array.Empty<int>(),
            "middle" => new[] { wSigned ? 0 : 128 },
            "random" => new[] { random.Next(lowW, lowW + 256) },
            _ => Enumerable.Range(0, channels).Select(_ => random.Next(lowW, lowW + 256)).ToArray(),
        };
        return (zeroClass, zx, zw);
    }

    static int[] DepthwiseReference(DepthwiseCase t)
    {
        int[] g = t.Geometry;
        int h = g[1], w = g[2], oh = g[3], ow = g[4], kh = g[5], kw = g[6], sy = g[7], sx = g[8], dy = g[9], dx = g[10], pt = g[11], pl = g[12];
        var acc = new int[t.Batch * t.Channels * oh * ow];
        for (int n = 0; n < t.Batch; n++)
        for (int c = 0; c < t.Channels; c++)
        {
            int zw = t.Zw.Length == 0 ? 0 : t.Zw[t.Zw.Length == 1 ? 0 : c];
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                long sum = 0;
                for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                {
                    int iy = oy * sy + ky * dy - pt, ix = ox * sx + kx * dx - pl;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    sum += (long)(t.W[(c * kh + ky) * kw + kx] - zw) * (t.X[((n * t.Channels + c) * h + iy) * w + ix] - t.Zx);
                }
                acc[((n * t.Channels + c) * oh + oy) * ow + ox] = checked((int)sum);
            }
        }
        return acc;
    }

    static int[] RunDepthwise<TX, TW>(DepthwiseCase t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        var acc = new int[t.Batch * t.Channels * t.Geometry[3] * t.Geometry[4]];
        // Scratch filled with junk: the kernel must not rely on it being cleared.
        int[] scratch = Enumerable.Repeat(0x5A5A5A5A, QuantizedDepthwise.ScratchLength(t.Geometry)).ToArray();
        TX[] zx = t.Zx == 0 && t.Label.Contains("zeros none") ? Array.Empty<TX>() : new[] { TX.CreateTruncating(t.Zx) };
        QuantizedDepthwise.Convolve2D<TX, TW>(t.X.Select(TX.CreateTruncating).ToArray(), zx, t.W.Select(TW.CreateTruncating).ToArray(),
            t.Zw.Select(TW.CreateTruncating).ToArray(), acc, scratch, t.Batch, t.Channels, t.Geometry);
        return acc;
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseMatchesTheDefinitionForChannelsStridesDilationsPadsAndZeroPoints(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        foreach (var t in DepthwiseCases(300, 2024).Concat(DepthwiseCases(200, 2026, sameWidth: true)))
        {
            int[] expected = DepthwiseReference(t);
            int[] actual = (t.XSigned, t.WSigned) switch
            {
                (false, true) => RunDepthwise<byte, sbyte>(t),
                (false, false) => RunDepthwise<byte, byte>(t),
                (true, true) => RunDepthwise<sbyte, sbyte>(t),
                _ => RunDepthwise<sbyte, byte>(t),
            };
            for (int i = 0; i < expected.Length; i++)
                Assert.True(expected[i] == actual[i], $"tier {tier} {t.Label}: element {i} is {actual[i]}, expected {expected[i]}");
        }
    });

    static TOut[] RunDepthwiseRequantized<TX, TW, TOut>(DepthwiseCase t, int[] bias, float[] multipliers, int zeroPoint, bool packed)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TOut : unmanaged, IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        var y = new TOut[t.Batch * t.Channels * t.Geometry[3] * t.Geometry[4]];
        int[] scratch = Enumerable.Repeat(0x5A5A5A5A, QuantizedDepthwise.ScratchLength(t.Geometry)).ToArray();
        TX[] x = t.X.Select(TX.CreateTruncating).ToArray(), zx = t.Zx == 0 && t.Label.Contains("zeros none") ? Array.Empty<TX>() : new[] { TX.CreateTruncating(t.Zx) };
        TW[] w = t.W.Select(TW.CreateTruncating).ToArray(), zw = t.Zw.Select(TW.CreateTruncating).ToArray();
        if (packed)
            QuantizedDepthwise.Convolve2DRequantized<TX, TW, TOut>(x, zx, Int8DepthwiseWeights<TW>.Pack(w, zw, t.Channels, t.Geometry[5] * t.Geometry[6]), bias, multipliers,
                zeroPoint, y, scratch, t.Batch, t.Channels, t.Geometry);
        else QuantizedDepthwise.Convolve2DRequantized<TX, TW, TOut>(x, zx, w, zw, bias, multipliers, zeroPoint, y, scratch, t.Batch, t.Channels, t.Geometry);
        return y;
    }

    /// <summary>
    /// Requantises <paramref name="t"/> with a random output zero point, per-tensor or per-channel multipliers and an
    /// optional bias, and checks every output against the definition. With <paramref name="extremes"/>, biases near
    /// ±2²⁴ (where a float sum started at the bias would round) and multipliers from 10⁻⁹ to 10⁸ (products beyond
    /// int32's range) instead of the ordinary ones. With <paramref name="packed"/>, the weights are packed once first
    /// (<see cref="Int8DepthwiseWeights{TW}"/>, what generated code passes for constant weights).
    /// </summary>
    static void CheckDepthwiseRequantized<TOut>(QuantizedGemmTier tier, DepthwiseCase t, Random random, bool extremes = false, bool packed = false)
        where TOut : unmanaged, IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        int[] acc = DepthwiseReference(t);
        int zeroPoint = random.Next(int.CreateTruncating(TOut.MinValue), int.CreateTruncating(TOut.MaxValue) + 1);
        bool perChannel = random.Next(2) == 1, withBias = extremes || random.Next(2) == 1;
        // Multipliers around 1/|acc| put the outputs across the whole byte range, so rounding and saturation both happen.
        float[] multipliers = Enumerable.Range(0, perChannel ? t.Channels : 1).Select(_ => extremes
            ? new[] { 1e-9f, 3e-6f, 1e3f, 1e6f, 1e8f }[random.Next(5)] * (random.Next(2) == 0 ? 1 : -1)
            : (float)(random.NextDouble() * 4 / (1 + acc.Select(Math.Abs).Max()) * 255)).ToArray();
        int[] bias = !withBias ? Array.Empty<int>()
            : Enumerable.Range(0, t.Channels).Select(_ => extremes ? (random.Next(2) == 0 ? 1 : -1) * ((1 << 24) - random.Next(0, 600000)) : random.Next(-5000, 5000)).ToArray();
        TOut[] actual = (t.XSigned, t.WSigned) switch
        {
            (false, true) => RunDepthwiseRequantized<byte, sbyte, TOut>(t, bias, multipliers, zeroPoint, packed),
            (false, false) => RunDepthwiseRequantized<byte, byte, TOut>(t, bias, multipliers, zeroPoint, packed),
            (true, true) => RunDepthwiseRequantized<sbyte, sbyte, TOut>(t, bias, multipliers, zeroPoint, packed),
            _ => RunDepthwiseRequantized<sbyte, byte, TOut>(t, bias, multipliers, zeroPoint, packed),
        };
        int planeSize = t.Geometry[3] * t.Geometry[4];
        for (int i = 0; i < acc.Length; i++)
        {
            int c = i / planeSize % t.Channels;
            TOut expected = RequantizeReference<TOut>(acc[i], withBias ? bias[c] : 0, multipliers[perChannel ? c : 0], zeroPoint);
            Assert.True(expected == actual[i], $"tier {tier} {t.Label}{(packed ? " packed" : "")} → {typeof(TOut).Name} zero point {zeroPoint}{(perChannel ? " per-channel" : "")}{(withBias ? " bias" : "")}: " +
                                               $"element {i} is {actual[i]}, expected {expected} (acc {acc[i]})");
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseRequantizedMatchesTheDefinitionForEveryGeometryAndOutputType(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(7);
        foreach (var t in DepthwiseCases(300, 2025).Concat(DepthwiseCases(200, 2027, sameWidth: true)))
        {
            CheckDepthwiseRequantized<byte>(tier, t, random);
            CheckDepthwiseRequantized<sbyte>(tier, t, random);
        }
    });

    /// <summary>
    /// The small planes the channel-block path takes (and, on lower tiers, the image-vectorised one): channels 1…17 and
    /// 64 (partial and whole blocks of 16), planes 1×1…17×17 with widths 1–5 weighted up, kernels 3×3, 5×5, 7×3 and 1×1,
    /// strides 1 and 2, dilations 1 and 2, pads 0 to the kernel's reach, every zero-point class and signedness.
    /// </summary>
    static IEnumerable<DepthwiseCase> SmallPlaneCases(int seed)
    {
        var random = new Random(seed);
        int[][] kernels = { new[] { 3, 3 }, new[] { 5, 5 }, new[] { 7, 3 }, new[] { 1, 1 } };
        int made = 0;
        foreach (int channels in Enumerable.Range(1, 17).Append(64))
        {
            for (int i = 0; i < 24; i++)
            {
                int[] k = kernels[i % kernels.Length];
                int h = random.Next(1, 18), w = i % 3 == 0 ? random.Next(1, 18) : random.Next(1, 6);
                int s = 1 + i / 4 % 2, d = i % 7 == 6 ? 2 : 1;
                if (RandomPadsGeometry(random, h, w, k, s, d) is not { } geometry) continue;
                yield return RandomCase(random, made++, i % 5 == 4 ? 2 : 1, channels, geometry);
            }
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseRequantizedMatchesTheDefinitionOnSmallPlanesAcrossChannelBlocks(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(11);
        foreach (var t in SmallPlaneCases(2028))
        {
            CheckDepthwiseRequantized<byte>(tier, t, random);
            CheckDepthwiseRequantized<sbyte>(tier, t, random);
        }
    });

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseRequantizedIsExactForBiasesNearTheFloatLimitAndHugeMultipliers(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(17);
        foreach (var t in SmallPlaneCases(2030).Where((_, i) => i % 4 == 0))
        {
            CheckDepthwiseRequantized<byte>(tier, t, random, extremes: true);
            CheckDepthwiseRequantized<sbyte>(tier, t, random, extremes: true);
        }
    });

    /// <summary>
    /// Weights packed once (<see cref="Int8DepthwiseWeights{TW}"/>): the same bytes as the definition on the small and
    /// tall planes, and with biases near 2²⁴ and huge multipliers, on every tier (the channel-block path reads the packed
    /// taps, the others the weights the object keeps).
    /// </summary>
    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseRequantizedOnPackedWeightsMatchesTheDefinition(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(19);
        foreach (var t in SmallPlaneCases(2031).Concat(TallPlaneCases(2032)))
        {
            CheckDepthwiseRequantized<byte>(tier, t, random, packed: true);
            CheckDepthwiseRequantized<sbyte>(tier, t, random, packed: true);
        }
        foreach (var t in SmallPlaneCases(2033).Where((_, i) => i % 4 == 0))
            CheckDepthwiseRequantized<byte>(tier, t, random, extremes: true, packed: true);
    });

    /// <summary>
    /// 3×3 stride-1 layers, what the channel-block path computes by tiles of two rows × five columns: heights 1–9 (odd
    /// ones overlap the last pair), widths 3–17 and 25×5 (overlapping last tiles, and widths the tiles leave to the
    /// position groups), random pads, partial and whole blocks of 16 channels, batches of 1 and 2, every zero-point class
    /// and signedness, weights as given and packed.
    /// </summary>
    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseRequantizedMatchesTheDefinitionOnThreeByThreeStrideOneTiles(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(23);
        int made = 0;
        foreach (var (h, w) in Enumerable.Range(1, 9).SelectMany(h => new[] { 3, 5, 6, 9, 10, 11, 14, 17 }.Select(w => (h, w))).Append((25, 5)))
        {
            if (RandomPadsGeometry(random, h, w, new[] { 3, 3 }, 1, 1) is not { } geometry) continue;
            var t = RandomCase(random, made, 1 + made % 2, new[] { 16, 17, 64 }[made % 3], geometry);
            CheckDepthwiseRequantized<byte>(tier, t, random, packed: made % 2 == 0);
            CheckDepthwiseRequantized<sbyte>(tier, t, random, packed: made++ % 2 == 1);
        }
    });

    [Fact]
    public void PackedDepthwiseWeightsRejectOtherLayers()
    {
        var weights = Int8DepthwiseWeights<sbyte>.Pack(new sbyte[18], Array.Empty<sbyte>(), 2, 9);
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var error = Assert.Throws<ArgumentException>(() => QuantizedDepthwise.Convolve2DRequantized<byte, sbyte, byte>(new byte[75], ReadOnlySpan<byte>.Empty, weights,
            ReadOnlySpan<int>.Empty, new[] { 1f }, 0, new byte[75], new int[QuantizedDepthwise.ScratchLength(geometry)], 1, 3, geometry));
        Assert.Contains("packed for 2 channels of 9 taps, the layer has 3 of 9", error.Message);
        Assert.Throws<ArgumentException>(() => Int8DepthwiseWeights<sbyte>.Pack(new sbyte[17], Array.Empty<sbyte>(), 2, 9));
        Assert.Throws<ArgumentException>(() => Int8DepthwiseWeights<sbyte>.Pack(new sbyte[18], new sbyte[3], 2, 9));
    }

    /// <summary>
    /// Planes taller than the channel-block path's band of padded rows, so rows still needed move to the band's start and
    /// padding rows land where image rows were: 100×60 and 70×70 (planes above 4096 positions: the band grows to 512
    /// positions), 40×120 (wide rows: it keeps span + 4·stride rows), and 40×9 (filled at once), kernels 3×3, 5×3 and 1×1,
    /// strides 1 and 2, dilations 1 and 2, random pads, partial and whole blocks of 16 channels, batches of 1 and 2,
    /// every zero-point class and signedness.
    /// </summary>
    static IEnumerable<DepthwiseCase> TallPlaneCases(int seed)
    {
        var random = new Random(seed);
        int[][] images = { new[] { 40, 9 }, new[] { 100, 60 }, new[] { 70, 70 }, new[] { 40, 120 } };
        int[][] kernels = { new[] { 3, 3 }, new[] { 5, 3 }, new[] { 1, 1 } };
        int made = 0;
        foreach (int[] image in images)
            foreach (int[] k in kernels)
                foreach (int s in new[] { 1, 2 })
                    foreach (int d in new[] { 1, 2 })
                    {
                        int channels = new[] { 5, 16, 17, 33 }[made % 4], batch = 1 + made % 2;
                        // These images are at least 9 wide, more than any window here reaches, so every geometry exists.
                        int[] geometry = RandomPadsGeometry(random, image[0], image[1], k, s, d)!;
                        yield return RandomCase(random, made++, batch, channels, geometry);
                    }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseRequantizedMatchesTheDefinitionOnPlanesTallerThanTheBand(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(13);
        foreach (var t in TallPlaneCases(2029))
        {
            CheckDepthwiseRequantized<byte>(tier, t, random);
            CheckDepthwiseRequantized<sbyte>(tier, t, random);
        }
    });

    /// <summary>
    /// Kernels with more taps than a float sum holds exactly (17×17 = 289 &gt; <see cref="QuantizedDepthwise.ExactFloatTaps"/>)
    /// on extreme u8×u8 values: 289·255² exceeds 2²⁴, so a single float sum would round; the chunked sums must not.
    /// </summary>
    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseWithMoreTapsThanAFloatSumHoldsIsExact(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(17);
        foreach (int h in new[] { 17, 20, 23 })
        {
            int w = h + 2, channels = 3, oh = h - 16 + 2, ow = w - 16 + 2;
            int[] geometry = { 2, h, w, oh, ow, 17, 17, 1, 1, 1, 1, 1, 1, 1, 1 };
            int[] x = Enumerable.Range(0, channels * h * w).Select(i => i % 31 == 0 ? random.Next(256) : 255).ToArray();
            int[] weights = Enumerable.Range(0, channels * 289).Select(i => i % 29 == 0 ? random.Next(256) : 255).ToArray();
            var t = new DepthwiseCase(1, channels, geometry, false, false, x, 0, weights, new[] { 0 }, $"image {h}x{w} kernel 17x17 u8xu8");
            int[] expected = DepthwiseReference(t), actual = RunDepthwise<byte, byte>(t);
            Assert.True(expected.Max() > 1 << 24, "the case must exceed what a float holds exactly");
            for (int i = 0; i < expected.Length; i++)
                Assert.True(expected[i] == actual[i], $"tier {tier} {t.Label}: element {i} is {actual[i]}, expected {expected[i]}");
        }
    });

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void DepthwiseRejectsTooSmallScratch(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var error = Assert.Throws<ArgumentException>(() => QuantizedDepthwise.Convolve2D<byte, sbyte>(new byte[25], ReadOnlySpan<byte>.Empty, new sbyte[9],
            ReadOnlySpan<sbyte>.Empty, new int[25], new int[QuantizedDepthwise.ScratchLength(geometry) - 1], 1, 1, geometry));
        Assert.Contains("scratch", error.Message);
    });

    static T RequantizeReference<T>(int acc, int bias, float multiplier, int zeroPoint) where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        float value = (acc + bias) * multiplier;
        double rounded = Math.Round((double)value, MidpointRounding.ToEven) + zeroPoint;
        return T.CreateTruncating((int)Math.Clamp(rounded, double.CreateTruncating(T.MinValue), double.CreateTruncating(T.MaxValue)));
    }

    static void CheckRequantization<T>(QuantizedGemmTier tier, int seed) where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        var random = new Random(seed);
        foreach (int columns in Enumerable.Range(1, 40).Concat(new[] { 63, 64, 65, 127, 200 }))
        {
            foreach (bool perRow in new[] { true, false })
            {
                foreach (string parameters in new[] { "per-tensor", "per-channel", "per-channel with bias", "per-tensor with bias" })
                {
                    int rows = random.Next(1, 6);
                    int channels = perRow ? rows : columns;
                    bool perChannel = parameters.StartsWith("per-channel");
                    // Multipliers of 0.5 and 0.25 put many values exactly on rounding ties.
                    float[] multipliers = Enumerable.Range(0, perChannel ? channels : 1)
                        .Select(_ => random.Next(3) switch { 0 => 0.5f, 1 => 0.25f, _ => (float)(random.NextDouble() * 0.05) }).ToArray();
                    int[] bias = parameters.EndsWith("bias") ? Enumerable.Range(0, perChannel ? channels : 1).Select(_ => random.Next(-3000, 3000)).ToArray() : Array.Empty<int>();
                    int[] acc = Enumerable.Range(0, rows * columns).Select(_ => random.Next(8) == 0 ? random.Next(int.MinValue / 4, int.MaxValue / 4) : random.Next(-2000, 2000)).ToArray();
                    int zeroPoint = int.CreateTruncating(T.MinValue) + random.Next(256);
                    var y = new T[rows * columns];
                    Requantization.ToInteger<T>(acc, bias, multipliers, perRow, zeroPoint, y, rows, columns);
                    for (int r = 0; r < rows; r++)
                    for (int c = 0; c < columns; c++)
                    {
                        int j = perRow ? r : c;
                        T expected = RequantizeReference<T>(acc[r * columns + c], bias.Length == 0 ? 0 : bias[j % bias.Length], multipliers[j % multipliers.Length], zeroPoint);
                        Assert.True(expected == y[r * columns + c],
                            $"tier {tier} {typeof(T).Name} rows {rows} columns {columns} {(perRow ? "per-row" : "per-column")} {parameters} zero point {zeroPoint}: " +
                            $"[{r}, {c}] is {y[r * columns + c]}, expected {expected}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void RequantizationRoundsHalfToEvenAndSaturatesLikeTheReference(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        CheckRequantization<byte>(tier, 11);
        CheckRequantization<sbyte>(tier, 12);
    });
}

/// <summary>
/// QuantizeLinear / DequantizeLinear between float and u8/s8 on every tier against the scalar tier (the reference code):
/// per-tensor lengths 0…70 and per-axis planes, rounding ties, NaN, infinities and saturation. Results must be identical.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class LinearQuantizationKernelTests
{
    /// <summary>Per-tensor {1, 1, n, 1, 0, 0, 0} or per-axis over channels of a [channels, plane] tensor.</summary>
    static IEnumerable<(int[] Geometry, int Parameters, string Label)> Layouts()
    {
        for (int n = 0; n <= 70; n++) yield return (new[] { 1, 1, n, 1, 0, 0, 0 }, 1, $"per-tensor length {n}");
        foreach (var (channels, plane) in new[] { (3, 17), (5, 16), (2, 40), (4, 7) })
            yield return (new[] { 1, channels, plane, 1, 0, 1, 0 }, channels, $"per-axis {channels} channels of {plane}");
    }

    static void CheckQuantize<T>(QuantizedGemmTier tier, int seed) where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        var random = new Random(seed);
        foreach (var (geometry, parameters, label) in Layouts())
        {
            int count = geometry[1] * geometry[2];
            float[] scale = Enumerable.Range(0, parameters).Select(_ => random.Next(2) == 0 ? 0.5f : (float)(random.NextDouble() * 0.1 + 1e-3)).ToArray();
            T[] zero = Enumerable.Range(0, parameters).Select(_ => T.CreateTruncating(random.Next(256) + int.CreateTruncating(T.MinValue))).ToArray();
            float[] x = Enumerable.Range(0, count).Select(i => (i % 11) switch
            {
                0 => float.NaN,
                1 => random.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                2 => (random.Next(-300, 300) + 0.5f) * 0.5f,  // a tie at scale 0.5
                3 => (float)(random.NextDouble() * 1e6 - 5e5),
                _ => (float)(random.NextDouble() * 40 - 20),
            }).ToArray();
            T[] expected = ForcedTier.Run(QuantizedGemmTier.Scalar, () => { var y = new T[count]; LinearQuantization.Quantize<float, float, T>(x, scale, zero, y, geometry); return y; });
            T[] actual = ForcedTier.Run(tier, () => { var y = new T[count]; LinearQuantization.Quantize<float, float, T>(x, scale, zero, y, geometry); return y; });
            for (int i = 0; i < count; i++)
                Assert.True(expected[i] == actual[i], $"tier {tier} quantize to {typeof(T).Name} {label}: x[{i}] = {x[i]} gives {actual[i]}, expected {expected[i]}");
            float[] back = ForcedTier.Run(tier, () => { var y = new float[count]; LinearQuantization.Dequantize<T, float, float>(actual, scale, zero, y, geometry); return y; });
            float[] reference = ForcedTier.Run(QuantizedGemmTier.Scalar, () => { var y = new float[count]; LinearQuantization.Dequantize<T, float, float>(actual, scale, zero, y, geometry); return y; });
            for (int i = 0; i < count; i++)
                Assert.True(BitConverter.SingleToInt32Bits(reference[i]) == BitConverter.SingleToInt32Bits(back[i]),
                    $"tier {tier} dequantize from {typeof(T).Name} {label}: element {i} is {back[i]}, expected {reference[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void QuantizeAndDequantizeMatchTheScalarReference(QuantizedGemmTier tier)
    {
        CheckQuantize<byte>(tier, 21);
        CheckQuantize<sbyte>(tier, 22);
    }
}

/// <summary>
/// The 2-D im2col gather of quantised (byte) images against the rank-generic one: strides 1…3 (stride 2 has a vector
/// path), widths past 32 so it runs, pads, dilations, and the zero point as padding.
/// </summary>
public class ByteColumnGatherTests
{
    [Fact]
    public void Gather2DOfBytesMatchesTheGenericGather()
    {
        var random = new Random(31);
        for (int trial = 0; trial < 200; trial++)
        {
            int h = random.Next(1, 9), w = random.Next(1, 90), kh = random.Next(1, 4), kw = random.Next(1, 4);
            int sy = random.Next(1, 4), sx = trial % 2 == 0 ? 2 : random.Next(1, 4), dy = random.Next(1, 3), dx = random.Next(1, 3);
            int[] pads = { random.Next(0, 3), random.Next(0, 3), random.Next(0, 3), random.Next(0, 3) };
            int spanY = h + pads[0] + pads[2] - (kh - 1) * dy - 1, spanX = w + pads[1] + pads[3] - (kw - 1) * dx - 1;
            if (spanY < 0 || spanX < 0) continue;
            int oh = spanY / sy + 1, ow = spanX / sx + 1, channels = random.Next(1, 4);
            int[] geometry = { 2, h, w, oh, ow, kh, kw, sy, sx, dy, dx, pads[0], pads[1], pads[2], pads[3] };
            var window = new AotInfer.Kernels.Convolution.Window(geometry);
            byte[] image = new byte[channels * h * w];
            random.NextBytes(image);
            byte zero = (byte)random.Next(256);
            var expected = new byte[channels * kh * kw * oh * ow];
            var actual = new byte[expected.Length];
            AotInfer.Kernels.Convolution.ColumnBuffer.Gather<byte>(image, channels, window, expected, zero);
            AotInfer.Kernels.Convolution.ColumnBuffer.Gather2D<byte>(image, channels, window, actual, zero);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"channels {channels} image {h}x{w} kernel {kh}x{kw} strides {sy}x{sx} dilations {dy}x{dx} pads [{string.Join(",", pads)}]");
        }
    }
}

/// <summary>Runs kernel code with <see cref="QuantizedMatrixMultiply.Tier"/> forced on this thread, then restores the best tier.</summary>
public static class ForcedTier
{
    /// <summary>Every tier this machine has, as xunit member data.</summary>
    public static IEnumerable<object[]> All() =>
        Enum.GetValues<QuantizedGemmTier>().Where(t => t <= QuantizedMatrixMultiply.BestTier).Select(t => new object[] { t });

    /// <summary>The result of <paramref name="run"/> computed on <paramref name="tier"/>.</summary>
    public static T Run<T>(QuantizedGemmTier tier, Func<T> run)
    {
        try
        {
            QuantizedMatrixMultiply.Tier = tier;
            return run();
        }
        finally
        {
            QuantizedMatrixMultiply.Tier = QuantizedMatrixMultiply.BestTier;
        }
    }

    /// <summary><paramref name="action"/> on <paramref name="tier"/>.</summary>
    public static void Run(QuantizedGemmTier tier, Action action) => Run(tier, () => { action(); return 0; });
}
