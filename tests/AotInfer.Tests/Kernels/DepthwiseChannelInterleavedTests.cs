using System;
using AotInfer.Compiler;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The channel-vectorised depthwise kernel against the definition on every tier: channel counts around the 8- and
/// 16-channel blocks (1…17, 32, 64), planes from 1×1 to 17×17 with widths 1–5 (fewer pixels than a block, and the
/// overlapping last group), strides 1 and 2, dilation, symmetric and asymmetric pads, 3×3 (the kernel's own loop),
/// 5×5 and 1×3 (the general one), with and without bias, every fused activation.
/// </summary>
[Collection(TierForcingCollection.Name)]
public class DepthwiseChannelInterleavedTests
{
    static readonly FusedActivation[] Activations =
    {
        default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.1f, 0.2f), new(ActivationKind.LeakyRelu, 0.1f), new(ActivationKind.HardSwish),
    };

    static readonly (int Height, int Width)[] Planes =
    {
        (1, 1), (1, 5), (3, 1), (2, 3), (4, 4), (25, 5), (5, 2), (7, 7), (9, 4), (14, 14), (17, 17), (6, 17), (17, 3),
    };

    [Theory]
    [InlineData(3, 3, 1, 1, 1, 1, 1, 1)]
    [InlineData(3, 3, 2, 1, 1, 1, 1, 1)]
    [InlineData(3, 3, 2, 1, 0, 0, 1, 1)]
    [InlineData(3, 3, 1, 2, 2, 2, 2, 2)]
    [InlineData(3, 3, 1, 1, 0, 2, 2, 0)]
    [InlineData(5, 5, 1, 1, 2, 2, 2, 2)]
    [InlineData(5, 5, 2, 1, 1, 2, 2, 1)]
    [InlineData(1, 3, 1, 1, 0, 1, 0, 1)]
    public void MatchesTheDefinitionOnEveryTier(int kernelHeight, int kernelWidth, int stride, int dilation, int padTop, int padLeft, int padBottom, int padRight)
    {
        var random = new Random(71 + 10 * kernelHeight + stride + padLeft);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        foreach (int channels in new[] { 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 32, 64 })
        foreach (var (height, width) in Planes)
        {
            int oh = (height + padTop + padBottom - dilation * (kernelHeight - 1) - 1) / stride + 1;
            int ow = (width + padLeft + padRight - dilation * (kernelWidth - 1) - 1) / stride + 1;
            if (oh <= 0 || ow <= 0) continue;
            int[] geometry = { 2, height, width, oh, ow, kernelHeight, kernelWidth, stride, stride, dilation, dilation, padTop, padLeft, padBottom, padRight };
            int batch = channels <= 17 ? 2 : 1;
            float[] x = Random(batch * channels * height * width), w = Random(channels * kernelHeight * kernelWidth), b = Random(channels);
            // The activations and the missing bias on the smaller cases only: they share the path of the larger ones.
            var activations = channels <= 17 && height * width <= 49 ? Activations : new[] { new FusedActivation(ActivationKind.Clip, 0f, 0.3f) };
            foreach (bool hasBias in channels <= 17 ? new[] { true, false } : new[] { true })
            foreach (var activation in activations)
            {
                float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, hasBias ? b : new float[channels], batch, channels, channels, channels, new Window(geometry));
                activation.Apply(expected);
                ConvolutionKernelTests.OnEveryTier(tier =>
                {
                    float[] scratch = new float[DepthwiseChannelInterleaved.ScratchSize(geometry)], y = new float[expected.Length + 1];
                    scratch.AsSpan().Fill(float.NaN);
                    y.AsSpan().Fill(float.NaN);
                    DepthwiseChannelInterleaved.Convolve(x, w, hasBias ? b : ReadOnlySpan<float>.Empty, y.AsSpan(0, expected.Length), scratch, batch, channels, geometry, activation);
                    string name = $"tier {tier}, {channels} channels, {height}x{width}, bias {hasBias}, {activation}";
                    for (int i = 0; i < expected.Length; i++)
                        Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"{name}, element {i}: {y[i]} vs {expected[i]}");
                    Assert.True(float.IsNaN(y[^1]), $"{name}: wrote past the output");
                });
            }
        }
    }

    /// <summary>
    /// Planes wide enough that a band holds a few output rows (2–8, by the tier's vector width and the stride), so the
    /// rows two bands share, the last shorter band and the bottom padding are all crossed: 3×3 (its own loop) and 5×5
    /// dilated (the general one), strides 1 and 2, pads, channel counts around the blocks.
    /// </summary>
    [Theory]
    [InlineData(40, 500, 3, 1, 1, 1)]
    [InlineData(61, 700, 3, 2, 1, 1)]
    [InlineData(61, 700, 3, 2, 0, 1)]
    [InlineData(40, 600, 5, 1, 2, 2)]
    [InlineData(33, 700, 5, 2, 1, 2)]
    public void BandsOfRowsMatchTheDefinitionOnEveryTier(int height, int width, int kernel, int stride, int pad, int dilation)
    {
        var random = new Random(height + width + kernel + stride + pad);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        int oh = (height + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1, ow = (width + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, stride, stride, dilation, dilation, pad, pad, pad, pad };
        foreach (int channels in new[] { 1, 7, 16, 17, 32 })
        {
            float[] x = Random(channels * height * width), w = Random(channels * kernel * kernel), b = Random(channels);
            var activation = new FusedActivation(ActivationKind.Clip, -0.2f, 0.3f);
            float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, b, 1, channels, channels, channels, new Window(geometry));
            activation.Apply(expected);
            ConvolutionKernelTests.OnEveryTier(tier =>
            {
                float[] scratch = new float[DepthwiseChannelInterleaved.ScratchSize(geometry)], y = new float[expected.Length + 1];
                scratch.AsSpan().Fill(float.NaN);
                y.AsSpan().Fill(float.NaN);
                DepthwiseChannelInterleaved.Convolve(x, w, b, y.AsSpan(0, expected.Length), scratch, 1, channels, geometry, activation);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"tier {tier}, {channels} channels, element {i}: {y[i]} vs {expected[i]}");
                Assert.True(float.IsNaN(y[^1]), $"tier {tier}, {channels} channels: wrote past the output");
            });
        }
    }

    /// <summary>
    /// DS-CNN's depthwise layer (64 channels, 3×3 on 25×5, Relu) and a MobileNet-like stride-2 one (32 channels, 14×14 →
    /// 7×7, Relu6 as Clip) lower to this kernel and give ONNX Runtime's outputs.
    /// </summary>
    [Theory]
    [InlineData(64, 25, 5, 1)]
    [InlineData(32, 14, 14, 2)]
    public void DepthwiseLayersOnSmallPlanesLowerToThisKernelAndMatchOnnxRuntime(int channels, int height, int width, int stride)
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, channels, height, width)
            .Initializer("w", Differential.RandomFloats(21, channels * 9), channels, 1, 3, 3)
            .Initializer("b", Differential.RandomFloats(22, channels), channels)
            .Initializer("low", new[] { 0f })
            .Initializer("high", new[] { 0.3f })
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }), ("strides", new long[] { stride, stride }), ("group", (long)channels))
            .Node("Clip", new[] { "c", "low", "high" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Contains("DepthwiseChannelInterleaved.Convolve(", ModelCompiler.Compile(model, new CompileOptions()).Source);
        Differential.AssertAgrees(model, inputs: (new[] { 1, channels, height, width }, Differential.RandomFloats(23, channels * height * width)));
    }

    [Fact]
    public void AFusedClampLetsANaNThroughOnEveryTier()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        float[] x = new float[3 * 25], w = Array.ConvertAll(new float[3 * 9], _ => 0.5f);
        x[25 + 12] = float.NaN;
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            float[] y = new float[3 * 25];
            DepthwiseChannelInterleaved.Convolve(x, w, ReadOnlySpan<float>.Empty, y, new float[DepthwiseChannelInterleaved.ScratchSize(geometry)], 1, 3, geometry,
                new FusedActivation(ActivationKind.Clip, 0f, 6f));
            Assert.True(float.IsNaN(y[25 + 12]), $"tier {tier}");
            Assert.False(float.IsNaN(y[12]), $"tier {tier}: the NaN reached another channel");
        });
    }

    [Fact]
    public void RejectsShortScratchAndBuffers()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        int scratch = DepthwiseChannelInterleaved.ScratchSize(geometry);
        Assert.Throws<ArgumentException>(() => DepthwiseChannelInterleaved.Convolve(new float[50], new float[18], ReadOnlySpan<float>.Empty, new float[50], new float[scratch - 1], 1, 2, geometry));
        Assert.Throws<ArgumentException>(() => DepthwiseChannelInterleaved.Convolve(new float[50], new float[17], ReadOnlySpan<float>.Empty, new float[50], new float[scratch], 1, 2, geometry));
        Assert.Throws<ArgumentException>(() => DepthwiseChannelInterleaved.Convolve(new float[49], new float[18], ReadOnlySpan<float>.Empty, new float[50], new float[scratch], 1, 2, geometry));
        Assert.Throws<ArgumentException>(() => DepthwiseChannelInterleaved.Convolve(new float[50], new float[18], new float[3], new float[50], new float[scratch], 1, 2, geometry));
        Assert.Throws<ArgumentException>(() => DepthwiseChannelInterleaved.Convolve(new float[20], new float[6], ReadOnlySpan<float>.Empty, new float[20], new float[100], 1, 2,
            new[] { 1, 10, 10, 3, 3, 1, 1, 0, 0 }));
    }
}
