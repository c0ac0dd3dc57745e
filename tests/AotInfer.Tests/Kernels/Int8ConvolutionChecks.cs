using System;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>A random int8 convolution layer: geometry packed as the kernels take it (rank, input, output, kernel, strides, dilations, pads).</summary>
sealed record Int8ConvolutionCase(int Batch, int Channels, int OutChannels, int Groups, int[] Geometry, bool XSigned, bool WSigned, int[] X, int Zx, bool NoZx,
    int[] W, int[] Zw, int[] Bias, string Label)
{
    public int OutputSize => Geometry[3] * Geometry[4];

    public TX[] ZeroPoint<TX>() where TX : IBinaryInteger<TX> => NoZx ? Array.Empty<TX>() : new[] { TX.CreateTruncating(Zx) };
}

/// <summary>A requantising int8 convolution kernel under test, run on a case with each image, weight and output type.</summary>
interface IInt8ConvolutionUnderTest
{
    /// <summary>The int32 sums (ConvInteger), or null when the kernel has no int32 output.</summary>
    int[]? Sums<TX, TW>(Int8ConvolutionCase t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>;

    /// <summary>The requantised bytes (QLinearConv), widened to int.</summary>
    int[] Bytes<TX, TW, TY>(Int8ConvolutionCase t, float[] multipliers, int zeroPoint)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>;
}

/// <summary>
/// What the int8 convolution tests (<see cref="Int8DirectConvolutionTests"/>, <see cref="Int8GemmConvolutionToBytesTests"/>) share:
/// the random layers around a geometry (u8/s8 images and weights, every zero-point class, bias or none), the convolution
/// computed from the definition, its requantisation by <see cref="Requantization.ToInteger{TOut}"/>, and the exact
/// comparison of every output type.
/// </summary>
static class Int8ConvolutionChecks
{
    /// <summary>
    /// The data of a layer of this shape: zero-point class by <paramref name="made"/> (none, mid-range, random,
    /// per-channel, weights reaching 128 from their zero point), weights within a signed byte of their zero points,
    /// and with <paramref name="extremeImages"/> every ninth image all minimum or all maximum.
    /// </summary>
    public static Int8ConvolutionCase Draw(Random random, int made, int batch, int channels, int outChannels, int groups, int[] geometry, string shape, bool extremeImages)
    {
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
        int depth = channels / groups * geometry[5] * geometry[6];
        int[] weights = new int[outChannels * depth];
        for (int r = 0, i = 0; r < outChannels; r++)
        {
            int zero = zw.Length == 0 ? 0 : zw[zw.Length == 1 ? 0 : r];
            int reach = zeroClass == "full range" ? 128 : 64;
            for (int k = 0; k < depth; k++, i++)
                weights[i] = Math.Clamp(zero + random.Next(-reach, reach), Math.Max(lowW, zero - 128), Math.Min(lowW + 255, zero + 127));
        }
        // Extreme images (all minimum or all maximum) check that no intermediate saturates.
        int fill = extremeImages && made % 9 == 8 ? (random.Next(2) == 0 ? lowX : lowX + 255) : int.MinValue;
        int[] x = Enumerable.Range(0, batch * channels * geometry[1] * geometry[2]).Select(_ => fill != int.MinValue ? fill : random.Next(lowX, lowX + 256)).ToArray();
        int[] bias = random.Next(3) == 0 ? Array.Empty<int>() : Enumerable.Range(0, outChannels).Select(_ => random.Next(-20000, 20000)).ToArray();
        string label = $"batch {batch} channels {channels}→{outChannels}{(groups > 1 ? $" groups {groups}" : "")} {shape} {(xSigned ? "s8" : "u8")}x{(wSigned ? "s8" : "u8")} " +
                       $"zeros {zeroClass}{(bias.Length == 0 ? " no bias" : "")}" + (fill != int.MinValue ? $" image all {fill}" : "");
        return new Int8ConvolutionCase(batch, channels, outChannels, groups, geometry, xSigned, wSigned, x, zx, zeroClass == "none", weights, zw, bias, label);
    }

