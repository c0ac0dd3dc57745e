using System;
using System.Linq;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The vectorised <see cref="LinearQuantization.DynamicQuantize"/> and <see cref="Requantization.ToFloat"/> against
/// the plain formulas, bit for bit: every length 0…100 plus long ones (vector body and scalar tail), inputs of every
/// sign class, values landing exactly on rounding midpoints, and every bias / multiplier layout.
/// </summary>
public class DynamicQuantizeKernelTests
{
    /// <summary>ONNX DynamicQuantizeLinear, one value at a time.</summary>
    static (byte[] Y, float Scale, byte Zero) Reference(float[] x)
    {
        float min = 0, max = 0;
        foreach (float v in x) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        float s = (max - min) / 255f;
        if (s == 0) return (new byte[x.Length], 0, 0);
        float zero = Math.Clamp(MathF.Round(-min / s, MidpointRounding.ToEven), 0f, 255f);
        return (x.Select(v => (byte)Math.Clamp(MathF.Round(v / s, MidpointRounding.ToEven) + zero, 0f, 255f)).ToArray(), s, (byte)zero);
    }

    static float[] Values(int seed, int length, string kind)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(i => kind switch
        {
            "positive" => (float)random.NextDouble() * 3,
            "negative" => -(float)random.NextDouble() * 3,
            "zeros" => 0f,
            // Multiples of scale/2 around the range: x / scale lands on .5 exactly, where rounding must be to even.
            "midpoints" => i % 2 == 0 ? 2.55f : (random.Next(-255, 256) + 0.5f) * 0.01f,
            // One NaN in 37 (none in the shortest): the range, scale and zero point become NaN and every output 0.
            "nan" => i % 37 == 36 ? float.NaN : (float)(random.NextDouble() * 4 - 2),
            _ => (float)(random.NextDouble() * 4 - 2),
        }).ToArray();
    }

    [Fact]
    public void DynamicQuantizeMatchesTheFormulaAtEveryLength()
    {
        int seed = 0;
        foreach (var kind in new[] { "mixed", "positive", "negative", "zeros", "midpoints", "nan" })
            foreach (int length in Enumerable.Range(0, 101).Concat(new[] { 255, 256, 257, 784, 1000 }))
            {
                var x = Values(++seed, length, kind);
                var (expected, expectedScale, expectedZero) = Reference(x);
                var y = Enumerable.Repeat((byte)77, length + 1).ToArray();
                var scale = new float[1];
                var zero = new byte[1];
                LinearQuantization.DynamicQuantize(x, y.AsSpan(0, length), scale, zero);
                Assert.Equal(expectedScale, scale[0]);
                Assert.Equal(expectedZero, zero[0]);
                Assert.True(expected.AsSpan().SequenceEqual(y.AsSpan(0, length)), $"{kind} length {length}");
                Assert.Equal(77, y[length]);
            }
    }

    [Fact]
    public void ToFloatMatchesTheFormulaForEveryBiasLayout()
    {
        var random = new Random(42);
        foreach (int columns in new[] { 1, 3, 7, 8, 9, 16, 17, 31, 100, 300 })
            foreach (int rows in new[] { 1, 3 })
                foreach (int intCount in new[] { 0, 1, columns })
                    foreach (int scaleCount in new[] { 1, columns })
                        foreach (int biasCount in new[] { 0, 1, columns })
                        {
                            int[] acc = Enumerable.Range(0, rows * columns).Select(_ => random.Next(-5_000_000, 5_000_000)).ToArray();
                            int[] intBias = Enumerable.Range(0, intCount).Select(_ => random.Next(-1000, 1000)).ToArray();
                            float[] scales = Enumerable.Range(0, scaleCount).Select(_ => (float)random.NextDouble() * 1e-4f).ToArray();
                            float[] bias = Enumerable.Range(0, biasCount).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
                            var expected = new float[rows * columns];
                            for (int i = 0; i < expected.Length; i++)
                            {
                                int c = i % columns;
                                int sum = acc[i] + (intCount == 0 ? 0 : intBias[intCount == 1 ? 0 : c]);
                                expected[i] = sum * scales[scaleCount == 1 ? 0 : c] + (biasCount == 0 ? 0f : bias[biasCount == 1 ? 0 : c]);
                            }
                            var y = new float[rows * columns];
                            Requantization.ToFloat(acc, intBias, 1f, scales, bias, y, rows, columns);
                            Assert.True(expected.AsSpan().SequenceEqual(y), $"rows {rows} columns {columns} int bias {intCount} scales {scaleCount} bias {biasCount}");
                            // With a separate activation scale: the multiplier is the float product aScale · bScale.
                            float aScale = (float)random.NextDouble() * 0.1f;
                            var multipliers = new float[scaleCount];
                            Requantization.Multipliers(aScale, scales, 1f, multipliers);
                            for (int i = 0; i < expected.Length; i++)
                            {
                                int c = i % columns;
                                expected[i] = (acc[i] + (intCount == 0 ? 0 : intBias[intCount == 1 ? 0 : c])) * multipliers[scaleCount == 1 ? 0 : c] + (biasCount == 0 ? 0f : bias[biasCount == 1 ? 0 : c]);
                            }
                            Requantization.ToFloat(acc, intBias, aScale, scales, bias, y, rows, columns);
                            Assert.True(expected.AsSpan().SequenceEqual(y), $"aScale {aScale} rows {rows} columns {columns} int bias {intCount} scales {scaleCount} bias {biasCount}");
                        }
    }
}
