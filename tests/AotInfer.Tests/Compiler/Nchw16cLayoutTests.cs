using System;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Passes;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;
using static AotInfer.Tests.Compiler.FusionPassTests;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// Nchw16cLayout: which tensors between depthwise and 1×1 convolutions it keeps 16-channel-blocked, and where it must
/// leave NCHW (graph inputs and outputs, channel counts that are not multiples of 16, a reader that is another op, a
/// 1×1 layer one of whose sides stays NCHW); every model also agrees with ONNX Runtime on random inputs (fixed seeds).
/// </summary>
public class Nchw16cLayoutTests
{
    /// <summary>Appends a depthwise 3×3 Conv (pad 1, the stride given) with bias and Relu: x → y.</summary>
    static OnnxModelBuilder Depthwise(OnnxModelBuilder b, string x, string y, int channels, int seed, int stride = 1) => b
        .Initializer(y + "_w", Differential.RandomFloats(seed, channels * 9), channels, 1, 3, 3)
        .Initializer(y + "_b", Differential.RandomFloats(seed + 1, channels), channels)
        .Node("Conv", new[] { x, y + "_w", y + "_b" }, new[] { y + "_c" }, ("group", (long)channels), ("pads", new long[] { 1, 1, 1, 1 }),
            ("strides", new long[] { stride, stride }))
        .Node("Relu", new[] { y + "_c" }, new[] { y });

    /// <summary>Appends a 1×1 Conv C→M with bias, then Relu unless <paramref name="relu"/> is false: x → y.</summary>
    static OnnxModelBuilder Pointwise(OnnxModelBuilder b, string x, string y, int inChannels, int outChannels, int seed, bool relu = true)
    {
        b.Initializer(y + "_w", Differential.RandomFloats(seed, outChannels * inChannels), outChannels, inChannels, 1, 1)
            .Initializer(y + "_b", Differential.RandomFloats(seed + 1, outChannels), outChannels)
            .Node("Conv", new[] { x, y + "_w", y + "_b" }, new[] { relu ? y + "_c" : y });
        return relu ? b.Node("Relu", new[] { y + "_c" }, new[] { y }) : b;
    }

    static Node Producer(Graph graph, string value) => graph.Nodes.Single(n => n.Outputs[0].Name == value);

    static bool Blocked(Graph graph, string value) => Nchw16cLayout.WritesBlocked(Producer(graph, value));

