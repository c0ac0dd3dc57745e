using System;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The row-vectorised convolution of few-channel images against the definition on every tier: 1 to 4 input channels,
/// 1 to 40 output channels (around the pass of eight), odd and even planes and heights (the overlapping last row pair),
/// rows narrower and wider than a vector, strides 1 and 2 with symmetric and asymmetric pads, every fused activation.
/// </summary>
[Collection(TierForcingCollection.Name)]
public class FewChannelConvolutionTests
{
    [Theory]
    [InlineData(1, 3, 31, 33, 64, 3, 2, 0, 0, 0, 0, ActivationKind.Relu)]
    [InlineData(1, 3, 32, 32, 32, 3, 2, 1, 1, 1, 1, ActivationKind.Clip)]
    [InlineData(2, 2, 17, 40, 9, 3, 2, 1, 0, 0, 2, ActivationKind.None)]
    [InlineData(1, 4, 9, 19, 40, 5, 1, 2, 2, 2, 2, ActivationKind.HardSwish)]
    [InlineData(1, 1, 7, 23, 1, 3, 1, 0, 1, 2, 0, ActivationKind.Relu)]
    [InlineData(1, 3, 1, 45, 17, 1, 2, 0, 0, 0, 0, ActivationKind.LeakyRelu)]
    [InlineData(1, 2, 12, 12, 7, 4, 2, 1, 2, 0, 1, ActivationKind.Sigmoid)]
    public void MatchesTheDefinitionOnEveryTier(int batch, int channels, int height, int width, int outChannels, int kernel, int stride,
        int padTop, int padLeft, int padBottom, int padRight, ActivationKind kind)
    {
        int oh = (height + padTop + padBottom - kernel) / stride + 1, ow = (width + padLeft + padRight - kernel) / stride + 1;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, stride, stride, 1, 1, padTop, padLeft, padBottom, padRight };
        var random = new Random(height * 100 + width + channels);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * channels * height * width), w = Random(outChannels * channels * kernel * kernel);
        float[] b = kind == ActivationKind.None ? Array.Empty<float>() : Random(outChannels);
        float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, b.Length == 0 ? new float[outChannels] : b, batch, channels, outChannels, 1, new Window(geometry));
        var activation = new FusedActivation(kind, kind == ActivationKind.Clip ? -0.1f : 0.1f, 0.2f);
        activation.Apply(expected);
        Assert.True(FewChannelConvolution.Supports(geometry));
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            float[] y = new float[expected.Length + 1];
            y.AsSpan().Fill(float.NaN);
            FewChannelConvolution.Convolve(x, w, b, y.AsSpan(0, expected.Length), new float[FewChannelConvolution.ScratchSize(channels, geometry)],
                batch, channels, outChannels, geometry, activation);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f, $"tier {tier}, element {i}: {y[i]} vs {expected[i]}");
            Assert.True(float.IsNaN(y[^1]), $"tier {tier}: wrote past the output");
        });
    }

    /// <summary>squeezenet1_1's and mobilenet_v2's first layers, shrunk: 3→M 3×3 stride 2 with a fused Relu lower to the row kernel and give ONNX Runtime's outputs.</summary>
    [Theory]
    [InlineData(64, 0)]
    [InlineData(32, 1)]
    public void RgbStride2ConvolutionLowersToTheRowKernelAndMatchesOnnxRuntime(int outChannels, int pad)
    {
        const int size = 135;
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 3, size, size)
            .Initializer("w", Differential.RandomFloats(5, outChannels * 27), outChannels, 3, 3, 3)
            .Initializer("b", Differential.RandomFloats(6, outChannels), outChannels)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("strides", new long[] { 2, 2 }), ("pads", new long[] { pad, pad, pad, pad }))
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Contains("FewChannelConvolution.Convolve(", ModelCompiler.Compile(model, new CompileOptions()).Source);
        Differential.AssertAgrees(model, inputs: (new[] { 1, 3, size, size }, Differential.RandomFloats(7, 3 * size * size)));
    }

    [Fact]
    public void RefusesDilationsAndShortBuffers()
    {
        int[] dilated = { 2, 8, 8, 4, 4, 3, 3, 1, 1, 2, 2, 0, 0, 0, 0 };
        Assert.False(FewChannelConvolution.Supports(dilated));
        Assert.Throws<ArgumentException>(() => FewChannelConvolution.Convolve(new float[128], new float[18], default, new float[16], new float[500], 1, 2, 1, dilated));
        int[] plain = { 2, 8, 8, 3, 3, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0 };
        int scratch = FewChannelConvolution.ScratchSize(2, plain);
        Assert.Throws<ArgumentException>(() => FewChannelConvolution.Convolve(new float[128], new float[17], default, new float[9], new float[scratch], 1, 2, 1, plain));
        Assert.Throws<ArgumentException>(() => FewChannelConvolution.Convolve(new float[127], new float[18], default, new float[9], new float[scratch], 1, 2, 1, plain));
        Assert.Throws<ArgumentException>(() => FewChannelConvolution.Convolve(new float[128], new float[18], default, new float[8], new float[scratch], 1, 2, 1, plain));
        Assert.Throws<ArgumentException>(() => FewChannelConvolution.Convolve(new float[128], new float[18], default, new float[9], new float[scratch - 1], 1, 2, 1, plain));
    }
}
