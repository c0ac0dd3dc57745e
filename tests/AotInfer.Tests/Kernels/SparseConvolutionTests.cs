using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Kernels.Linear;
using AotInfer.Kernels.Sparse;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The sparse convolution's tiers against a direct reference convolution: each of its three sources (the image in
/// place for 1×1, the bordered image for stride-1 2-D windows with pads and dilations, im2col columns for strides and
/// 1-D windows), output widths around the vector and tile sizes, sparsities from 0 to 100 %, batch 2, bias, fused
/// activations and a residual. Forcing a tier is global, so every test that forces one lives in this class and
/// restores the best tier.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class SparseConvolutionTests
{
    public static IEnumerable<object[]> Tiers() =>
        new[] { GemmTier.Scalar, GemmTier.Fma256, GemmTier.Avx512 }.Where(t => t <= SparseConvolution.BestTier).Select(t => new object[] { t });

    /// <summary>A 1-D or 2-D window: input, kernel, stride, dilation and pads per dimension.</summary>
    sealed record Shape(int[] Input, int[] Kernel, int[] Stride, int[] Dilation, int[] PadBegin, int[] PadEnd)
    {
        public int Rank => Input.Length;
        public int[] Output => Enumerable.Range(0, Rank)
            .Select(d => (Input[d] + PadBegin[d] + PadEnd[d] - Dilation[d] * (Kernel[d] - 1) - 1) / Stride[d] + 1).ToArray();
        public int[] Packed() => new[] { Rank }.Concat(Input).Concat(Output).Concat(Kernel).Concat(Stride).Concat(Dilation).Concat(PadBegin).Concat(PadEnd).ToArray();
        public override string ToString() => $"in {string.Join("x", Input)} k {string.Join("x", Kernel)} s {string.Join("x", Stride)} d {string.Join("x", Dilation)} pads {string.Join(",", PadBegin.Concat(PadEnd))}";
    }

    static Shape Square(int size, int kernel, int stride = 1, int dilation = 1, int pad = 0) =>
        new(new[] { size, size + 1 }, new[] { kernel, kernel }, new[] { stride, stride }, new[] { dilation, dilation }, new[] { pad, pad }, new[] { pad, pad });

    static readonly Shape[] Shapes =
    {
        Square(7, 1), Square(20, 1), // 1×1: the image in place
        Square(8, 3, pad: 1), Square(12, 5), Square(4, 3, pad: 1), Square(17, 3, dilation: 2, pad: 2), // bordered image
        new(new[] { 9, 6 }, new[] { 3, 2 }, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 2, 0 }, new[] { 0, 1 }), // asymmetric pads
        Square(9, 3, stride: 2, pad: 1), new(new[] { 30 }, new[] { 3 }, new[] { 1 }, new[] { 1 }, new[] { 1 }, new[] { 1 }), // im2col columns
    };

    /// <summary>y = W ⊛ x + b, residual added, activation applied: the definition, one output at a time.</summary>
    static float[] Reference(float[] x, float[] w, float[] bias, float[] residual, FusedActivation activation, int batch, int c, int m, Shape s)
    {
        int[] output = s.Output;
        int inputSize = s.Input.Aggregate(1, (a, b) => a * b), outputSize = output.Aggregate(1, (a, b) => a * b), taps = s.Kernel.Aggregate(1, (a, b) => a * b);
        int outWidth = s.Rank == 2 ? output[1] : 1, inWidth = s.Rank == 2 ? s.Input[1] : 1, kernelWidth = s.Rank == 2 ? s.Kernel[1] : 1;
        var y = new float[batch * m * outputSize];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < m; o++)
                for (int p = 0; p < outputSize; p++)
                {
                    double sum = 0;
                    for (int ch = 0; ch < c; ch++)
                        for (int tap = 0; tap < taps; tap++)
                        {
                            int i0 = p / outWidth * s.Stride[0] - s.PadBegin[0] + tap / kernelWidth * s.Dilation[0];
                            int i1 = s.Rank == 2 ? p % outWidth * s.Stride[1] - s.PadBegin[1] + tap % kernelWidth * s.Dilation[1] : 0;
                            if (i0 < 0 || i0 >= s.Input[0] || i1 < 0 || i1 >= inWidth) continue;
                            sum += (double)w[(o * c + ch) * taps + tap] * x[(n * c + ch) * inputSize + i0 * inWidth + i1];
                        }
                    int at = (n * m + o) * outputSize + p;
                    y[at] = (float)sum + (residual.Length == 0 ? 0 : residual[at]);
                }
        for (int r = 0; r < batch * m; r++) activation.Apply(y.AsSpan(r * outputSize, outputSize), bias.Length == 0 ? 0 : bias[r % m]);
        return y;
    }

    /// <summary>The compressed rows the compiler emits, from ONNX's [M, C, k...] weights.</summary>
    static SparseFilter Compress(float[] w, int m, int c, Shape s)
    {
        int depth = w.Length / m;
        var start = new List<int> { 0 };
        var taps = new List<ushort>();
        var values = new List<float>();
        for (int o = 0; o < m; o++)
        {
            for (int r = 0; r < depth; r++)
                if (w[o * depth + r] != 0)
                {
                    taps.Add((ushort)r);
                    values.Add(w[o * depth + r]);
                }
            start.Add(taps.Count);
        }
        return SparseFilter.Create(m, c, s.Packed(), start.ToArray(), taps.ToArray(), values.ToArray());
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void MatchesTheDirectConvolution(GemmTier tier)
    {
        var random = new Random(21);
        try
        {
            SparseConvolution.Tier = tier;
            foreach (var shape in Shapes)
                foreach (var (c, m) in new[] { (1, 1), (5, 3), (16, 18) })
                    foreach (double sparsity in new[] { 0, 0.5, 0.9, 1 })
                    {
                        int batch = 2, taps = shape.Kernel.Aggregate(1, (a, b) => a * b);
                        int inputSize = shape.Input.Aggregate(1, (a, b) => a * b), outputSize = shape.Output.Aggregate(1, (a, b) => a * b);
                        var w = Enumerable.Range(0, m * c * taps).Select(_ => random.NextDouble() < sparsity ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
                        var x = Enumerable.Range(0, batch * c * inputSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
                        bool withBias = random.Next(2) == 0, withResidual = random.Next(3) == 0;
                        var bias = withBias ? Enumerable.Range(0, m).Select(_ => (float)random.NextDouble()).ToArray() : Array.Empty<float>();
                        var residual = withResidual ? Enumerable.Range(0, batch * m * outputSize).Select(_ => (float)random.NextDouble()).ToArray() : Array.Empty<float>();
                        var activation = random.Next(2) == 0 ? new FusedActivation(ActivationKind.Relu) : new FusedActivation(ActivationKind.Sigmoid);
                        var filter = Compress(w, m, c, shape);
                        var scratch = Enumerable.Repeat(float.NaN, SparseConvolution.ScratchSize(c, shape.Packed())).ToArray();
                        var actual = Enumerable.Repeat(float.NaN, batch * m * outputSize + 3).ToArray();
                        SparseConvolution.Convolve(x, filter, bias, actual, scratch, batch, activation, residual);
                        var expected = Reference(x, w, bias, residual, activation, batch, c, m, shape);
                        string label = $"{tier} {shape} c={c} m={m} sparsity={sparsity} bias={withBias} residual={withResidual} {activation.Kind}";
                        for (int i = 0; i < expected.Length; i++)
                            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1, c * taps), $"{label}: y[{i}] is {actual[i]}, expected {expected[i]}");
                        Assert.True(actual.Skip(expected.Length).All(float.IsNaN), $"{label}: wrote past y");
                        Assert.Equal(w.Count(v => v != 0), filter.NonZeros);
                    }
        }
        finally
        {
            SparseConvolution.Tier = SparseConvolution.BestTier;
        }
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var shape = Square(4, 3, pad: 1);
        int[] geometry = shape.Packed();
        // 2 input channels × 9 taps = depth 18: tap 18 is out of range.
        Assert.Throws<ArgumentException>(() => SparseFilter.Create(1, 2, geometry, new[] { 0, 1 }, new ushort[] { 18 }, new[] { 1f }));
        var filter = SparseFilter.Create(1, 2, geometry, new[] { 0, 1 }, new ushort[] { 17 }, new[] { 1f });
        int scratch = SparseConvolution.ScratchSize(2, geometry);
        SparseConvolution.Convolve(new float[2 * 20], filter, default, new float[20], new float[scratch], 1);
        Assert.Throws<ArgumentException>(() => SparseConvolution.Convolve(new float[2 * 20], filter, default, new float[19], new float[scratch], 1));
        Assert.Throws<ArgumentException>(() => SparseConvolution.Convolve(new float[2 * 20], filter, default, new float[20], new float[scratch - 1], 1));
        Assert.Throws<ArgumentException>(() => SparseConvolution.Convolve(new float[2 * 20 - 1], filter, default, new float[20], new float[scratch], 1));
    }
}
