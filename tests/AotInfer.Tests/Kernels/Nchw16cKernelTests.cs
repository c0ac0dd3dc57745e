using System;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Kernels.Pooling;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The kernels that read or write the 16-channel-blocked layout against the NCHW definition on every tier: the
/// pointwise convolution (16…64 input and output channels, its input in either layout (3 and 24 channels NCHW only), pixel counts around the 8-pixel tiles, residual, every fused
/// activation, batch 2), the channel-interleaved depthwise kernel with each side in either layout (strides, pads,
/// planes narrower than a block) and GlobalAveragePool. Inputs are random with fixed seeds; outputs are compared after
/// reordering with the layout's reference <see cref="Nchw16c.ToNchw"/>.
/// </summary>
[Collection(TierForcingCollection.Name)]
public class Nchw16cKernelTests
{
    static readonly FusedActivation[] Activations =
    {
        default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.1f, 0.2f), new(ActivationKind.LeakyRelu, 0.1f),
    };

    static float[] RandomFloats(Random random, int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);

    static float[] Blocked(float[] nchw, int batch, int channels, int pixels)
    {
        var blocked = new float[nchw.Length];
        Nchw16c.FromNchw(nchw, blocked, batch, channels, pixels);
        return blocked;
    }

    static void AssertClose(float[] expected, float[] actual, string name)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"{name}, element {i}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void ReorderRoundTrips()
    {
        var x = RandomFloats(new Random(90), 2 * 32 * 7);
        var back = new float[x.Length];
        Nchw16c.ToNchw(Blocked(x, 2, 32, 7), back, 2, 32, 7);
        Assert.Equal(x, back);
        Assert.Equal(16 * 7 + 3 * 16 + 5, Nchw16c.Offset(21, 3, 7));
    }

    [Theory]
    [InlineData(16, 16, 1)]
    [InlineData(16, 32, 9)]
    [InlineData(32, 16, 17)]
    [InlineData(64, 64, 125)]
    [InlineData(48, 80, 49)]
    [InlineData(32, 48, 8)]
    [InlineData(24, 32, 13)] // NCHW input only
    [InlineData(3, 16, 5)] // NCHW input only
    public void PointwiseMatchesTheDefinitionOnEveryTier(int inChannels, int outChannels, int pixels)
    {
        var random = new Random(91 + inChannels + outChannels + pixels);
        const int batch = 2;
        int[] geometry = { 2, 1, pixels, 1, pixels, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
        float[] x = RandomFloats(random, batch * inChannels * pixels), w = RandomFloats(random, outChannels * inChannels), b = RandomFloats(random, outChannels);
        float[] residual = RandomFloats(random, batch * outChannels * pixels);
        foreach (bool nchwInput in inChannels % 16 == 0 ? new[] { false, true } : new[] { true })
        foreach (bool withResidual in new[] { false, true })
        foreach (var activation in Activations)
        {
            float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, b, batch, inChannels, outChannels, 1, new Window(geometry));
            if (withResidual) for (int i = 0; i < expected.Length; i++) expected[i] += residual[i];
            activation.Apply(expected);
            ConvolutionKernelTests.OnEveryTier(tier =>
            {
                var filter = ChannelBlockedFilter.Pack(w, outChannels, geometry);
                float[] y = new float[expected.Length + 1], nchw = new float[expected.Length];
                y.AsSpan().Fill(float.NaN);
                Nchw16cPointwise.Convolve(nchwInput ? x : Blocked(x, batch, inChannels, pixels), filter, b, y.AsSpan(0, expected.Length), batch, pixels, activation,
                    withResidual ? Blocked(residual, batch, outChannels, pixels) : ReadOnlySpan<float>.Empty, nchwInput);
                Assert.True(float.IsNaN(y[^1]), "wrote past the output");
                Nchw16c.ToNchw(y, nchw, batch, outChannels, pixels);
                AssertClose(expected, nchw, $"tier {tier}, {inChannels}→{outChannels} at {pixels} pixels, NCHW input {nchwInput}, residual {withResidual}, {activation}");
            });
        }
    }

    [Theory]
    [InlineData(16, 25, 5, 1, 1)]
    [InlineData(32, 7, 7, 1, 1)]
    [InlineData(64, 25, 5, 1, 0)]
    [InlineData(16, 14, 14, 2, 1)]
    [InlineData(32, 3, 2, 1, 1)]
    [InlineData(48, 9, 4, 2, 0)]
    public void DepthwiseTakesEitherLayoutOnEitherSide(int channels, int height, int width, int stride, int pad)
    {
        var random = new Random(92 + channels + height * width + stride);
        const int batch = 2;
        int oh = (height + 2 * pad - 3) / stride + 1, ow = (width + 2 * pad - 3) / stride + 1;
        int[] geometry = { 2, height, width, oh, ow, 3, 3, stride, stride, 1, 1, pad, pad, pad, pad };
        float[] x = RandomFloats(random, batch * channels * height * width), w = RandomFloats(random, channels * 9), b = RandomFloats(random, channels);
        float[] blockedX = Blocked(x, batch, channels, height * width);
        foreach (var activation in new[] { new FusedActivation(ActivationKind.Relu), new FusedActivation(ActivationKind.LeakyRelu, 0.1f) })
        {
            float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, b, batch, channels, channels, channels, new Window(geometry));
            activation.Apply(expected);
            foreach (bool blockedInput in new[] { false, true })
            foreach (bool blockedOutput in new[] { false, true })
                ConvolutionKernelTests.OnEveryTier(tier =>
                {
                    float[] scratch = new float[DepthwiseChannelInterleaved.ScratchSize(geometry)], y = new float[expected.Length + 1];
                    scratch.AsSpan().Fill(float.NaN);
                    y.AsSpan().Fill(float.NaN);
                    DepthwiseChannelInterleaved.Convolve(blockedInput ? blockedX : x, w, b, y.AsSpan(0, expected.Length), scratch, batch, channels, geometry, activation,
                        blockedInput, blockedOutput);
                    Assert.True(float.IsNaN(y[^1]), "wrote past the output");
                    float[] nchw = y[..expected.Length];
                    if (blockedOutput) Nchw16c.ToNchw(y, nchw, batch, channels, oh * ow);
                    AssertClose(expected, nchw, $"tier {tier}, {channels} channels {height}x{width} stride {stride} pad {pad}, in {blockedInput} out {blockedOutput}, {activation}");
                });
        }
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(64, 125)]
    [InlineData(32, 7)]
    public void GlobalAverageReadsBlockedImages(int channels, int pixels)
    {
        var x = RandomFloats(new Random(93 + channels + pixels), 2 * channels * pixels);
        float[] expected = new float[2 * channels], actual = new float[2 * channels];
        Pooling.GlobalAverage(x, expected, 2 * channels, pixels);
        Pooling.GlobalAverageNchw16c(Blocked(x, 2, channels, pixels), actual, 2, channels, pixels);
        AssertClose(expected, actual, $"{channels} channels at {pixels} pixels");
    }
}
