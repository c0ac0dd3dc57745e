using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Softmax family and normalisations against ONNX Runtime on random inputs with fixed seeds.</summary>
public class NormalizationTests
{
    static void AssertUnary(byte[] model, int[] shape, int seed, float lo = -3, float hi = 3)
    {
        int count = 1;
        foreach (int d in shape) count *= d;
        Differential.AssertAgrees(model, inputs: (shape, (Array)Differential.RandomFloats(seed, count, lo, hi)));
    }

    // Opset 11 coerces to 2-D at the axis; opset 13 works along the axis, with inner > 1 when the axis is not last.
    [Theory]
    [InlineData("Softmax", 11, 1)]
    [InlineData("Softmax", 13, 1)]
    [InlineData("Softmax", 13, -1)]
    [InlineData("Softmax", 13, 0)]
    [InlineData("LogSoftmax", 11, 1)]
    [InlineData("LogSoftmax", 13, 1)]
    [InlineData("LogSoftmax", 13, 2)]
    [InlineData("Hardmax", 11, 1)]
    [InlineData("Hardmax", 13, 1)]
    public void SoftmaxFamilyMatchesOnnxRuntime(string op, int opset, long axis)
    {
        var model = new OnnxModelBuilder(opset).Input("x", DataType.Float, 3, 5, 19)
            .Node(op, new[] { "x" }, new[] { "y" }, ("axis", axis))
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 3, 5, 19 }, 41);
    }

    [Fact]
    public void SoftmaxOfLargeValuesDoesNotOverflow()
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 2, 40)
            .Node("Softmax", new[] { "x" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 2, 40 }, 42, 1000, 1010);
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(1, true)]
    [InlineData(0, false)]
    public void LayerNormalizationMatchesOnnxRuntime(long axis, bool withStatistics)
    {
        int[] shape = { 2, 3, 20 };
        int[] normalized = axis switch { -1 => new[] { 20 }, 1 => new[] { 3, 20 }, _ => shape };
        int n = 1;
        foreach (int d in normalized) n *= d;
        var outputs = withStatistics ? new[] { "y", "mean", "inv" } : new[] { "y" };
        var builder = new OnnxModelBuilder(17).Input("x", DataType.Float, shape)
            .Initializer("scale", Differential.RandomFloats(1, n, 0.5f, 1.5f), normalized)
            .Initializer("bias", Differential.RandomFloats(2, n), normalized)
            .Node("LayerNormalization", new[] { "x", "scale", "bias" }, outputs, ("axis", axis), ("epsilon", 1e-3f))
            .Output("y", DataType.Float);
        if (withStatistics) builder.Output("mean", DataType.Float).Output("inv", DataType.Float);
        AssertUnary(builder.ToBytes(), shape, 43);
    }

    [Fact]
    public void LayerNormalizationBroadcastsAScalarScale()
    {
        var model = new OnnxModelBuilder(17).Input("x", DataType.Float, 4, 10)
            .Initializer("scale", new[] { 1.5f }, 1)
            .Node("LayerNormalization", new[] { "x", "scale" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 4, 10 }, 44);
    }

    [Theory]
    [InlineData(18)]
    [InlineData(21)]
    public void GroupNormalizationMatchesOnnxRuntime(int opset)
    {
        int entries = opset < 21 ? 2 : 6;
        var model = new OnnxModelBuilder(opset).Input("x", DataType.Float, 2, 6, 3, 5)
            .Initializer("scale", Differential.RandomFloats(3, entries, 0.5f, 1.5f), entries)
            .Initializer("bias", Differential.RandomFloats(4, entries), entries)
            .Node("GroupNormalization", new[] { "x", "scale", "bias" }, new[] { "y" }, ("num_groups", 2L), ("epsilon", 1e-4f))
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 2, 6, 3, 5 }, 45);
    }

    [Fact]
    public void InstanceNormalizationMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(17).Input("x", DataType.Float, 2, 3, 4, 9)
            .Initializer("scale", Differential.RandomFloats(5, 3, 0.5f, 1.5f), 3)
            .Initializer("bias", Differential.RandomFloats(6, 3), 3)
            .Node("InstanceNormalization", new[] { "x", "scale", "bias" }, new[] { "y" }, ("epsilon", 1e-3f))
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 2, 3, 4, 9 }, 46);
    }

    [Fact]
    public void BatchNormalizationInferenceMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(15).Input("x", DataType.Float, 2, 3, 4, 5)
            .Initializer("scale", Differential.RandomFloats(7, 3, 0.5f, 1.5f), 3)
            .Initializer("bias", Differential.RandomFloats(8, 3), 3)
            .Initializer("mean", Differential.RandomFloats(9, 3), 3)
            .Initializer("var", Differential.RandomFloats(10, 3, 0.5f, 2f), 3)
            .Node("BatchNormalization", new[] { "x", "scale", "bias", "mean", "var" }, new[] { "y" }, ("epsilon", 1e-3f))
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 2, 3, 4, 5 }, 47);
    }

    [Fact]
    public void BatchNormalizationTrainingOutputsBeforeOpset14AreUnsupported()
    {
        var model = new OnnxModelBuilder(9).Input("x", DataType.Float, 2, 3, 4)
            .Initializer("scale", new[] { 1f, 1f, 1f }, 3).Initializer("bias", new[] { 0f, 0f, 0f }, 3)
            .Initializer("mean", new[] { 0f, 0f, 0f }, 3).Initializer("var", new[] { 1f, 1f, 1f }, 3)
            .Node("BatchNormalization", new[] { "x", "scale", "bias", "mean", "var" }, new[] { "y", "m", "v" })
            .Output("y", DataType.Float).Output("m", DataType.Float).Output("v", DataType.Float).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("training outputs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1L, -1L)]
    [InlineData(2L, 1L)]
    public void LpNormalizationMatchesOnnxRuntime(long p, long axis)
    {
        var model = new OnnxModelBuilder(17).Input("x", DataType.Float, 3, 4, 10)
            .Node("LpNormalization", new[] { "x" }, new[] { "y" }, ("p", p), ("axis", axis))
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 3, 4, 10 }, 48);
    }

    [Theory]
    [InlineData(3L)]
    [InlineData(5L)]
    public void LrnMatchesOnnxRuntime(long size)
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 2, 6, 3, 3)
            .Node("LRN", new[] { "x" }, new[] { "y" }, ("size", size), ("alpha", 0.01f), ("beta", 0.6f), ("bias", 1.5f))
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 2, 6, 3, 3 }, 49);
    }

    [Fact]
    public void MeanVarianceNormalizationMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 2, 3, 4, 5)
            .Node("MeanVarianceNormalization", new[] { "x" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        AssertUnary(model, new[] { 2, 3, 4, 5 }, 50);
    }

    [Fact]
    public void Float16LayerNormalizationComputesInFloat()
    {
        var model = new OnnxModelBuilder(17).Input("x", DataType.Float16, 3, 50)
            .Initializer("scale", new Tensor(DataType.Float16, new[] { 50 }, new ushort[50].Select(_ => BitConverter.HalfToUInt16Bits((Half)1)).ToArray()))
            .Node("LayerNormalization", new[] { "x", "scale" }, new[] { "y" })
            .Output("y", DataType.Float16).ToBytes();
        var x = Differential.RandomFloats(51, 150, 100, 101);
        var y = (Half[])Differential.RunAotInfer(model, x.Select(v => (Half)v).ToArray())[0];
        // Inputs near 100 with a spread of 1 cancel badly if the mean is accumulated in Half.
        for (int r = 0; r < 3; r++)
        {
            var row = x.Skip(r * 50).Take(50).Select(v => (double)(float)(Half)v).ToArray();
            double mean = row.Average(), std = Math.Sqrt(row.Select(v => (v - mean) * (v - mean)).Average() + 1e-5);
            for (int i = 0; i < 50; i++) Assert.True(Math.Abs((float)y[r * 50 + i] - (row[i] - mean) / std) < 1e-2, $"element {r},{i}");
        }
    }

    [Fact]
    public void SoftmaxKernelMatchesScalarForEveryRowLength()
    {
        for (int n = 1; n <= 70; n++)
        {
            var x = Differential.RandomFloats(n, n, -20, 20);
            var y = new float[n];
            AotInfer.Kernels.Normalization.Softmax.Run<float>(x, y, 1, n, 1, logarithm: false, default);
            double max = x.Max(), sum = x.Sum(v => Math.Exp(v - max));
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(y[i] - Math.Exp(x[i] - max) / sum) < 1e-6, $"length {n}, element {i}");
        }
    }
}
