using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Compiler.Passes;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// <see cref="DynamicQuantizationFusion"/>: ONNX Runtime's quantize_dynamic chain (DynamicQuantizeLinear → MatMulInteger
/// → Cast → Mul(scale) → Add(bias)) becomes one DynamicQuantizeMatMul with the following Relu fused, and agrees with
/// ONNX Runtime running the original chain; chains that cannot fuse are left alone and still agree.
/// </summary>
public class DynamicQuantizationFusionTests
{
    static (int[] Shape, Array Data) Input(int seed, params int[] shape) => FusionPassTests.Input(seed, shape);

    static AotInfer.Compiler.IR.Graph CompiledGraph(byte[] model) => FusionPassTests.CompiledGraph(model);

    /// <summary>What quantize_dynamic writes for x·W (+ bias): int8 weights within ±127, a per-tensor or per-column scale.</summary>
    static OnnxModelBuilder Chain(OnnxModelBuilder b, string x, string y, int k, int n, int seed, bool perColumnScale = false, bool weightZero = true, bool bias = true,
        string? weightScaleInput = null)
    {
        var random = new Random(seed);
        var weights = Enumerable.Range(0, k * n).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        b.Initializer(y + "_w", new Tensor(DataType.Int8, new[] { k, n }, weights));
        if (weightScaleInput is null)
            b.Initializer(y + "_ws", Differential.RandomFloats(seed + 1, perColumnScale ? n : 1, 0.001f, 0.01f), perColumnScale ? new[] { n } : Array.Empty<int>());
        if (weightZero) b.Initializer(y + "_wz", new Tensor(DataType.Int8, Array.Empty<int>(), new sbyte[1]));
        b.Node("DynamicQuantizeLinear", new[] { x }, new[] { y + "_xq", y + "_xs", y + "_xz" })
            .Node("Mul", new[] { y + "_xs", weightScaleInput ?? y + "_ws" }, new[] { y + "_scales" })
            .Node("MatMulInteger", weightZero ? new[] { y + "_xq", y + "_w", y + "_xz", y + "_wz" } : new[] { y + "_xq", y + "_w", y + "_xz" }, new[] { y + "_acc" })
            .Node("Cast", new[] { y + "_acc" }, new[] { y + "_accf" }, ("to", 1L))
            .Node("Mul", new[] { y + "_accf", y + "_scales" }, new[] { bias ? y + "_m" : y });
        if (bias)
        {
            b.Initializer(y + "_b", Differential.RandomFloats(seed + 2, n), n);
            b.Node("Add", new[] { y + "_m", y + "_b" }, new[] { y });
        }
        return b;
    }

    [Theory]
    [InlineData(1, false)] // batch 1: the GEMV
    [InlineData(1, true)]
    [InlineData(3, false)] // three rows: the byte GEMM
    public void TwoLayerChainBecomesTwoFusedNodesWithRelu(int rows, bool perColumnScale)
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, rows, 37);
        Chain(b, "x", "h", 37, 20, 1, perColumnScale);
        b.Node("Relu", new[] { "h" }, new[] { "r" });
        Chain(b, "r", "y", 20, 7, 2, perColumnScale, weightZero: false);
        var model = b.Output("y", DataType.Float).ToBytes();

        var graph = CompiledGraph(model);
        Assert.Equal(2, graph.Nodes.Count);
        Assert.All(graph.Nodes, n => Assert.Equal("DynamicQuantizeMatMul", n.OpType));
        Assert.Equal("Relu", FusedEpilogue.Of(graph.Nodes[0])!.Kind);
        Assert.Null(FusedEpilogue.Of(graph.Nodes[1]));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(3, rows, 37));
    }

    [Fact]
    public void ChainWithoutBiasFuses()
    {
        var model = Chain(new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 64), "x", "y", 64, 33, 4, bias: false).Output("y", DataType.Float).ToBytes();
        var node = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Equal("DynamicQuantizeMatMul", node.OpType);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(5, 1, 64));
    }

    [Fact]
    public void QuantisedActivationReadElsewhereIsLeftAlone()
    {
        // The scale is also a graph output: removing DynamicQuantizeLinear would lose it.
        var model = Chain(new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 16), "x", "y", 16, 8, 6)
            .Output("y", DataType.Float).Output("y_xs", DataType.Float).ToBytes();
        Assert.DoesNotContain(CompiledGraph(model).Nodes, n => n.OpType == "DynamicQuantizeMatMul");
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(7, 1, 16));
    }

    [Fact]
    public void RunTimeWeightScaleIsLeftAlone()
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 16).Input("ws", DataType.Float);
        var model = Chain(b, "x", "y", 16, 8, 8, weightScaleInput: "ws").Output("y", DataType.Float).ToBytes();
        Assert.Contains(CompiledGraph(model).Nodes, n => n.OpType == "MatMulInteger");
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(9, 1, 16), (Array.Empty<int>(), new[] { 0.004f }));
    }

    [Fact]
    public void MatMulIntegerToFloatTakesTheFollowingActivation()
    {
        // The other float-output quantised product: u8 activations given as an input, s8 weights, per-column scales.
        var random = new Random(12);
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.UInt8, 1, 40)
            .Initializer("w", new Tensor(DataType.Int8, new[] { 40, 24 }, Enumerable.Range(0, 960).Select(_ => (sbyte)random.Next(-127, 128)).ToArray()))
            .Initializer("as", new[] { 0.02f })
            .Initializer("ws", Differential.RandomFloats(13, 24, 0.001f, 0.01f), 24)
            .Initializer("az", new Tensor(DataType.UInt8, Array.Empty<int>(), new byte[] { 120 }))
            .Initializer("bias", Differential.RandomFloats(14, 24), 24)
            .NodeInDomain("com.microsoft", "MatMulIntegerToFloat", new[] { "a", "w", "as", "ws", "az", "", "bias" }, new[] { "m" }, Array.Empty<(string, object)>())
            .Node("Clip", new[] { "m", "lo", "hi" }, new[] { "y" })
            .Initializer("lo", new[] { -0.1f })
            .Initializer("hi", new[] { 0.3f })
            .Output("y", DataType.Float).ToBytes();
        var node = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Equal("Clip", FusedEpilogue.Of(node)!.Kind);
        var input = new Random(15);
        Differential.AssertAgrees(model, 1e-4, 1e-5, (new[] { 1, 40 }, Enumerable.Range(0, 40).Select(_ => (byte)input.Next(256)).ToArray()));
    }

    [Fact]
    public void CastToAnotherTypeIsLeftAlone()
    {
        var random = new Random(10);
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 16)
            .Initializer("w", new Tensor(DataType.Int8, new[] { 16, 4 }, Enumerable.Range(0, 64).Select(_ => (sbyte)random.Next(-127, 128)).ToArray()))
            .Node("DynamicQuantizeLinear", new[] { "x" }, new[] { "xq", "xs", "xz" })
            .Node("MatMulInteger", new[] { "xq", "w", "xz" }, new[] { "acc" })
            .Node("Cast", new[] { "acc" }, new[] { "y" }, ("to", (long)DataType.Double))
            .Output("y", DataType.Double).Output("xs", DataType.Float).ToBytes();
        Assert.Contains(CompiledGraph(model).Nodes, n => n.OpType == "MatMulInteger");
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(11, 1, 16));
    }
}
