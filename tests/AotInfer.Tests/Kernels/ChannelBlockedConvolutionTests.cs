using System;
using System.Collections.Generic;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The output-channel-vectorised direct convolution against the definition (accumulated in double), on every tier the
/// CPU has: channel counts that fill no, one, or several blocks (and odd pairs of blocks), planes from 1×1 up, strides,
/// dilations, asymmetric pads, every fused activation, with and without bias and residual.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class ChannelBlockedConvolutionTests
{
    public static IEnumerable<object[]> Cases()
    {
        // (batch, C, H, W, M, kernel, stride, dilation, pads top/left/bottom/right)
        yield return new object[] { 1, 3, 32, 32, 16, 3, 1, 1, new[] { 1, 1, 1, 1 } };   // resnet8's stem
        yield return new object[] { 1, 16, 32, 32, 32, 3, 2, 1, new[] { 0, 0, 1, 1 } };  // resnet8's stride-2 3×3, end pads only
        yield return new object[] { 1, 16, 32, 32, 32, 1, 2, 1, new[] { 0, 0, 0, 0 } };  // resnet8's 1×1 stride-2 shortcut: read in place
        yield return new object[] { 1, 32, 4, 4, 64, 3, 1, 1, new[] { 1, 1, 1, 1 } };    // digits_cnn's 4×4 layer
        yield return new object[] { 1, 20, 12, 12, 50, 5, 1, 1, new[] { 0, 0, 0, 0 } };  // lenet5's second conv: M not a multiple of 16
        yield return new object[] { 2, 5, 9, 11, 17, 3, 1, 1, new[] { 0, 1, 2, 1 } };    // two images, one block and one channel
        yield return new object[] { 1, 7, 6, 13, 33, 5, 1, 1, new[] { 2, 2, 2, 2 } };    // three blocks: a pair and a single
        yield return new object[] { 1, 6, 5, 3, 33, 3, 1, 1, new[] { 1, 1, 1, 1 } };     // rows of 3: a pair of blocks over two rows, an odd last row
        yield return new object[] { 1, 17, 17, 17, 7, 3, 2, 2, new[] { 2, 1, 0, 3 } };   // dilation 2 with stride 2
        yield return new object[] { 1, 8, 3, 17, 9, 3, 2, 1, new[] { 1, 0, 1, 0 } };     // one output row, many runs
        yield return new object[] { 1, 1, 1, 1, 1, 1, 1, 1, new[] { 0, 0, 0, 0 } };      // a single value
        yield return new object[] { 1, 2, 5, 4, 3, 3, 1, 1, new[] { 3, 3, 3, 3 } };      // pads wider than the kernel reach
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDefinitionOnEveryTier(int batch, int channels, int height, int width, int outChannels, int kernel, int stride, int dilation, int[] pads)
    {
        var activations = new FusedActivation[]
        {
            default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.25f, 0.5f), new(ActivationKind.LeakyRelu, 0.1f),
            new(ActivationKind.Sigmoid), new(ActivationKind.HardSwish),
        };
        Check(batch, channels, height, width, outChannels, kernel, stride, dilation, pads, activations, seed: 7);
    }

    [Fact]
    public void MatchesTheDefinitionForEveryPlaneAndChannelCountUpTo17()
    {
        // Plane s×s with s output channels and 18 − s input channels; strides and activations alternate.
        for (int size = 1; size <= 17; size++)
        {
            var activation = new FusedActivation((ActivationKind)(size % 6), -0.5f, 0.5f);
            if (activation.Kind == ActivationKind.LeakyRelu) activation = activation with { Alpha = 0.2f };
            Check(1, 18 - size, size, size, size, 3, 1 + size % 2, 1, new[] { 1, 1, 1, 1 }, new[] { activation }, seed: size);
        }
    }

    static void Check(int batch, int channels, int height, int width, int outChannels, int kernel, int stride, int dilation, int[] pads,
        FusedActivation[] activations, int seed)
    {
        int oh = (height + pads[0] + pads[2] - dilation * (kernel - 1) - 1) / stride + 1;
        int ow = (width + pads[1] + pads[3] - dilation * (kernel - 1) - 1) / stride + 1;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, stride, stride, dilation, dilation, pads[0], pads[1], pads[2], pads[3] };
        var random = new Random(seed);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * channels * height * width), w = Random(outChannels * channels * kernel * kernel), b = Random(outChannels);
        float[] convolution = ConvolutionKernelTests.NaiveConvolution(x, w, b, batch, channels, outChannels, 1, new Window(geometry));
        float[] unbiased = ConvolutionKernelTests.NaiveConvolution(x, w, new float[outChannels], batch, channels, outChannels, 1, new Window(geometry));
        float[] residual = Random(convolution.Length);
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            var filter = ChannelBlockedFilter.Pack(w, outChannels, geometry);
            Assert.Equal(tier, filter.Tier);
            var padded = new float[ChannelBlockedConvolution.ScratchSize(channels, geometry)];
            padded.AsSpan().Fill(float.NaN); // the kernel must write every scratch float it reads
            foreach (var activation in activations)
            {
                foreach (bool withBias in new[] { true, false })
                {
                    foreach (bool withResidual in new[] { false, true })
                    {
                        float[] y = new float[convolution.Length];
                        y.AsSpan().Fill(float.NaN);
                        ChannelBlockedConvolution.Convolve(x, filter, withBias ? b : ReadOnlySpan<float>.Empty, y, padded, batch, channels, geometry,
                            activation, withResidual ? residual : ReadOnlySpan<float>.Empty);
                        for (int i = 0; i < y.Length; i++)
                        {
                            float sum = (withBias ? convolution[i] : unbiased[i]) + (withResidual ? residual[i] : 0f);
                            float want = FusedActivationTests.Reference(activation.Kind, activation.Alpha, activation.Beta, sum);
                            Assert.True(Math.Abs(y[i] - want) <= 1e-4f * (1 + Math.Abs(want)),
                                $"tier {tier}, {activation.Kind}, bias {withBias}, residual {withResidual}, element {i}: {y[i]} vs {want}");
                        }
                    }
                }
            }
        });
    }

    [Fact]
    public void RejectsAFilterPackedForAnotherGeometryAndShortScratch()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 }, other = { 2, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0 };
        var filter = ChannelBlockedFilter.Pack(new float[4 * 3 * 9], 4, geometry);
        var error = Assert.Throws<ArgumentException>(() =>
            ChannelBlockedConvolution.Convolve(new float[3 * 25], filter, ReadOnlySpan<float>.Empty, new float[4 * 25], new float[1000], 1, 3, other));
        Assert.Contains("geometry", error.Message);
        error = Assert.Throws<ArgumentException>(() =>
            ChannelBlockedConvolution.Convolve(new float[3 * 25], filter, ReadOnlySpan<float>.Empty, new float[4 * 25], new float[10], 1, 3, geometry));
        Assert.Contains("scratch", error.Message);
        error = Assert.Throws<ArgumentException>(() => ChannelBlockedFilter.Pack(new float[4 * 3 * 9 + 1], 4, geometry));
        Assert.Contains("weights", error.Message);
    }
}
