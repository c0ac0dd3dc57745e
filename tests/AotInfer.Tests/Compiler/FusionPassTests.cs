using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Compiler.Passes;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// BatchNormFolding, BiasFusion and ActivationFusion: each pattern must collapse into one node and still agree with
/// ONNX Runtime on random inputs (fixed seeds).
/// </summary>
public class FusionPassTests
{
    internal static (int[] Shape, Array Data) Input(int seed, params int[] shape) => (shape, Differential.RandomFloats(seed, shape.Aggregate(1, (a, b) => a * b), -2, 2));

    internal static AotInfer.Compiler.IR.Graph CompiledGraph(byte[] model)
    {
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        return result.Graph!;
    }

    internal static OnnxModelBuilder BatchNorm(OnnxModelBuilder b, string x, string y, int channels, int seed) => b
        .Initializer(y + "_scale", Differential.RandomFloats(seed, channels, 0.5f, 1.5f), channels)
        .Initializer(y + "_bias", Differential.RandomFloats(seed + 1, channels), channels)
        .Initializer(y + "_mean", Differential.RandomFloats(seed + 2, channels), channels)
        .Initializer(y + "_var", Differential.RandomFloats(seed + 3, channels, 0.2f, 2f), channels)
        .Node("BatchNormalization", new[] { x, y + "_scale", y + "_bias", y + "_mean", y + "_var" }, new[] { y }, ("epsilon", 1e-3f));

    [Theory]
    [InlineData(1, 3, false, "Relu")]     // im2col+gemm
    [InlineData(8, 3, true, "Clip")]      // depthwise-direct
    [InlineData(1, 1, true, "LeakyRelu")] // pointwise-gemm
    [InlineData(2, 3, false, "HardSwish")]
    [InlineData(1, 3, true, "Sigmoid")]
    public void ConvBatchNormActivationBecomesOneNode(int groups, int kernel, bool convBias, string activation)
    {
        int channels = 8;
        var b = new OnnxModelBuilder(14) // HardSwish needs opset 14
            .Input("x", DataType.Float, 1, channels, 9, 7)
            .Initializer("w", Differential.RandomFloats(11, channels * (channels / groups) * kernel * kernel), channels, channels / groups, kernel, kernel);
        if (convBias) b.Initializer("cb", Differential.RandomFloats(12, channels), channels);
        b.Node("Conv", convBias ? new[] { "x", "w", "cb" } : new[] { "x", "w" }, new[] { "c" },
            ("group", (long)groups), ("pads", new long[] { kernel / 2, kernel / 2, kernel / 2, kernel / 2 }));
        BatchNorm(b, "c", "n", channels, 20);
        AddActivation(b, activation, "n", "y");
        var model = b.Output("y", DataType.Float).ToBytes();

        var graph = CompiledGraph(model);
        var conv = Assert.Single(graph.Nodes);
        Assert.Equal(activation, FusedEpilogue.Of(conv)!.Kind);
        Assert.True(conv.Annotations.ContainsKey(FusedEpilogue.BatchNormKey));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(1, 1, channels, 9, 7));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void GemmBatchNormActivationBecomesOneNode(bool transB, bool withC)
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 3, 6)
            .Initializer("w", Differential.RandomFloats(5, 6 * 4), transB ? new[] { 4, 6 } : new[] { 6, 4 });
        if (withC) b.Initializer("c", Differential.RandomFloats(6, 4), 4);
        b.Node("Gemm", withC ? new[] { "x", "w", "c" } : new[] { "x", "w" }, new[] { "g" }, ("transB", transB ? 1L : 0L), ("beta", 0.5f));
        BatchNorm(b, "g", "n", 4, 30);
        AddActivation(b, "LeakyRelu", "n", "y");
        var model = b.Output("y", DataType.Float).ToBytes();

        Assert.Single(CompiledGraph(model).Nodes);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(2, 3, 6));
    }

    [Theory]
    [InlineData(new[] { 5 })]
    [InlineData(new[] { 1, 5 })]
    [InlineData(new[] { 1, 1, 5 })]
    public void MatMulBiasClipBecomesOneNode(int[] biasShape)
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 2, 3, 4)
            .Initializer("w", Differential.RandomFloats(7, 20), 4, 5)
            .Initializer("bias", Differential.RandomFloats(8, 5), biasShape)
            .Initializer("lo", new[] { -0.5f })
            .Initializer("hi", new[] { 0.75f })
            .Node("MatMul", new[] { "x", "w" }, new[] { "m" })
            .Node("Add", new[] { "bias", "m" }, new[] { "a" })
            .Node("Clip", new[] { "a", "lo", "hi" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();

        var node = Assert.Single(CompiledGraph(model).Nodes);
        Assert.True(node.Annotations.ContainsKey(FusedEpilogue.BiasKey));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(3, 2, 3, 4));
    }

    [Fact]
    public void ConvChannelAddFoldsIntoTheBias()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 2, 6, 6)
            .Initializer("w", Differential.RandomFloats(9, 3 * 2 * 9), 3, 2, 3, 3)
            .Initializer("cb", Differential.RandomFloats(10, 3), 3)
            .Initializer("add", Differential.RandomFloats(11, 3), 3, 1, 1)
            .Node("Conv", new[] { "x", "w", "cb" }, new[] { "c" })
            .Node("Add", new[] { "c", "add" }, new[] { "a" })
            .Node("Relu", new[] { "a" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Single(CompiledGraph(model).Nodes);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(4, 1, 2, 6, 6));
    }

    [Fact]
    public void IntermediateThatIsAGraphOutputIsNotFused()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 2, 4)
            .Initializer("w", Differential.RandomFloats(12, 12), 4, 3)
            .Node("MatMul", new[] { "x", "w" }, new[] { "m" })
            .Node("Relu", new[] { "m" }, new[] { "y" })
            .Output("m", DataType.Float)
            .Output("y", DataType.Float).ToBytes();
        Assert.Equal(2, CompiledGraph(model).Nodes.Count);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(5, 2, 4));
    }

    [Fact]
    public void ClipWithRunTimeBoundsIsNotFused()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 2, 4)
            .Input("hi", DataType.Float)
            .Initializer("w", Differential.RandomFloats(13, 12), 4, 3)
            .Node("MatMul", new[] { "x", "w" }, new[] { "m" })
            .Node("Clip", new[] { "m", "", "hi" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Equal(2, CompiledGraph(model).Nodes.Count);
    }

    static void AddActivation(OnnxModelBuilder b, string activation, string x, string y)
    {
        switch (activation)
        {
            case "Clip":
                b.Initializer(y + "_min", new[] { 0f }).Initializer(y + "_max", new[] { 0.5f });
                b.Node("Clip", new[] { x, y + "_min", y + "_max" }, new[] { y });
                break;
            case "LeakyRelu":
                b.Node("LeakyRelu", new[] { x }, new[] { y }, ("alpha", 0.2f));
                break;
            default:
                b.Node(activation, new[] { x }, new[] { y });
                break;
        }
    }
}
