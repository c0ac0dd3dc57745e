using System;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The row-vectorised convolution of one-channel images against the definition on every tier: rows narrower than,
/// as wide as and wider than the 8- and 16-lane vectors (the overlapping last vector), channel counts around the pass of
/// eight, kernels 1 to 5 with symmetric and asymmetric pads, bias or none, a fused Relu.
/// </summary>
[Collection(TierForcingCollection.Name)]
public class SingleChannelConvolutionTests
{
    [Theory]
    [InlineData(1, 6, 7, 3, 3, 1, 1, 1, 1, true)]
    [InlineData(1, 8, 8, 16, 3, 1, 1, 1, 1, true)]
    [InlineData(2, 28, 28, 8, 5, 2, 2, 2, 2, true)]
    [InlineData(1, 24, 24, 20, 5, 0, 0, 0, 0, false)]
    [InlineData(1, 9, 17, 9, 5, 0, 2, 1, 0, true)]
    [InlineData(1, 5, 33, 17, 1, 0, 0, 0, 0, false)]
    [InlineData(1, 12, 40, 1, 4, 1, 3, 2, 0, true)]
    public void MatchesTheDefinitionOnEveryTier(int batch, int height, int width, int outChannels, int kernel, int padTop, int padLeft, int padBottom, int padRight, bool withBias)
    {
        int oh = height + padTop + padBottom - kernel + 1, ow = width + padLeft + padRight - kernel + 1;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, 1, 1, 1, 1, padTop, padLeft, padBottom, padRight };
        var random = new Random(height * 100 + width);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * height * width), w = Random(outChannels * kernel * kernel), b = withBias ? Random(outChannels) : Array.Empty<float>();
        float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, withBias ? b : new float[outChannels], batch, 1, outChannels, 1, new Window(geometry));
        for (int i = 0; i < expected.Length; i++) expected[i] = Math.Max(expected[i], 0f);
        var relu = new FusedActivation(ActivationKind.Relu);
        Assert.True(SingleChannelConvolution.Supports(geometry));
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            float[] y = new float[expected.Length + 1];
            y.AsSpan().Fill(float.NaN);
            SingleChannelConvolution.Convolve(x, w, b, y.AsSpan(0, expected.Length), new float[SingleChannelConvolution.ScratchSize(geometry)], batch, outChannels, geometry, relu);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f, $"tier {tier}, element {i}: {y[i]} vs {expected[i]}");
            Assert.True(float.IsNaN(y[^1]), $"tier {tier}: wrote past the output");
        });
    }

    /// <summary>mnist-8's first layer: 1→8 5×5 pad 2 on 28×28 with a fused Relu lowers to the row kernel and gives ONNX Runtime's outputs.</summary>
    [Fact]
    public void OneChannelConvolutionLowersToTheRowKernelAndMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 1, 28, 28)
            .Initializer("w", Differential.RandomFloats(5, 8 * 25), 8, 1, 5, 5)
            .Initializer("b", Differential.RandomFloats(6, 8), 8)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("pads", new long[] { 2, 2, 2, 2 }))
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Contains("SingleChannelConvolution.Convolve(", ModelCompiler.Compile(model, new CompileOptions()).Source);
        Differential.AssertAgrees(model, inputs: (new[] { 1, 1, 28, 28 }, Differential.RandomFloats(7, 784)));
    }

    [Fact]
    public void RefusesStridesDilationsAndShortBuffers()
    {
        int[] strided = { 2, 8, 8, 3, 3, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0 };
        Assert.False(SingleChannelConvolution.Supports(strided));
        Assert.Throws<ArgumentException>(() => SingleChannelConvolution.Convolve(new float[64], new float[9], default, new float[9], new float[200], 1, 1, strided));
        int[] plain = { 2, 8, 8, 6, 6, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0 };
        Assert.Throws<ArgumentException>(() => SingleChannelConvolution.Convolve(new float[64], new float[8], default, new float[36], new float[200], 1, 1, plain));
        Assert.Throws<ArgumentException>(() => SingleChannelConvolution.Convolve(new float[64], new float[9], default, new float[35], new float[200], 1, 1, plain));
        Assert.Throws<ArgumentException>(() => SingleChannelConvolution.Convolve(new float[64], new float[9], default, new float[36], new float[10], 1, 1, plain));
    }
}
