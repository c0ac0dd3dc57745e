using System;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The flat-row convolution of one-channel images against the definition on every tier: rows exactly 16 wide and wider
/// (vectors crossing a row end at every column), pads that make the pitch wider than the row, channel counts around the
/// pass of four, planes whose last step of four vectors overlaps the one before, bias or none, no activation, Relu, Clip
/// and LeakyRelu (applied after); narrow rows take the row kernel it falls back to. Nothing is written before or after the output.
/// </summary>
[Collection(TierForcingCollection.Name)]
public class SingleChannelFlatRowsTests
{
    [Theory]
    [InlineData(1, 28, 28, 20, 5, 0, 0, 0, 0, true, ActivationKind.Relu)]
    [InlineData(2, 20, 20, 17, 5, 0, 0, 0, 0, false, ActivationKind.None)]
    [InlineData(1, 16, 16, 16, 3, 1, 1, 1, 1, true, ActivationKind.Clip)]
    [InlineData(1, 9, 31, 6, 3, 0, 2, 1, 0, true, ActivationKind.Relu)]
    [InlineData(1, 30, 18, 3, 1, 0, 0, 0, 0, false, ActivationKind.Relu)]
    [InlineData(1, 7, 41, 23, 4, 2, 0, 0, 3, true, ActivationKind.None)]
    [InlineData(1, 20, 24, 5, 3, 0, 0, 0, 0, true, ActivationKind.LeakyRelu)]
    [InlineData(1, 12, 12, 20, 5, 0, 0, 0, 0, true, ActivationKind.Relu)]
    public void MatchesTheDefinitionOnEveryTier(int batch, int height, int width, int outChannels, int kernel, int padTop, int padLeft, int padBottom, int padRight,
        bool withBias, ActivationKind kind)
    {
        int oh = height + padTop + padBottom - kernel + 1, ow = width + padLeft + padRight - kernel + 1;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, 1, 1, 1, 1, padTop, padLeft, padBottom, padRight };
        var random = new Random(height * 100 + width);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * height * width), w = Random(outChannels * kernel * kernel), b = withBias ? Random(outChannels) : Array.Empty<float>();
        float[] expected = ConvolutionKernelTests.NaiveConvolution(x, w, withBias ? b : new float[outChannels], batch, 1, outChannels, 1, new Window(geometry));
        var activation = new FusedActivation(kind, -0.1f, 0.2f);
        for (int i = 0; i < expected.Length; i++)
            expected[i] = kind switch
            {
                ActivationKind.Relu => Math.Max(expected[i], 0f),
                ActivationKind.Clip => Math.Clamp(expected[i], -0.1f, 0.2f),
                ActivationKind.LeakyRelu => expected[i] < 0 ? -0.1f * expected[i] : expected[i],
                _ => expected[i],
            };
        Assert.Equal(ow >= 16, SingleChannelFlatRows.Supports(geometry));
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            // One sentinel before and one after the output: the masked stores of a vector's second row start before it.
            float[] y = new float[expected.Length + 2];
            y.AsSpan().Fill(float.NaN);
            SingleChannelFlatRows.Convolve(x, w, b, y.AsSpan(1, expected.Length), new float[SingleChannelFlatRows.ScratchSize(geometry)], batch, outChannels, geometry, activation);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(y[i + 1] - expected[i]) <= 1e-5f, $"tier {tier}, element {i}: {y[i + 1]} vs {expected[i]}");
            Assert.True(float.IsNaN(y[0]) && float.IsNaN(y[^1]), $"tier {tier}: wrote outside the output");
        });
    }

    /// <summary>
    /// The fused 2×2 stride-2 max pool gives exactly MaxPool2D over the unpooled kernel's output (the same clamped sums,
    /// then the same maxima), on every tier (the flat path on AVX-512, the few-channel kernel then MaxPool2D on the
    /// others and on rows under 16), with nothing written past the pooled output: odd outputs (floor), pooled rows over
    /// 16 wide, channel counts around the pass of four, two images.
    /// </summary>
    [Theory]
    [InlineData(1, 28, 28, 20, 5, 0, ActivationKind.None)]  // fashion_lenet5's c1 → MaxPool: 24×24 to 12×12
    [InlineData(2, 20, 21, 6, 3, 1, ActivationKind.Relu)]   // two images, a 20×21 output: floor drops the last column
    [InlineData(1, 45, 40, 3, 5, 2, ActivationKind.Clip)]   // pooled rows 20 wide (two steps), one pass of three channels
    [InlineData(1, 17, 19, 9, 3, 0, ActivationKind.Relu)]   // a 15×17 output: odd both ways
    [InlineData(1, 12, 12, 5, 5, 0, ActivationKind.Relu)]   // an 8×8 output: the row kernel, then MaxPool2D
    public void PooledOutputIsMaxPoolOfTheOutputOnEveryTier(int batch, int height, int width, int outChannels, int kernel, int pad, ActivationKind kind)
    {
        int oh = height + 2 * pad - kernel + 1, ow = width + 2 * pad - kernel + 1, pooledSize = oh / 2 * (ow / 2);
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, 1, 1, 1, 1, pad, pad, pad, pad }, pool = { 2, oh, ow, oh / 2, ow / 2, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0 };
        var random = new Random(height * 100 + width + 7);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * height * width), w = Random(outChannels * kernel * kernel), b = Random(outChannels);
        var activation = new FusedActivation(kind, -0.1f, 0.2f);
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            var full = new float[batch * outChannels * oh * ow];
            SingleChannelFlatRows.Convolve(x, w, b, full, new float[SingleChannelFlatRows.ScratchSize(geometry)], batch, outChannels, geometry, activation);
            var expected = new float[batch * outChannels * pooledSize];
            AotInfer.Kernels.Pooling.MaxPool2D.Max(full, expected, batch * outChannels, pool);
            var scratch = new float[SingleChannelFlatRows.ScratchSize(geometry, outChannels)];
            scratch.AsSpan().Fill(float.NaN);
            float[] y = new float[expected.Length + 1];
            y.AsSpan().Fill(float.NaN);
            SingleChannelFlatRows.Convolve(x, w, b, y, scratch, batch, outChannels, geometry, activation, maxPool2x2: true);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(expected[i].Equals(y[i]), $"tier {tier}, pooled element {i}: {y[i]} vs {expected[i]}");
            Assert.True(float.IsNaN(y[^1]), $"tier {tier}: wrote past the pooled output");
        });
    }

    [Fact]
    public void PooledOutputRefusesOtherActivationsAndShortScratch()
    {
        int[] plain = { 2, 20, 20, 16, 16, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0 };
        var error = Assert.Throws<ArgumentException>(() => SingleChannelFlatRows.Convolve(new float[400], new float[50], default, new float[128], new float[SingleChannelFlatRows.ScratchSize(plain, 2)],
            1, 2, plain, new FusedActivation(ActivationKind.Sigmoid), maxPool2x2: true));
        Assert.Contains("commute", error.Message);
        error = Assert.Throws<ArgumentException>(() => SingleChannelFlatRows.Convolve(new float[400], new float[50], default, new float[128], new float[SingleChannelFlatRows.ScratchSize(plain)],
            1, 2, plain, maxPool2x2: true));
        Assert.Contains("padded", error.Message);
        error = Assert.Throws<ArgumentException>(() => SingleChannelFlatRows.Convolve(new float[400], new float[50], default, new float[127], new float[SingleChannelFlatRows.ScratchSize(plain, 2)],
            1, 2, plain, maxPool2x2: true));
        Assert.Contains("y has", error.Message);
    }

    /// <summary>fashion_lenet5's first layer: 1→20 5×5 on 28×28 with a fused Relu lowers to the flat-row kernel and gives ONNX Runtime's outputs.</summary>
    [Fact]
    public void LenetFirstLayerLowersToTheFlatRowKernelAndMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 1, 28, 28)
            .Initializer("w", Differential.RandomFloats(5, 20 * 25), 20, 1, 5, 5)
            .Initializer("b", Differential.RandomFloats(6, 20), 20)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" })
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Contains("SingleChannelFlatRows.Convolve(", ModelCompiler.Compile(model, new CompileOptions()).Source);
        Differential.AssertAgrees(model, inputs: (new[] { 1, 1, 28, 28 }, Differential.RandomFloats(7, 784)));
    }

    [Fact]
    public void RefusesShortBuffers()
    {
        int[] plain = { 2, 20, 20, 16, 16, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0 };
        Assert.True(SingleChannelFlatRows.Supports(plain));
        var scratch = new float[SingleChannelFlatRows.ScratchSize(plain)];
        Assert.Throws<ArgumentException>(() => SingleChannelFlatRows.Convolve(new float[400], new float[24], default, new float[256], scratch, 1, 1, plain));
        Assert.Throws<ArgumentException>(() => SingleChannelFlatRows.Convolve(new float[400], new float[25], default, new float[255], scratch, 1, 1, plain));
        Assert.Throws<ArgumentException>(() => SingleChannelFlatRows.Convolve(new float[399], new float[25], default, new float[256], scratch, 1, 1, plain));
        Assert.Throws<ArgumentException>(() => SingleChannelFlatRows.Convolve(new float[400], new float[25], default, new float[256], new float[10], 1, 1, plain));
    }
}
