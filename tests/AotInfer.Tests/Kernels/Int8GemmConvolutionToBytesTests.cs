using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="QuantizedConvolution.Im2ColGemmToBytes{TX, TY}"/> (QLinearConv on the byte GEMM, requantised one block of
/// output positions at a time) on every tier this machine has, forced in turn, with and without AVX-VNNI, against sums
/// computed straight from the definition and requantised by <see cref="Requantization.ToInteger{TOut}"/>: 1×1 layers
/// on planes from 1 pixel to several column blocks (2500 positions), k×k layers with strides and pads, groups, channels
/// 1…17, u8/s8 images and weights, every zero-point class (weights reaching 128 from their zero point take the
/// fix-up path), bias or none, per-tensor and per-channel multipliers, u8 and s8 outputs, batches. Results must be exact.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8GemmConvolutionToBytesTests
{
    sealed record Case(int Batch, int Channels, int OutChannels, int Groups, int[] Geometry, bool XSigned, bool WSigned, int[] X, int Zx, bool NoZx, int[] W, int[] Zw,
        int[] Bias, string Label);

    static IEnumerable<Case> Cases(int count, int seed)
    {
        var random = new Random(seed);
        for (int made = 0; made < count; made++)
        {
            // Two in three layers are pointwise (the MobileNetV2 case), some on planes wider than one column block.
            bool pointwise = made % 3 != 2;
            int h = made % 7 == 0 ? random.Next(30, 51) : random.Next(1, 14), w = made % 7 == 0 ? random.Next(30, 51) : random.Next(1, 30);
            int k = pointwise ? 1 : random.Next(2, 4), stride = pointwise ? 1 : random.Next(1, 3), pad = pointwise ? 0 : random.Next(0, 2);
            if (h + 2 * pad < k || w + 2 * pad < k) { made--; continue; }
            int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
            int groups = made % 5 == 4 ? random.Next(2, 4) : 1;
            int groupIn = made < 17 ? made + 1 : random.Next(1, 18), groupOut = made < 17 ? 17 - made : random.Next(1, 40);
            int channels = groupIn * groups, outChannels = groupOut * groups, batch = random.Next(1, 3);
            bool xSigned = random.Next(2) == 1, wSigned = random.Next(2) == 1;
            int lowX = xSigned ? -128 : 0, lowW = wSigned ? -128 : 0;
            string zeroClass = new[] { "none", "middle", "random", "per-channel", "full range" }[made % 5];
            int zx = zeroClass switch { "none" => 0, "middle" => xSigned ? 0 : 128, _ => random.Next(lowX, lowX + 256) };
            int[] zw = zeroClass switch
            {
                "none" or "full range" => wSigned ? Array.Empty<int>() : new[] { 128 },
                "middle" => new[] { wSigned ? 0 : 128 },
                "random" => new[] { random.Next(lowW + 64, lowW + 192) },
                _ => Enumerable.Range(0, outChannels).Select(_ => random.Next(lowW + 64, lowW + 192)).ToArray(),
            };
            int depth = groupIn * k * k;
            int[] weights = new int[outChannels * depth];
            for (int r = 0, i = 0; r < outChannels; r++)
            {
                int zero = zw.Length == 0 ? 0 : zw[zw.Length == 1 ? 0 : r];
                int reach = zeroClass == "full range" ? 128 : 64;
                for (int j = 0; j < depth; j++, i++)
                    weights[i] = Math.Clamp(zero + random.Next(-reach, reach), Math.Max(lowW, zero - 128), Math.Min(lowW + 255, zero + 127));
            }
            int[] x = Enumerable.Range(0, batch * channels * h * w).Select(_ => random.Next(lowX, lowX + 256)).ToArray();
            int[] bias = random.Next(3) == 0 ? Array.Empty<int>() : Enumerable.Range(0, outChannels).Select(_ => random.Next(-20000, 20000)).ToArray();
            int[] geometry = { 2, h, w, oh, ow, k, k, stride, stride, 1, 1, pad, pad, pad, pad };
            string label = $"batch {batch} channels {channels}→{outChannels} groups {groups} image {h}x{w} kernel {k}x{k} stride {stride} pad {pad} " +
                           $"{(xSigned ? "s8" : "u8")}x{(wSigned ? "s8" : "u8")} zeros {zeroClass}{(bias.Length == 0 ? " no bias" : "")}";
            yield return new Case(batch, channels, outChannels, groups, geometry, xSigned, wSigned, x, zx, zeroClass == "none", weights, zw, bias, label);
        }
    }

    /// <summary>Σ (w − zw)·(x − zx) + bias per output, from the definition (padding contributes nothing).</summary>
    static int[] Sums(Case t)
    {
        int[] g = t.Geometry;
        int h = g[1], w = g[2], oh = g[3], ow = g[4], k = g[5], stride = g[7], pad = g[11];
        int groupIn = t.Channels / t.Groups, groupOut = t.OutChannels / t.Groups;
        var sums = new int[t.Batch * t.OutChannels * oh * ow];
        for (int n = 0; n < t.Batch; n++)
        for (int m = 0; m < t.OutChannels; m++)
        {
            int zw = t.Zw.Length == 0 ? 0 : t.Zw[t.Zw.Length == 1 ? 0 : m], firstChannel = m / groupOut * groupIn;
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                long sum = t.Bias.Length == 0 ? 0 : t.Bias[m];
                for (int c = 0; c < groupIn; c++)
                for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                {
                    int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    sum += (long)(t.W[((m * groupIn + c) * k + ky) * k + kx] - zw) * (t.X[((n * t.Channels + firstChannel + c) * h + iy) * w + ix] - t.Zx);
                }
                sums[((n * t.OutChannels + m) * oh + oy) * ow + ox] = checked((int)sum);
            }
        }
        return sums;
    }

    static int[] Run<TX, TW, TY>(Case t, float[] multipliers, int zeroPoint)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        int depth = t.Channels / t.Groups * t.Geometry[5] * t.Geometry[6], outputSize = t.Geometry[3] * t.Geometry[4];
        var weights = Int8PackedWeights.Pack(t.W.Select(TW.CreateTruncating).ToArray(), t.Zw.Select(TW.CreateTruncating).ToArray(), t.OutChannels, depth, transposed: false);
        var y = new TY[t.Batch * t.OutChannels * outputSize];
        // Scratch starts as garbage: the kernel must not depend on its contents.
        int[] acc = Enumerable.Repeat(0x5A5A5A5A, QuantizedConvolution.BlockAccumulatorLength(t.OutChannels / t.Groups, outputSize)).ToArray();
        TX[] zx = t.NoZx ? Array.Empty<TX>() : new[] { TX.CreateTruncating(t.Zx) };
        QuantizedConvolution.Im2ColGemmToBytes<TX, TY>(t.X.Select(TX.CreateTruncating).ToArray(), zx, weights, t.Bias, multipliers, zeroPoint, y, acc,
            new TX[depth * outputSize], new sbyte[Int8Gemm.PackedColumnsLength(depth, outputSize)], new int[t.OutChannels], t.Batch, t.Channels, t.OutChannels, t.Groups, t.Geometry);
        return y.Select(int.CreateTruncating).ToArray();
    }

    static int[] Requantized<TY>(int[] sums, Case t, float[] multipliers, int zeroPoint) where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        var y = new TY[sums.Length];
        float[] perRow = Enumerable.Range(0, t.Batch * t.OutChannels).Select(r => multipliers[multipliers.Length == 1 ? 0 : r % t.OutChannels]).ToArray();
        Requantization.ToInteger<TY>(sums, ReadOnlySpan<int>.Empty, perRow, true, zeroPoint, y, t.Batch * t.OutChannels, t.Geometry[3] * t.Geometry[4]);
        return y.Select(int.CreateTruncating).ToArray();
    }

    static IEnumerable<(string Path, int[] Actual, int[] Expected)> Run<TX, TW>(Case t, int[] sums, Random random)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        // Multipliers of 0.5 and 0.25 put many values exactly on rounding ties; small ones keep most values in range.
        float[] multipliers = Enumerable.Range(0, random.Next(2) == 0 ? 1 : t.OutChannels)
            .Select(_ => random.Next(3) switch { 0 => 0.5f, 1 => 0.25f, _ => (float)(random.NextDouble() * 0.02) }).ToArray();
        int uZero = random.Next(256), sZero = random.Next(-128, 128);
        yield return ("u8 output", Run<TX, TW, byte>(t, multipliers, uZero), Requantized<byte>(sums, t, multipliers, uZero));
        yield return ("s8 output", Run<TX, TW, sbyte>(t, multipliers, sZero), Requantized<sbyte>(sums, t, multipliers, sZero));
    }

    static void Check(QuantizedGemmTier tier, string vnni, int seed)
    {
        var random = new Random(seed);
        foreach (var t in Cases(90, seed))
        {
            int[] sums = Sums(t);
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
    public void MatchesTheDefinitionForPointwiseAndKxKLayersGroupsZeroPointsAndOutputTypes(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        Check(tier, "", 1618);
        // On a CPU with AVX-VNNI the AVX2 and AVX-512 tiers run vpdpbusd by default: their vpmaddubsw kernels too.
        if (tier >= QuantizedGemmTier.Avx2 && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            Int8Gemm.AllowVnni = false;
            try { Check(tier, " without VNNI", 1414); }
            finally { Int8Gemm.AllowVnni = true; }
        }
    });

    [Fact]
    public void RejectsTooSmallAccumulatorScratch()
    {
        int[] geometry = { 2, 40, 40, 40, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
        var weights = Int8PackedWeights.Pack(new sbyte[8 * 4], Array.Empty<sbyte>(), 8, 4, transposed: false);
        int needed = QuantizedConvolution.BlockAccumulatorLength(8, 1600);
        var error = Assert.Throws<ArgumentException>(() => QuantizedConvolution.Im2ColGemmToBytes<byte, byte>(new byte[4 * 1600], Array.Empty<byte>(), weights,
            ReadOnlySpan<int>.Empty, new[] { 0.5f }, 0, new byte[8 * 1600], new int[needed - 1], new byte[1], new sbyte[Int8Gemm.PackedColumnsLength(4, 1600)], new int[8],
            1, 4, 8, 1, geometry));
        Assert.Contains("acc holds", error.Message);
    }
}
