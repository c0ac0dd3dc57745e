using System;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using Xunit;
using static AotInfer.Tests.Kernels.ConvolutionKernelTests;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The depthwise and pointwise convolution kernels of MobileNet, SqueezeNet and DS-CNN against the definition: channel
/// counts 1…17, odd planes, pads, with and without bias, every fused activation, on every tier the CPU has.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class MobileConvolutionKernelTests
{
    /// <summary>Every activation the compiler fuses, with Clip bounds inside the outputs' range so that both clamp.</summary>
    static readonly FusedActivation[] Activations =
    {
        default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.1f, 0.2f), new(ActivationKind.LeakyRelu, 0.1f),
        new(ActivationKind.Sigmoid), new(ActivationKind.HardSwish),
    };

    static float[] RandomArray(Random random, int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);

    /// <summary>The definition's output with the bias (zeros when <paramref name="bias"/> is empty) and then the activation.</summary>
    static float[] Expected(float[] x, float[] w, float[] bias, int batch, int inChannels, int outChannels, int groups, int[] geometry,
        FusedActivation activation, float[]? residual = null)
    {
        float[] y = NaiveConvolution(x, w, bias.Length == 0 ? new float[outChannels] : bias, batch, inChannels, outChannels, groups, new Window(geometry));
        if (residual is not null) for (int i = 0; i < y.Length; i++) y[i] += residual[i];
        activation.Apply(y);
        return y;
    }

    static void AssertNear(float[] expected, float[] y, string name)
    {
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"{name}, element {i}: {y[i]} vs {expected[i]}");
    }

    /// <summary>
    /// On every tier, <paramref name="convolve"/>(scratch, y) with scratch and y filled with NaN first (so that a read of
    /// scratch the kernel did not write, or an output it skipped, shows) matches <paramref name="expected"/>.
    /// </summary>
    static void AssertOnEveryTier(float[] expected, int scratchSize, string name, Action<float[], float[]> convolve)
    {
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            float[] scratch = new float[scratchSize], y = new float[expected.Length];
            scratch.AsSpan().Fill(float.NaN);
            y.AsSpan().Fill(float.NaN);
            convolve(scratch, y);
            AssertNear(expected, y, $"tier {tier}, {name}");
        });
    }

    [Fact]
    public void DepthwiseSameWidth3x3MatchesTheDefinitionForEveryActivationOnEveryTier()
    {
        var random = new Random(61);
        foreach (int channels in new[] { 1, 2, 3, 5, 8, 16, 17 })
        foreach (var (height, width) in new[] { (1, 1), (3, 5), (25, 5), (7, 7), (4, 16), (14, 14), (9, 33), (5, 70) })
        foreach (var (dilation, left, right) in new[] { (1, 1, 1), (2, 2, 2), (1, 0, 2), (1, 2, 0) })
        foreach (bool hasBias in new[] { true, false })
        foreach (var activation in Activations)
        {
            int[] geometry = { 2, height, width, height, width, 3, 3, 1, 1, dilation, dilation, dilation, left, dilation, right };
            float[] x = RandomArray(random, channels * height * width), w = RandomArray(random, channels * 9);
            float[] b = hasBias ? RandomArray(random, channels) : Array.Empty<float>();
            float[] expected = Expected(x, w, b, 1, channels, channels, channels, geometry, activation);
            AssertOnEveryTier(expected, DepthwiseSameWidth.ScratchSize(geometry), $"{channels} channels, {height}x{width}, dilation {dilation}, pads {left},{right}, bias {hasBias}, {activation}",
                (scratch, y) => DepthwiseSameWidth.Convolve(x, w, b, y, scratch, 1, channels, geometry, activation));
        }
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 5, 1, 7)]
    [InlineData(17, 13, 1, 33)]
    [InlineData(16, 24, 1, 49)]
    [InlineData(64, 64, 1, 125)]
    [InlineData(8, 6, 2, 31)]
    [InlineData(200, 7, 1, 19)]   // two depth blocks: the tile epilogue waits for the last
    [InlineData(5, 11, 1, 1100)]  // three column blocks
    [InlineData(384, 20, 1, 169)] // three depth blocks into a 9-wide last sliver (the narrow tile accumulates), 2 rows in the last row block
    [InlineData(16, 64, 1, 48)]   // a last sliver exactly 16 wide
    public void PackedPointwiseMatchesTheDefinitionForEveryActivationAndResidualOnEveryTier(int inChannels, int outChannels, int groups, int size)
    {
        var random = new Random(62 + inChannels + size);
        int batch = 2, groupIn = inChannels / groups;
        int[] geometry = { 2, 1, size, 1, size, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
        float[] x = RandomArray(random, batch * inChannels * size), w = RandomArray(random, outChannels * groupIn);
        float[] residual = RandomArray(random, batch * outChannels * size);
        foreach (bool hasBias in new[] { true, false })
        foreach (bool hasResidual in new[] { false, true })
        foreach (var activation in Activations)
        {
            float[] b = hasBias ? RandomArray(random, outChannels) : Array.Empty<float>();
            float[] expected = Expected(x, w, b, batch, inChannels, outChannels, groups, geometry, activation, hasResidual ? residual : null);
            ConvolutionKernelTests.OnEveryTier(tier =>
            {
                var filter = PackedFilter.Pack(w, groups, outChannels / groups, groupIn);
                float[] y = new float[expected.Length];
                y.AsSpan().Fill(float.NaN);
                Convolution.Pointwise(x, filter, b, y, batch, inChannels, size, activation, hasResidual ? residual : default);
                AssertNear(expected, y, $"tier {tier}, bias {hasBias}, residual {hasResidual}, {activation}");
            });
        }
    }

    [Fact]
    public void PackedPointwiseRejectsAFilterOfAnotherDepthAndShortBuffers()
    {
        var filter = PackedFilter.Pack(new float[6 * 4], 1, 6, 4);
        Assert.Throws<ArgumentException>(() => Convolution.Pointwise(new float[5 * 10], filter, ReadOnlySpan<float>.Empty, new float[60], 1, 5, 10));
        Assert.Throws<ArgumentException>(() => Convolution.Pointwise(new float[4 * 10], filter, ReadOnlySpan<float>.Empty, new float[59], 1, 4, 10));
        Assert.Throws<ArgumentException>(() => Convolution.Pointwise(new float[4 * 10], filter, new float[5], new float[60], 1, 4, 10));
        Assert.Throws<ArgumentException>(() => Convolution.Pointwise(new float[4 * 10], filter, ReadOnlySpan<float>.Empty, new float[60], 1, 4, 10, residual: new float[59]));
    }

    [Fact]
    public void DepthwiseStride2MatchesTheDefinitionForEveryActivationOnEveryTier()
    {
        var random = new Random(63);
        foreach (int channels in new[] { 1, 2, 3, 5, 16, 17 })
        foreach (var (height, width) in new[] { (1, 1), (2, 3), (14, 14), (28, 28), (7, 9), (13, 34), (5, 67) })
        foreach (var (kernel, pad) in new[] { (3, 1), (3, 0), (1, 0), (2, 0) })
        foreach (bool hasBias in new[] { true, false })
        foreach (var activation in Activations)
        {
            int oh = (height + 2 * pad - kernel) / 2 + 1, ow = (width + 2 * pad - kernel) / 2 + 1;
            if (oh <= 0 || ow <= 0) continue;
            int[] geometry = { 2, height, width, oh, ow, kernel, kernel, 2, 2, 1, 1, pad, pad, pad, pad };
            float[] x = RandomArray(random, 2 * channels * height * width), w = RandomArray(random, channels * kernel * kernel);
            float[] b = hasBias ? RandomArray(random, channels) : Array.Empty<float>();
            float[] expected = Expected(x, w, b, 2, channels, channels, channels, geometry, activation);
            AssertOnEveryTier(expected, DepthwiseStride2.ScratchSize(geometry), $"{channels} channels, {height}x{width}, kernel {kernel} pad {pad}, bias {hasBias}, {activation}",
                (scratch, y) => DepthwiseStride2.Convolve(x, w, b, y, scratch, 2, channels, geometry, activation));
        }
    }

    [Fact]
    public void FusedClampsLetANaNThroughOnEveryTier()
    {
        // Relu and Clip of NaN are NaN (ONNX, and the element-wise operators): the kernels' clamps must not turn it into a bound.
        int[] sameWidth = { 2, 6, 40, 6, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 }, stride2 = { 2, 6, 40, 3, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 };
        float[] x = new float[2 * 6 * 40], w = Array.ConvertAll(new float[2 * 9], _ => 0.5f);
        x[40 * 2 + 10] = float.NaN;
        var filter = PackedFilter.Pack(new float[] { 1f, 1f, 1f, 1f }, 1, 2, 2);
        foreach (var activation in new[] { new FusedActivation(ActivationKind.Relu), new FusedActivation(ActivationKind.Clip, 0f, 6f) })
        {
            ConvolutionKernelTests.OnEveryTier(tier =>
            {
                float[] y = new float[2 * 6 * 40], half = new float[2 * 3 * 20], product = new float[2 * 240];
                DepthwiseSameWidth.Convolve(x, w, ReadOnlySpan<float>.Empty, y, new float[DepthwiseSameWidth.ScratchSize(sameWidth)], 1, 2, sameWidth, activation);
                Assert.True(float.IsNaN(y[40 * 2 + 10]), $"tier {tier}, same-width, {activation}");
                DepthwiseStride2.Convolve(x, w, ReadOnlySpan<float>.Empty, half, new float[DepthwiseStride2.ScratchSize(stride2)], 1, 2, stride2, activation);
                Assert.True(float.IsNaN(half[20 * 1 + 5]), $"tier {tier}, stride 2, {activation}");
                Convolution.Pointwise(x, filter, ReadOnlySpan<float>.Empty, product, 1, 2, 240, activation);
                Assert.True(float.IsNaN(product[90]), $"tier {tier}, pointwise, {activation}");
            });
        }
    }
}
