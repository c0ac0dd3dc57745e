using System.Linq;
using AotInfer.Compiler.Passes;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;
using static AotInfer.Tests.Compiler.FusionPassTests;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// ResidualFusion: Conv → Add(other) [→ Relu] collapses into one Conv whose kernel adds the other operand in its
/// epilogue, for either operand order and every kernel that takes a residual, and still agrees with ONNX Runtime on
/// random inputs (fixed seeds); patterns it must not touch stay as they are.
/// </summary>
public class ResidualFusionTests
{
    /// <summary>x → Conv(k×k, same padding, C→C) → c; Add(c, x) (or Add(x, c)) → a [→ Relu → y].</summary>
    static byte[] ConvPlusInput(int channels, int kernel, bool convFirst, bool relu, int groups = 1)
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, channels, 9, 10)
            .Initializer("w", Differential.RandomFloats(41, channels * (channels / groups) * kernel * kernel), channels, channels / groups, kernel, kernel)
            .Initializer("cb", Differential.RandomFloats(42, channels), channels)
            .Node("Conv", new[] { "x", "w", "cb" }, new[] { "c" },
                ("group", (long)groups), ("pads", new long[] { kernel / 2, kernel / 2, kernel / 2, kernel / 2 }))
            .Node("Add", convFirst ? new[] { "c", "x" } : new[] { "x", "c" }, new[] { relu ? "a" : "y" });
        if (relu) b.Node("Relu", new[] { "a" }, new[] { "y" });
        return b.Output("y", DataType.Float).ToBytes();
    }

    /// <summary>x [1, 4, 6, 6] → Conv(3×3, pad 1, no bias) → c, for the tests that vary what reads c.</summary>
    static OnnxModelBuilder SmallConv(int seed) => new OnnxModelBuilder(13)
        .Input("x", DataType.Float, 1, 4, 6, 6)
        .Initializer("w", Differential.RandomFloats(seed, 4 * 4 * 9), 4, 4, 3, 3)
        .Node("Conv", new[] { "x", "w" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }));

    [Theory]
    [InlineData(8, 3, true, true, "channel-blocked")]
    [InlineData(8, 3, false, false, "channel-blocked")]
    [InlineData(16, 3, false, true, "channel-blocked")]
    [InlineData(64, 3, true, true, "winograd-f4x3")]
    [InlineData(16, 5, false, true, "winograd-f4x5")]
    [InlineData(128, 3, true, false, "winograd-f2x3")]
    [InlineData(12, 1, true, true, "pointwise-gemm")] // the 1×1 convolutions before MobileNetV2's residual Adds
    public void ConvAddReluBecomesOneConv(int channels, int kernel, bool convFirst, bool relu, string expectedKernel)
    {
        var model = ConvPlusInput(channels, kernel, convFirst, relu);
        var conv = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Equal(expectedKernel, conv.Annotations["kernel"]);
        Assert.Equal("x", conv.Input(ResidualFusion.InputIndex)!.Name);
        Assert.True(conv.Annotations.ContainsKey(FusedEpilogue.ResidualKey));
        Assert.Equal(relu ? "Relu" : null, FusedEpilogue.Of(conv)?.Kind);
        // 64 and 128 channels sum 576 and 1152 products per output, through Winograd's transforms: float rounding reaches ~4e-5.
        Differential.AssertAgrees(model, 1e-4, channels >= 64 || kernel == 5 ? 1e-4 : 1e-5, Input(43, 1, channels, 9, 10));
    }

    [Fact]
    public void ConvWithoutBiasTakesTheResidual()
    {
        var model = SmallConv(44)
            .Node("Add", new[] { "x", "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var conv = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Null(conv.Input(2));
        Assert.Equal("x", conv.Input(ResidualFusion.InputIndex)!.Name);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(45, 1, 4, 6, 6));
    }

    /// <summary>
    /// A ResNet block with a projection shortcut: the main branch's last Conv comes before the shortcut Conv it must
    /// add, so it moves after it; the shortcut stays a plain Conv (its only reader is now the fused Conv, not an Add).
    /// </summary>
    [Fact]
    public void MainBranchConvMovesAfterTheShortcutItAdds()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 8, 10, 10)
            .Initializer("w1", Differential.RandomFloats(46, 16 * 8 * 9), 16, 8, 3, 3)
            .Initializer("b1", Differential.RandomFloats(47, 16), 16)
            .Initializer("w2", Differential.RandomFloats(48, 16 * 16 * 9), 16, 16, 3, 3)
            .Initializer("ws", Differential.RandomFloats(49, 16 * 8), 16, 8, 1, 1)
            .Node("Conv", new[] { "x", "w1", "b1" }, new[] { "h" }, ("pads", new long[] { 1, 1, 1, 1 }), ("strides", new long[] { 2, 2 }))
            .Node("Relu", new[] { "h" }, new[] { "hr" })
            .Node("Conv", new[] { "hr", "w2" }, new[] { "main" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Conv", new[] { "x", "ws" }, new[] { "shortcut" }, ("strides", new long[] { 2, 2 }))
            .Node("Add", new[] { "main", "shortcut" }, new[] { "sum" })
            .Node("Relu", new[] { "sum" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var nodes = CompiledGraph(model).Nodes;
        Assert.Equal(3, nodes.Count);
        Assert.All(nodes, n => Assert.Equal("Conv", n.OpType));
        var fused = nodes[2];
        Assert.Equal("shortcut", fused.Input(ResidualFusion.InputIndex)!.Name);
        Assert.Equal("Relu", FusedEpilogue.Of(fused)!.Kind);
        Assert.Equal("y", fused.Outputs[0].Name);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(50, 1, 8, 10, 10));
    }

    [Fact]
    public void ConvOutputWithAnotherReaderIsNotFused()
    {
        var model = SmallConv(51)
            .Node("Add", new[] { "c", "x" }, new[] { "y" })
            .Node("Sigmoid", new[] { "c" }, new[] { "z" })
            .Output("y", DataType.Float)
            .Output("z", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        Assert.Contains(graph.Nodes, n => n.OpType == "Add");
        Assert.DoesNotContain(graph.Nodes, n => n.Annotations.ContainsKey(FusedEpilogue.ResidualKey));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(52, 1, 4, 6, 6));
    }

    [Theory]
    [InlineData(new[] { 1, 1, 6, 6 })] // broadcast over channels
    [InlineData(new[] { 1, 4, 1, 6 })] // broadcast over rows
    public void BroadcastingAddIsNotFused(int[] otherShape)
    {
        var model = SmallConv(53)
            .Input("r", DataType.Float, otherShape)
            .Node("Add", new[] { "c", "r" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        Assert.Equal(new[] { "Conv", "Add" }, graph.Nodes.Select(n => n.OpType));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(54, 1, 4, 6, 6), Input(55, otherShape));
    }

    [Fact]
    public void DepthwiseConvKeepsItsAdd()
    {
        // Depthwise-direct has no residual epilogue: the Add stays a node of its own.
        var model = ConvPlusInput(8, 3, convFirst: true, relu: false, groups: 8);
        var graph = CompiledGraph(model);
        Assert.Equal(new[] { "Conv", "Add" }, graph.Nodes.Select(n => n.OpType));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(56, 1, 8, 9, 10));
    }
}
