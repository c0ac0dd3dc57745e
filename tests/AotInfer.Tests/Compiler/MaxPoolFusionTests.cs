using System.Linq;
using AotInfer.Compiler.Passes;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;
using static AotInfer.Tests.Compiler.FusionPassTests;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// MaxPoolFusion: Conv(5×5, Winograd F(4×4, 5×5)) [→ Relu | Clip] → MaxPool(2×2, stride 2) collapses into one Conv
/// that writes the pooled output, and still agrees with ONNX Runtime on random inputs (fixed seeds); pools and
/// activations that do not commute or do not tile stay nodes of their own.
/// </summary>
public class MaxPoolFusionTests
{
    /// <summary>x [1, C, H, W] → Conv(5×5, C→M, pads) → c [→ activation → a] → MaxPool(attributes) → y.</summary>
    static byte[] ConvPool(int channels, int outChannels, int height, int width, int pad, string? activation, params (string, object)[] pool)
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, channels, height, width)
            .Initializer("w", Differential.RandomFloats(61, outChannels * channels * 25), outChannels, channels, 5, 5)
            .Initializer("cb", Differential.RandomFloats(62, outChannels), outChannels)
            .Node("Conv", new[] { "x", "w", "cb" }, new[] { "c" }, ("pads", new long[] { pad, pad, pad, pad }));
        if (activation is not null) b.Node(activation, new[] { "c" }, new[] { "a" });
        return b.Node("MaxPool", new[] { activation is null ? "c" : "a" }, new[] { "y" }, pool).Output("y", DataType.Float).ToBytes();
    }

    static readonly (string, object)[] TwoByTwo = { ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }) };

    [Theory]
    [InlineData(20, 50, 12, 12, 0, null)]     // fashion_lenet5's c2 → MaxPool_1
    [InlineData(8, 16, 14, 14, 2, "Relu")]    // 14×14: the last tiles half outside the output
    [InlineData(12, 24, 13, 11, 1, "Relu")]   // an 11×9 output: floor drops the last row and column
    public void ConvReluMaxPoolBecomesOneConv(int channels, int outChannels, int height, int width, int pad, string? activation)
    {
        var model = ConvPool(channels, outChannels, height, width, pad, activation, TwoByTwo);
        var conv = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Equal("winograd-f4x5", conv.Annotations["kernel"]);
        Assert.Equal("y", conv.Outputs[0].Name);
        Assert.True(conv.Annotations.ContainsKey(FusedEpilogue.PoolKey));
        Assert.Equal(activation, FusedEpilogue.Of(conv)?.Kind);
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(63, 1, channels, height, width));
    }

    /// <summary>fashion_bncnn's f.3 → Relu → f.6 and f.10 → f.13: Winograd F(4×4, 3×3) pools its output tiles.</summary>
    [Theory]
    [InlineData(32, 28)]
    [InlineData(64, 14)]
    public void WinogradThreeByThreeReluMaxPoolBecomesOneConv(int channels, int size)
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, channels, size, size)
            .Initializer("w", Differential.RandomFloats(99, channels * channels * 9), channels, channels, 3, 3)
            .Initializer("cb", Differential.RandomFloats(100, channels), channels)
            .Node("Conv", new[] { "x", "w", "cb" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", new[] { "c" }, new[] { "a" })
            .Node("MaxPool", new[] { "a" }, new[] { "y" }, TwoByTwo)
            .Output("y", DataType.Float).ToBytes();
        var conv = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Equal("winograd-f4x3", conv.Annotations["kernel"]);
        Assert.True(conv.Annotations.ContainsKey(FusedEpilogue.PoolKey));
        // Up to 576 products per output of inputs in [−2, 2] through Winograd's transforms: float rounding reaches ~2e-4
        // (the pool itself is exact: the kernel tests compare it bit for bit with the unpooled output).
        Differential.AssertAgrees(model, 1e-3, 1e-3, Input(101, 1, channels, size, size));
    }

    /// <summary>fashion_lenet5's c1 → MaxPool: the one-channel flat-row kernel pools its passes.</summary>
    [Theory]
    [InlineData(null)]
    [InlineData("Relu")]
    public void OneChannelConvMaxPoolBecomesOneConv(string? activation)
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 1, 28, 28)
            .Initializer("w", Differential.RandomFloats(67, 20 * 25), 20, 1, 5, 5)
            .Initializer("cb", Differential.RandomFloats(68, 20), 20)
            .Node("Conv", new[] { "x", "w", "cb" }, new[] { "c" });
        if (activation is not null) b.Node(activation, new[] { "c" }, new[] { "a" });
        var model = b.Node("MaxPool", new[] { activation is null ? "c" : "a" }, new[] { "y" }, TwoByTwo).Output("y", DataType.Float).ToBytes();
        var conv = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Equal("single-channel-flat", conv.Annotations["kernel"]);
        Assert.True(conv.Annotations.ContainsKey(FusedEpilogue.PoolKey));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(69, 1, 1, 28, 28));
    }

    /// <summary>mnist-8's first layer (1→8, pad 2): the row kernel does not pool, so the fused layer moves to the flat-row kernel.</summary>
    [Fact]
    public void OneChannelRowKernelLayerMovesToTheFlatRowKernelToPool()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 1, 28, 28)
            .Initializer("w", Differential.RandomFloats(95, 8 * 25), 8, 1, 5, 5)
            .Node("Conv", new[] { "x", "w" }, new[] { "c" }, ("pads", new long[] { 2, 2, 2, 2 }))
            .Node("Relu", new[] { "c" }, new[] { "a" })
            .Node("MaxPool", new[] { "a" }, new[] { "y" }, TwoByTwo)
            .Output("y", DataType.Float).ToBytes();
        var conv = Assert.Single(CompiledGraph(model).Nodes);
        Assert.Equal("single-channel-flat", conv.Annotations["kernel"]);
        Assert.True(conv.Annotations.ContainsKey(FusedEpilogue.PoolKey));
        Assert.Contains("SingleChannelFlatRows.Convolve(", AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions()).Source);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(96, 1, 1, 28, 28));
    }

    [Fact]
    public void OneChannelLayerOutsideTheFlatRowDomainKeepsItsPool()
    {
        // 12-wide output rows: the flat-row kernel needs 16, so the row kernel and the MaxPool stay.
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 1, 16, 16)
            .Initializer("w", Differential.RandomFloats(97, 8 * 25), 8, 1, 5, 5)
            .Node("Conv", new[] { "x", "w" }, new[] { "c" })
            .Node("MaxPool", new[] { "c" }, new[] { "y" }, TwoByTwo)
            .Output("y", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        Assert.Equal(new[] { "Conv", "MaxPool" }, graph.Nodes.Select(n => n.OpType));
        Assert.Equal("single-channel", graph.Nodes[0].Annotations["kernel"]);
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(98, 1, 1, 16, 16));
    }

    [Theory]
    [InlineData("Sigmoid", 2, 2, false)]   // an activation the kernel applies after the store: kept apart
    [InlineData(null, 3, 3, false)]        // 3×3 windows
    [InlineData(null, 2, 1, false)]        // stride 1
    [InlineData(null, 2, 2, true)]         // ceil_mode on an odd output adds a window past the tiles
    public void OtherPoolsAndActivationsAreNotFused(string? activation, int kernel, int stride, bool ceil)
    {
        var model = ConvPool(8, 16, 13, 13, 1, activation,
            ("kernel_shape", new long[] { kernel, kernel }), ("strides", new long[] { stride, stride }), ("ceil_mode", ceil ? 1L : 0L));
        var graph = CompiledGraph(model);
        Assert.Contains(graph.Nodes, n => n.OpType == "MaxPool");
        Assert.DoesNotContain(graph.Nodes, n => n.Annotations.ContainsKey(FusedEpilogue.PoolKey));
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(64, 1, 8, 13, 13));
    }

    [Fact]
    public void ConvOutputWithAnotherReaderIsNotFused()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 8, 12, 12)
            .Initializer("w", Differential.RandomFloats(65, 16 * 8 * 25), 16, 8, 5, 5)
            .Node("Conv", new[] { "x", "w" }, new[] { "c" })
            .Node("MaxPool", new[] { "c" }, new[] { "y" }, TwoByTwo)
            .Output("y", DataType.Float)
            .Output("c", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        Assert.Equal(new[] { "Conv", "MaxPool" }, graph.Nodes.Select(n => n.OpType));
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(66, 1, 8, 12, 12));
    }
}