    /// <summary>Σ (w − zw)·(x − zx) + bias per output, from the definition (padding contributes nothing, negative pads crop).</summary>
    public static int[] Sums(Int8ConvolutionCase t)
    {
        int[] g = t.Geometry;
        int h = g[1], w = g[2], oh = g[3], ow = g[4], kh = g[5], kw = g[6], sy = g[7], sx = g[8], dy = g[9], dx = g[10], pt = g[11], pl = g[12];
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
                for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                {
                    int iy = oy * sy + ky * dy - pt, ix = ox * sx + kx * dx - pl;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    sum += (long)(t.W[((m * groupIn + c) * kh + ky) * kw + kx] - zw) * (t.X[((n * t.Channels + firstChannel + c) * h + iy) * w + ix] - t.Zx);
                }
                sums[((n * t.OutChannels + m) * oh + oy) * ow + ox] = checked((int)sum);
            }
        }
        return sums;
    }

    /// <summary>
    /// Runs every case through <paramref name="kernel"/> with its image and weight types and checks the int32 sums (when
    /// it has them) and the u8 and s8 outputs exactly against the definition.
    /// </summary>
    public static void Check<TKernel>(TKernel kernel, System.Collections.Generic.IEnumerable<Int8ConvolutionCase> cases, int seed, string context)
        where TKernel : IInt8ConvolutionUnderTest
    {
        var random = new Random(seed);
        foreach (var t in cases)
        {
            int[] sums = Sums(t);
            switch (t.XSigned, t.WSigned)
            {
                case (false, true): Check<TKernel, byte, sbyte>(kernel, t, sums, random, context); break;
                case (false, false): Check<TKernel, byte, byte>(kernel, t, sums, random, context); break;
                case (true, true): Check<TKernel, sbyte, sbyte>(kernel, t, sums, random, context); break;
                default: Check<TKernel, sbyte, byte>(kernel, t, sums, random, context); break;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="check"/> (context, seed) on the forced <paramref name="tier"/>, then on a CPU with AVX-VNNI
    /// again with it off for the AVX2 and AVX-512 tiers (which run <c>vpdpbusd</c> by default), so that their
    /// <c>vpmaddubsw</c> kernels are covered too.
    /// </summary>
    public static void WithAndWithoutVnni(QuantizedGemmTier tier, Action<string, int> check, int seed, int seedWithoutVnni)
    {
        check($"tier {tier}", seed);
        if (tier < QuantizedGemmTier.Avx2 || !System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) return;
        Int8Gemm.AllowVnni = false;
        try { check($"tier {tier} without VNNI", seedWithoutVnni); }
        finally { Int8Gemm.AllowVnni = true; }
    }

    static void Check<TKernel, TX, TW>(TKernel kernel, Int8ConvolutionCase t, int[] sums, Random random, string context)
        where TKernel : IInt8ConvolutionUnderTest where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        if (kernel.Sums<TX, TW>(t) is { } actualSums) AssertExact(actualSums, sums, $"{context} int32 {t.Label}");
        // Multipliers of 0.5 and 0.25 put many values exactly on rounding ties; small ones keep most values in range.
        float[] multipliers = Enumerable.Range(0, random.Next(2) == 0 ? 1 : t.OutChannels)
            .Select(_ => random.Next(3) switch { 0 => 0.5f, 1 => 0.25f, _ => (float)(random.NextDouble() * 0.02) }).ToArray();
        int uZero = random.Next(256), sZero = random.Next(-128, 128);
        AssertExact(kernel.Bytes<TX, TW, byte>(t, multipliers, uZero), Requantized<byte>(sums, t, multipliers, uZero), $"{context} u8 output {t.Label}");
        AssertExact(kernel.Bytes<TX, TW, sbyte>(t, multipliers, sZero), Requantized<sbyte>(sums, t, multipliers, sZero), $"{context} s8 output {t.Label}");
    }

    static int[] Requantized<TY>(int[] sums, Int8ConvolutionCase t, float[] multipliers, int zeroPoint) where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        var y = new TY[sums.Length];
        float[] perRow = Enumerable.Range(0, t.Batch * t.OutChannels).Select(r => multipliers[multipliers.Length == 1 ? 0 : r % t.OutChannels]).ToArray();
        Requantization.ToInteger<TY>(sums, ReadOnlySpan<int>.Empty, perRow, true, zeroPoint, y, t.Batch * t.OutChannels, t.OutputSize);
        return y.Select(int.CreateTruncating).ToArray();
    }

    static void AssertExact(int[] actual, int[] expected, string context)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i], $"{context}: element {i} is {actual[i]}, expected {expected[i]}");
    }
}
