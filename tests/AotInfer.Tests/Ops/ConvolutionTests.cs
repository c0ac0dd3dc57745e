using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Conv and ConvTranspose against ONNX Runtime on random inputs with fixed seeds, one case per kernel path and attribute.</summary>
public class ConvolutionTests
{
    /// <summary>
    /// A Conv (or ConvTranspose) model: X is an input; W and B are initializers unless <paramref name="weightAsInput"/>.
    /// </summary>
    static void AssertConvAgrees(string op, int[] x, int[] w, bool bias, bool weightAsInput, params (string, object)[] attributes)
    {
        int outChannels = op == "Conv" ? w[0] : w[1] * (int)(attributes.FirstOrDefault(a => a.Item1 == "group").Item2 as int? ?? 1);
        int xCount = x.Aggregate(1, (a, b) => a * b), wCount = w.Aggregate(1, (a, b) => a * b);
        float[] xData = Differential.RandomFloats(11, xCount), wData = Differential.RandomFloats(12, wCount), bData = Differential.RandomFloats(13, outChannels);
        var builder = new OnnxModelBuilder().Input("x", DataType.Float, x);
        var inputs = new List<(int[], System.Array)> { (x, xData) };
        if (weightAsInput)
        {
            builder.Input("w", DataType.Float, w);
            inputs.Add((w, wData));
        }
        else builder.Initializer("w", wData, w);
        if (bias) builder.Initializer("b", bData, outChannels);
        var model = builder
            .Node(op, bias ? new[] { "x", "w", "b" } : new[] { "x", "w" }, new[] { "y" }, attributes)
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, rtol: 1e-4, atol: 1e-4, inputs: inputs.ToArray());
    }

    [Fact]
    public void Im2ColWithStridesDilationsAndAsymmetricPadsMatchesOnnxRuntime() =>
        AssertConvAgrees("Conv", new[] { 1, 3, 9, 8 }, new[] { 4, 3, 3, 3 }, bias: true, weightAsInput: false,
            ("pads", new[] { 1, 0, 2, 1 }), ("strides", new[] { 2, 1 }), ("dilations", new[] { 1, 2 }));

    [Fact]
    public void GroupedConvolutionOverTwoImagesMatchesOnnxRuntime() =>
        AssertConvAgrees("Conv", new[] { 2, 4, 7, 7 }, new[] { 6, 2, 3, 3 }, bias: true, weightAsInput: false, ("group", 2), ("pads", new[] { 1, 1, 1, 1 }));

    [Theory]
    [InlineData(1, 37)]
    [InlineData(2, 11)]
    [InlineData(1, 5)]
    public void DepthwiseMatchesOnnxRuntime(int stride, int width) =>
        AssertConvAgrees("Conv", new[] { 1, 5, 10, width }, new[] { 5, 1, 3, 3 }, bias: true, weightAsInput: false,
            ("group", 5), ("pads", new[] { 1, 2, 1, 0 }), ("strides", new[] { stride, stride }));

    [Theory]
    [InlineData(1, 16, 32, 32, 1, 1)] // resnet8-like 3×3 stride 1: one output row per sliver
    [InlineData(1, 16, 32, 32, 2, 1)] // stride 2
    [InlineData(1, 1, 28, 28, 1, 1)]  // a single-channel first layer
    [InlineData(2, 20, 25, 23, 1, 2)] // depth beyond one depth block, odd widths, two images, two groups
    public void PackedGemmConvolutionMatchesOnnxRuntime(int batch, int channels, int height, int width, int stride, int groups) =>
        AssertConvAgrees("Conv", new[] { batch, channels, height, width }, new[] { 14, channels / groups, 3, 3 }, bias: true, weightAsInput: false,
            ("group", groups), ("pads", new[] { 1, 1, 1, 1 }), ("strides", new[] { stride, stride }));

    [Fact]
    public void DepthwiseSameWidthWithFusedReluMatchesOnnxRuntime()
    {
        // DS-CNN's layer: 3×3 pad 1 over 25×5 planes, Relu folded into the kernel's store.
        var model = new OnnxModelBuilder().Input("x", DataType.Float, 1, 12, 25, 5)
            .Initializer("w", Differential.RandomFloats(12, 12 * 9), 12, 1, 3, 3)
            .Initializer("b", Differential.RandomFloats(13, 12), 12)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("group", 12), ("pads", new[] { 1, 1, 1, 1 }))
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, rtol: 1e-4, atol: 1e-4, inputs: new (int[], System.Array)[] { (new[] { 1, 12, 25, 5 }, Differential.RandomFloats(11, 12 * 125)) });
    }

    [Theory]
    [InlineData(1, 32, 64, 4, 4, 1, 1, new[] { 1, 1, 1, 1 })]     // digits_cnn's 4×4 layer
    [InlineData(1, 16, 32, 32, 32, 2, 1, new[] { 0, 0, 1, 1 })]   // resnet8's stride-2 layer, end pads only
    [InlineData(2, 5, 33, 11, 13, 1, 2, new[] { 2, 0, 1, 3 })]    // dilation 2, asymmetric pads, two images, three blocks
    [InlineData(1, 1, 8, 28, 28, 1, 1, new[] { 2, 2, 2, 2 })]     // a single input channel
    public void ChannelBlockedConvolutionMatchesOnnxRuntime(int batch, int channels, int outChannels, int height, int width, int stride, int dilation, int[] pads) =>
        AssertConvAgrees("Conv", new[] { batch, channels, height, width }, new[] { outChannels, channels, 3, 3 }, bias: true, weightAsInput: false,
            ("pads", pads), ("strides", new[] { stride, stride }), ("dilations", new[] { dilation, dilation }));

    [Theory]
    [InlineData(1, 16, 128, 16, 16)] // Winograd from 128 output channels
    [InlineData(2, 24, 130, 13, 11)] // odd sizes, two images
    public void WinogradConvolutionMatchesOnnxRuntime(int batch, int channels, int outChannels, int height, int width) =>
        AssertConvAgrees("Conv", new[] { batch, channels, height, width }, new[] { outChannels, channels, 3, 3 }, bias: true, weightAsInput: false,
            ("pads", new[] { 1, 1, 1, 1 }));

    /// <summary>
    /// 3×3 stride-1 layers pick Winograd F(4×4, 3×3) vectorised over output channels when there is enough work for its
    /// transforms and its transformed weights stay small, and still agree with ONNX Runtime (with a fused Relu).
    /// </summary>
    [Theory]
    [InlineData(1, 16, 16, 32, 32, "winograd-f4x3")]  // resnet8's 16-channel layers: one block over two tile rows
    [InlineData(1, 64, 64, 8, 8, "winograd-f4x3")]    // resnet8's last stage: two pairs of blocks, the plane one group
    [InlineData(1, 32, 64, 14, 14, "winograd-f4x3")]  // fashion_bncnn's f.7: the last tile row and column overhang
    [InlineData(2, 24, 48, 17, 15, "winograd-f4x3")]  // odd sizes, two images, a pair and a single block
    [InlineData(1, 16, 24, 22, 22, "winograd-f4x3")]  // burn-mnist's conv3: 24 output channels, the second block half empty
    [InlineData(1, 8, 16, 24, 24, "winograd-f4x3")]   // burn-mnist's conv2: 8 input channels, tile-contiguous input
    [InlineData(1, 7, 16, 32, 32, "channel-blocked")] // 7 input channels: too few for the transforms
    [InlineData(1, 16, 32, 8, 8, "channel-blocked")]  // digits_cnn's 8×8 layer: too little work for the transforms
    [InlineData(1, 64, 128, 9, 10, "winograd-f2x3")]  // transformed weights (four times the direct ones) past the cache
    public void WinogradChoiceMatchesOnnxRuntime(int batch, int channels, int outChannels, int height, int width, string kernel)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, batch, channels, height, width)
            .Initializer("w", Differential.RandomFloats(12, outChannels * channels * 9), outChannels, channels, 3, 3)
            .Initializer("b", Differential.RandomFloats(13, outChannels), outChannels)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("pads", new[] { 1, 1, 1, 1 }))
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var conv = Assert.Single(Compiler.FusionPassTests.CompiledGraph(model).Nodes);
        Assert.Equal(kernel, conv.Annotations["kernel"]);
        Differential.AssertAgrees(model, rtol: 1e-4, atol: 1e-4,
            inputs: new (int[], System.Array)[] { (new[] { batch, channels, height, width }, Differential.RandomFloats(11, batch * channels * height * width)) });
    }

    /// <summary>
    /// 5×5 stride-1 layers from 8 input channels pick Winograd F(4×4, 5×5) vectorised over output channels, and still
    /// agree with ONNX Runtime (with a fused Relu); one input channel keeps a direct kernel.
    /// </summary>
    [Theory]
    [InlineData(1, 20, 50, 12, 12, 0, "winograd-f4x5")]   // fashion_lenet5's c2: four blocks, the last of 2 channels
    [InlineData(1, 8, 16, 14, 14, 2, "winograd-f4x5")]    // mnist-8's second layer: tiles overhanging the output
    [InlineData(2, 9, 33, 11, 17, 1, "winograd-f4x5")]    // odd sizes, two images, three blocks
    [InlineData(1, 1, 8, 28, 28, 2, "single-channel")]    // mnist-8's first layer: too little product for the transforms
    public void FiveByFiveChoiceMatchesOnnxRuntime(int batch, int channels, int outChannels, int height, int width, int pad, string kernel)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, batch, channels, height, width)
            .Initializer("w", Differential.RandomFloats(14, outChannels * channels * 25), outChannels, channels, 5, 5)
            .Initializer("b", Differential.RandomFloats(15, outChannels), outChannels)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("pads", new[] { pad, pad, pad, pad }))
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var conv = Assert.Single(Compiler.FusionPassTests.CompiledGraph(model).Nodes);
        Assert.Equal(kernel, conv.Annotations["kernel"]);
        Differential.AssertAgrees(model, rtol: 1e-4, atol: 1e-4,
            inputs: new (int[], System.Array)[] { (new[] { batch, channels, height, width }, Differential.RandomFloats(16, batch * channels * height * width)) });
    }

    [Theory]
    [InlineData(2, 8, 12, 9, 10, "pointwise-gemm")]   // widening, 90 pixels
    [InlineData(1, 8, 12, 5, 6, "channel-blocked")]   // a plane of at most 8×8
    [InlineData(1, 40, 24, 14, 14, "channel-blocked")] // narrowing on 14×14 (MobileNetV2's projections)
    [InlineData(1, 40, 24, 15, 14, "pointwise-gemm")]  // narrowing on a larger plane
    public void PointwiseMatchesOnnxRuntime(int batch, int channels, int outChannels, int height, int width, string expectedKernel)
    {
        AssertConvAgrees("Conv", new[] { batch, channels, height, width }, new[] { outChannels, channels, 1, 1 }, bias: true, weightAsInput: false);
        var model = new OnnxModelBuilder().Input("x", DataType.Float, batch, channels, height, width)
            .Initializer("w", Differential.RandomFloats(12, outChannels * channels), outChannels, channels, 1, 1)
            .Node("Conv", new[] { "x", "w" }, new[] { "y" }).Output("y", DataType.Float).ToBytes();
        var conv = Assert.Single(AotInfer.Tests.Compiler.FusionPassTests.CompiledGraph(model).Nodes);
        Assert.Equal(expectedKernel, conv.Annotations["kernel"]);
    }

    [Fact]
    public void PointwiseGroupedWithoutBiasMatchesOnnxRuntime() =>
        AssertConvAgrees("Conv", new[] { 1, 8, 5, 6 }, new[] { 12, 2, 1, 1 }, bias: false, weightAsInput: false, ("group", 4));

    [Fact]
    public void OneDimensionalSameUpperWithStrideMatchesOnnxRuntime() =>
        AssertConvAgrees("Conv", new[] { 1, 2, 20 }, new[] { 3, 2, 4 }, bias: true, weightAsInput: false, ("auto_pad", "SAME_UPPER"), ("strides", new[] { 3 }));

    [Fact]
    public void ThreeDimensionalSameLowerMatchesOnnxRuntime() =>
        AssertConvAgrees("Conv", new[] { 1, 2, 5, 6, 7 }, new[] { 3, 2, 2, 3, 2 }, bias: false, weightAsInput: false, ("auto_pad", "SAME_LOWER"));

    [Fact]
    public void ValidPaddingWithRuntimeWeightsMatchesOnnxRuntime() =>
        AssertConvAgrees("Conv", new[] { 1, 3, 8, 9 }, new[] { 2, 3, 3, 2 }, bias: true, weightAsInput: true, ("auto_pad", "VALID"), ("strides", new[] { 2, 2 }));

    [Fact]
    public void TransposedWithStridesOutputPaddingAndGroupsMatchesOnnxRuntime() =>
        AssertConvAgrees("ConvTranspose", new[] { 1, 4, 5, 4 }, new[] { 4, 3, 3, 3 }, bias: true, weightAsInput: false,
            ("group", 2), ("strides", new[] { 2, 3 }), ("output_padding", new[] { 1, 0 }), ("pads", new[] { 1, 0, 0, 1 }));

    [Fact]
    public void TransposedWithRuntimeWeightsAndDilationsMatchesOnnxRuntime() =>
        AssertConvAgrees("ConvTranspose", new[] { 2, 3, 4, 5 }, new[] { 3, 2, 2, 3 }, bias: false, weightAsInput: true, ("dilations", new[] { 2, 1 }));

    [Fact]
    public void TransposedWithOutputShapeMatchesOnnxRuntime() =>
        AssertConvAgrees("ConvTranspose", new[] { 1, 2, 3, 3 }, new[] { 2, 2, 3, 3 }, bias: true, weightAsInput: false,
            ("strides", new[] { 2, 2 }), ("output_shape", new[] { 6, 7 }));

    [Fact]
    public void TransposedOneDimensionalSameUpperMatchesOnnxRuntime() =>
        AssertConvAgrees("ConvTranspose", new[] { 1, 3, 7 }, new[] { 3, 2, 4 }, bias: true, weightAsInput: false, ("auto_pad", "SAME_UPPER"), ("strides", new[] { 2 }));

    [Fact]
    public void TransposedConstantWeightsAreStoredOnlyInTheirBuildTimeLayout()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 2, 3, 3).Initializer("w", Differential.RandomFloats(1, 2 * 3 * 2 * 2), 2, 3, 2, 2)
            .Node("ConvTranspose", new[] { "x", "w" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        Assert.Contains("// w (transposed per group for the GEMM): Float[12,2]", result.Source);
        Assert.DoesNotContain("// w: Float", result.Source);
    }

    [Fact]
    public void ConvOverIntegersIsUnsupported()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Int32, 1, 1, 4, 4).Input("w", DataType.Int32, 1, 1, 2, 2)
            .Node("Conv", new[] { "x", "w" }, new[] { "y" })
            .Output("y", DataType.Int32).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("float only"));
    }

    [Fact]
    public void MismatchedKernelShapeIsUnsupported()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 1, 4, 4).Input("w", DataType.Float, 1, 1, 2, 2)
            .Node("Conv", new[] { "x", "w" }, new[] { "y" }, ("kernel_shape", new[] { 3, 3 }))
            .Output("y", DataType.Float).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("kernel_shape"));
    }

    [Theory]
    [InlineData(new long[] { 1, 1 }, new long[] { 0, 0, 0, 0 }, new long[] { 1, 1 })]
    [InlineData(new long[] { 2, 1 }, new long[] { 1, 0, 1, 2 }, new long[] { 1, 2 })]
    [InlineData(new long[] { 2, 3 }, new long[] { 0, 1, 1, 0 }, new long[] { 2, 1 })]
    public void Col2ImMatchesOnnxRuntime(long[] strides, long[] pads, long[] dilations)
    {
        // image 7x8, block 2x3, 2 channels, batch 2; L follows from the geometry.
        int[] image = { 7, 8 }, block = { 2, 3 };
        int blocks = 1;
        for (int d = 0; d < 2; d++)
            blocks *= (int)((image[d] + pads[d] + pads[d + 2] - dilations[d] * (block[d] - 1) - 1) / strides[d] + 1);
        var model = new OnnxModelBuilder(18)
            .Input("x", DataType.Float, 2, 2 * 6, blocks)
            .Initializer("image", new long[] { 7, 8 }, 2).Initializer("block", new long[] { 2, 3 }, 2)
            .Node("Col2Im", new[] { "x", "image", "block" }, new[] { "y" }, ("strides", strides), ("pads", pads), ("dilations", dilations))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { (new[] { 2, 12, blocks }, (System.Array)Differential.RandomFloats(40, 24 * blocks)) });
    }
}