    /// <summary>DS-CNN's shape: depthwise, pointwise, depthwise stride 2, widening pointwise, global average.</summary>
    [Fact]
    public void DepthwiseSeparableChainStaysBlockedUpToThePool()
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 32, 12, 6);
        Depthwise(b, "x", "d1", 32, 60);
        Pointwise(b, "d1", "p1", 32, 32, 62);
        Depthwise(b, "p1", "d2", 32, 64, stride: 2);
        Pointwise(b, "d2", "p2", 32, 48, 66);
        var model = b.Node("GlobalAveragePool", new[] { "p2" }, new[] { "y" }).Output("y", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        Assert.All(new[] { "d1", "p1", "d2", "p2" }, v => Assert.True(Blocked(graph, v), v));
        Assert.False(Nchw16cLayout.ReadsBlocked(graph.Nodes[0])); // x is a graph input
        Assert.Equal(Nchw16cLayout.PointwiseKernel, Producer(graph, "p1").Annotations["kernel"]);
        Assert.True(Nchw16cLayout.ReadsBlocked(graph.Nodes.Single(n => n.OpType == "GlobalAveragePool")));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(67, 1, 32, 12, 6));
    }

    /// <summary>
    /// MobileNetV2's inverted residual: the block input is read by the expanding 1×1 layer and, as the fused residual,
    /// by the projecting one; both read it blocked.
    /// </summary>
    [Fact]
    public void InvertedResidualReadsItsShortcutBlocked()
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 16, 9, 9);
        Depthwise(b, "x", "h", 16, 70);
        Pointwise(b, "h", "e", 16, 64, 72);
        Depthwise(b, "e", "d", 64, 74);
        Pointwise(b, "d", "p", 64, 16, 76, relu: false);
        var model = b.Node("Add", new[] { "p", "h" }, new[] { "s" })
            .Node("GlobalAveragePool", new[] { "s" }, new[] { "y" }).Output("y", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        var project = graph.Nodes.Single(n => n.Input(ResidualFusion.InputIndex)?.Name == "h");
        Assert.True(Nchw16cLayout.ReadsBlocked(project));
        Assert.True(Nchw16cLayout.WritesBlocked(project));
        Assert.All(new[] { "h", "e", "d" }, v => Assert.True(Blocked(graph, v), v));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(77, 1, 16, 9, 9));
    }

    /// <summary>
    /// 24 channels (MobileNetV2's second stage) are not whole blocks: that tensor stays NCHW, and the 1×1 layer reading it
    /// starts the chain (NCHW in, NCHW16c out).
    /// </summary>
    [Fact]
    public void ChannelsThatAreNotWholeBlocksStayNchw()
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 24, 8, 8);
        Depthwise(b, "x", "d1", 24, 80);
        Pointwise(b, "d1", "p1", 24, 32, 82);
        Depthwise(b, "p1", "d2", 32, 84);
        var model = b.Node("GlobalAveragePool", new[] { "d2" }, new[] { "y" }).Output("y", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        Assert.False(Blocked(graph, "d1"));
        Assert.True(Blocked(graph, "p1"));
        Assert.False(Nchw16cLayout.ReadsBlocked(Producer(graph, "p1")));
        Assert.Equal(Nchw16cLayout.PointwiseKernel, Producer(graph, "p1").Annotations["kernel"]);
        Assert.True(Blocked(graph, "d2"));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(85, 1, 24, 8, 8));
    }

    /// <summary>
    /// A graph output inside the chain (p1), or a tensor also read by another op (Sigmoid reads d1): it stays NCHW. A 1×1
    /// layer writing NCHW reads NCHW too (d1 before p1), one reading NCHW may still write NCHW16c (p1 after d1); the next
    /// depthwise layer converts what it reads and the pool reads its blocked output.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GraphOutputsAndOtherReadersKeepNchw(bool outputInside)
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 16, 7, 7);
        Depthwise(b, "x", "d1", 16, 90);
        Pointwise(b, "d1", "p1", 16, 32, 92);
        Depthwise(b, "p1", "d2", 32, 94);
        b.Node("GlobalAveragePool", new[] { "d2" }, new[] { "y" }).Output("y", DataType.Float);
        if (outputInside) b.Output("p1", DataType.Float);
        else b.Node("Sigmoid", new[] { "d1" }, new[] { "z" }).Output("z", DataType.Float);
        var model = b.ToBytes();
        var graph = CompiledGraph(model);
        Assert.False(Blocked(graph, "d1"));
        Assert.Equal(!outputInside, Blocked(graph, "p1"));
        Assert.Equal(!outputInside, Nchw16cLayout.ReadsBlocked(Producer(graph, "d2")));
        Assert.True(Blocked(graph, "d2"));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(97, 1, 16, 7, 7));
    }

    /// <summary>
    /// A stride-2 depthwise layer on 20×20 takes the NCHW stride-2 kernel on its own, and moves to the channel-interleaved
    /// kernel (which converts) when its output feeds a blocked chain.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DepthwiseLayersReachedByTheChainMoveToTheInterleavedKernel(bool chain)
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 16, 20, 20);
        Depthwise(b, "x", "d", 16, 100, stride: 2);
        if (chain) Pointwise(b, "d", "p", 16, 16, 102).Node("GlobalAveragePool", new[] { "p" }, new[] { "y" });
        else b.Node("GlobalMaxPool", new[] { "d" }, new[] { "y" });
        var model = b.Output("y", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        Assert.Equal(chain ? "depthwise-interleaved" : "depthwise-stride2", Producer(graph, "d").Annotations["kernel"]);
        Assert.Equal(chain, Blocked(graph, "d"));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(103, 1, 16, 20, 20));
    }

    /// <summary>Two images in one tensor, and a run-time batch of three samples, through a blocked chain.</summary>
    [Fact]
    public void SeveralImagesAgreeWithOnnxRuntime()
    {
        static OnnxModelBuilder Chain(OnnxModelBuilder b)
        {
            Depthwise(b, "x", "d1", 32, 120);
            Pointwise(b, "d1", "p1", 32, 32, 122);
            Depthwise(b, "p1", "d2", 32, 124, stride: 2);
            return b.Node("GlobalAveragePool", new[] { "d2" }, new[] { "y" }).Output("y", DataType.Float);
        }
        var pinned = Chain(new OnnxModelBuilder(13).Input("x", DataType.Float, 2, 32, 6, 5)).ToBytes();
        Assert.True(Blocked(CompiledGraph(pinned), "p1"));
        Differential.AssertAgrees(pinned, 1e-4, 1e-5, Input(125, 2, 32, 6, 5));

        var batched = Chain(new OnnxModelBuilder(13).BatchedInput("x", DataType.Float, "batch", 32, 6, 5)).ToBytes();
        var x = Differential.RandomFloats(126, 3 * 32 * 30, -2, 2);
        var expected = Differential.RunOnnxRuntime(batched, (new[] { 3, 32, 6, 5 }, x));
        var compiled = Differential.CompileModel(batched);
        var y = new float[3 * 32];
        compiled.Run(new Array[] { x }, new Array[] { y });
        Assert.Null(new AotInfer.Cli.Check.OutputComparer(1e-4, 1e-5, 0).Compare(y, expected[0], "y"));
    }

    /// <summary>
    /// A pruned 1×1 layer inside the chain that the cost model keeps sparse runs the sparse convolution, which computes
    /// NCHW only: it and the tensors on both sides stay NCHW while the rest of the chain agrees with ONNX Runtime.
    /// </summary>
    [Fact]
    public void SparseFilterKeepsItsLayerNchw()
    {
        float[] pruned = Differential.RandomFloats(82, 64 * 64);
        for (int i = 0; i < pruned.Length; i++) if (i % 20 != 0) pruned[i] = 0; // 95 % zeros
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 64, 10, 10);
        Depthwise(b, "x", "d1", 64, 80);
        b.Initializer("p1_w", pruned, 64, 64, 1, 1).Initializer("p1_b", Differential.RandomFloats(83, 64), 64)
            .Node("Conv", new[] { "d1", "p1_w", "p1_b" }, new[] { "p1" });
        Depthwise(b, "p1", "d2", 64, 84);
        Pointwise(b, "d2", "p2", 64, 32, 86);
        var model = b.Node("GlobalAveragePool", new[] { "p2" }, new[] { "y" }).Output("y", DataType.Float).ToBytes();
        var graph = CompiledGraph(model);
        var sparse = Producer(graph, "p1");
        Assert.StartsWith("sparse convolution", (string)sparse.Annotations["kernel"]);
        Assert.False(Nchw16cLayout.ReadsBlocked(sparse));
        Assert.False(Nchw16cLayout.WritesBlocked(sparse));
        Assert.True(Blocked(graph, "d2"));
        Differential.AssertAgrees(model, 1e-4, 1e-5, Input(87, 1, 64, 10, 10));
    }
}
