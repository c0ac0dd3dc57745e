using System;
using AotInfer.Compiler;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The channel-vectorised convolution of one-channel images against the definition on every tier: output channel
/// counts around the passes of four vectors (1, 8, 16, 17, 40, 64, 65, 80), planes of fewer pixels than a step and than
/// a transposed group, strides 1 and 2, dilation, DS-CNN's 10×4 kernel, pads, bias or none, every fused activation.
/// </summary>
[Collection(TierForcingCollection.Name)]
public class SingleChannelChannelBlockedTests
{
    static readonly FusedActivation[] Activations =
    {
        default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.1f, 0.2f), new(ActivationKind.LeakyRelu, 0.1f),
    };

    [Theory]
    [InlineData(49, 10, 10, 4, 2, 1, 5, 1, 5, 1)]   // DS-CNN's first layer: 25×5 outputs
    [InlineData(9, 7, 3, 3, 2, 1, 1, 1, 1, 1)]
    [InlineData(12, 5, 3, 3, 1, 1, 1, 1, 1, 1)]
    [InlineData(3, 3, 3, 3, 1, 1, 0, 0, 0, 0)]      // one output pixel
    [InlineData(4, 6, 3, 2, 1, 1, 0, 0, 0, 0)]      // two rows of five: fewer pixels than a transposed group
    [InlineData(2, 3, 1, 1, 1, 1, 0, 0, 0, 0)]      // six pixels
    [InlineData(11, 13, 3, 3, 2, 2, 2, 1, 0, 2)]
    [InlineData(20, 20, 5, 5, 2, 1, 2, 2, 2, 2)]
    public void MatchesTheDefinitionOnEveryTier(int height, int width, int kernelHeight, int kernelWidth, int stride, int dilation,
        int padTop, int padLeft, int padBottom, int padRight)
    {
        int oh = (height + padTop + padBottom - dilation * (kernelHeight - 1) - 1) / stride + 1;
        int ow = (width + padLeft + padRight - dilation * (kernelWidth - 1) - 1) / stride + 1;
        int[] geometry = { 2, height, width, oh, ow, kernelHeight, kernelWidth, stride, stride, dilation, dilation, padTop, padLeft, padBottom, padRight };
        var random = new Random(height * 100 + width + stride);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        const int batch = 2;
        float[] x = Random(batch * height * width);
        foreach (int outChannels in new[] { 1, 8, 16, 17, 40, 64, 65, 80 })
        {
            float[] w = Random(outChannels * kernelHeight * kernelWidth), b = Random(outChannels);
            foreach (bool hasBias in new[] { true, false })
            foreach (var activation in Activations)
            {
                float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, hasBias ? b : new float[outChannels], batch, 1, outChannels, 1, new Window(geometry));
                activation.Apply(expected);
                ConvolutionKernelTests.OnEveryTier(tier =>
                {
                    var filter = ChannelBlockedFilter.Pack(w, outChannels, geometry);
                    float[] scratch = new float[SingleChannelChannelBlocked.ScratchSize(geometry)], y = new float[expected.Length + 1];
                    scratch.AsSpan().Fill(float.NaN);
                    y.AsSpan().Fill(float.NaN);
                    SingleChannelChannelBlocked.Convolve(x, filter, hasBias ? b : ReadOnlySpan<float>.Empty, y.AsSpan(0, expected.Length), scratch, batch, geometry, activation);
                    string name = $"tier {tier}, {outChannels} channels, bias {hasBias}, {activation}";
                    for (int i = 0; i < expected.Length; i++)
                        Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"{name}, element {i}: {y[i]} vs {expected[i]}");
                    Assert.True(float.IsNaN(y[^1]), $"{name}: wrote past the output");
                });
            }
        }
    }

    [Fact]
    public void RejectsAFilterOfAnotherShapeAndShortBuffers()
    {
        int[] geometry = { 2, 6, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var filter = ChannelBlockedFilter.Pack(new float[16 * 9], 16, geometry);
        var twoChannels = ChannelBlockedFilter.Pack(new float[16 * 18], 16, geometry);
        float[] scratch = new float[SingleChannelChannelBlocked.ScratchSize(geometry)];
        Assert.Throws<ArgumentException>(() => SingleChannelChannelBlocked.Convolve(new float[36], twoChannels, ReadOnlySpan<float>.Empty, new float[16 * 36], scratch, 1, geometry));
        Assert.Throws<ArgumentException>(() => SingleChannelChannelBlocked.Convolve(new float[35], filter, ReadOnlySpan<float>.Empty, new float[16 * 36], scratch, 1, geometry));
        Assert.Throws<ArgumentException>(() => SingleChannelChannelBlocked.Convolve(new float[36], filter, ReadOnlySpan<float>.Empty, new float[16 * 36 - 1], scratch, 1, geometry));
        Assert.Throws<ArgumentException>(() => SingleChannelChannelBlocked.Convolve(new float[36], filter, new float[15], new float[16 * 36], scratch, 1, geometry));
        Assert.Throws<ArgumentException>(() => SingleChannelChannelBlocked.Convolve(new float[36], filter, ReadOnlySpan<float>.Empty, new float[16 * 36], new float[scratch.Length - 1], 1, geometry));
    }

    /// <summary>DS-CNN's first layer (1→64, 10×4 at stride 2 with a fused Relu) lowers to this kernel and gives ONNX Runtime's outputs.</summary>
    [Fact]
    public void DsCnnFirstLayerLowersToThisKernelAndMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 1, 49, 10)
            .Initializer("w", Differential.RandomFloats(11, 64 * 40), 64, 1, 10, 4)
            .Initializer("b", Differential.RandomFloats(12, 64), 64)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("pads", new long[] { 5, 1, 5, 1 }), ("strides", new long[] { 2, 2 }))
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Contains("SingleChannelChannelBlocked.Convolve(", ModelCompiler.Compile(model, new CompileOptions()).Source);
        Differential.AssertAgrees(model, inputs: (new[] { 1, 1, 49, 10 }, Differential.RandomFloats(13, 490)));
    }
}
