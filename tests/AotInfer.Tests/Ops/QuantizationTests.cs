using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>
/// The quantisation ops against ONNX Runtime on random inputs with fixed seeds: QuantizeLinear / DequantizeLinear
/// (per tensor, per axis, blocked), DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv and
/// the com.microsoft QGemm, MatMulIntegerToFloat and DynamicQuantizeMatMul. Integer outputs must agree exactly.
/// </summary>
public class QuantizationTests
{
    static byte[] RandomBytes(int seed, int count) { var r = new Random(seed); return Enumerable.Range(0, count).Select(_ => (byte)r.Next(256)).ToArray(); }
    static sbyte[] RandomSBytes(int seed, int count) { var r = new Random(seed); return Enumerable.Range(0, count).Select(_ => (sbyte)r.Next(-128, 128)).ToArray(); }
    static Tensor U8(int[] shape, params byte[] values) => new(DataType.UInt8, shape, values);
    static Tensor S8(int[] shape, params sbyte[] values) => new(DataType.Int8, shape, values);
    static Tensor F(int[] shape, params float[] values) => new(DataType.Float, shape, values);
    static Tensor I32(int[] shape, params int[] values) => new(DataType.Int32, shape, values);
    static readonly int[] Scalar = Array.Empty<int>();

    [Theory]
    [InlineData(DataType.UInt8, 0)]
    [InlineData(DataType.Int8, 0)]
    [InlineData(DataType.Int8, 1)]
    [InlineData(DataType.UInt8, 2)]
    public void QuantizeLinearMatchesOnnxRuntime(DataType type, int axis)
    {
        // axis 0: per tensor; otherwise per axis with 3 or 4 channels.
        int channels = axis == 0 ? 1 : axis == 1 ? 3 : 4;
        int[] paramShape = axis == 0 ? Scalar : new[] { channels };
        var scales = Enumerable.Range(0, channels).Select(i => 0.02f + 0.01f * i).ToArray();
        var zeros = Enumerable.Range(0, channels).Select(i => type == DataType.UInt8 ? 100 + 7 * i : -5 + 3 * i).ToArray();
        Tensor zero = type == DataType.UInt8 ? U8(paramShape, zeros.Select(z => (byte)z).ToArray()) : S8(paramShape, zeros.Select(z => (sbyte)z).ToArray());
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 2, 3, 4)
            .Initializer("scale", F(paramShape, scales)).Initializer("zero", zero)
            .Node("QuantizeLinear", new[] { "x", "scale", "zero" }, new[] { "y" }, ("axis", (long)Math.Max(axis, 1)))
            .Output("y", type).ToBytes();
        // Values up to ±4 saturate; multiples of half a step exercise round half to even.
        var x = Differential.RandomFloats(11 + axis, 24, -4, 4);
        x[0] = 0.01f; x[1] = 0.03f; x[2] = -0.05f;
        Differential.AssertAgrees(model, inputs: (new[] { 2, 3, 4 }, (Array)x));
    }

    [Fact]
    public void DequantizeLinearPerAxisMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Int8, 2, 3, 5)
            .Initializer("scale", F(new[] { 3 }, 0.5f, 0.1f, 2f)).Initializer("zero", S8(new[] { 3 }, 1, -7, 0))
            .Node("DequantizeLinear", new[] { "x", "scale", "zero" }, new[] { "y" }, ("axis", 1L))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 2, 3, 5 }, (Array)RandomSBytes(3, 30)));
    }

    [Fact]
    public void BlockedQuantizeDequantizeRoundTripMatchesOnnxRuntime()
    {
        // x [2, 6] blocked along axis 1 in blocks of 4 (the last block is partial): scale [2, 2].
        var model = new OnnxModelBuilder(21)
            .Input("x", DataType.Float, 2, 6)
            .Initializer("scale", F(new[] { 2, 2 }, 0.1f, 0.2f, 0.05f, 0.3f)).Initializer("zero", U8(new[] { 2, 2 }, 128, 120, 10, 200))
            .Node("QuantizeLinear", new[] { "x", "scale", "zero" }, new[] { "q" }, ("axis", 1L), ("block_size", 4L))
            .Node("DequantizeLinear", new[] { "q", "scale", "zero" }, new[] { "y" }, ("axis", 1L), ("block_size", 4L))
            .Output("q", DataType.UInt8).Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 2, 6 }, (Array)Differential.RandomFloats(4, 12, -3, 3)));
    }

    [Fact]
    public void DynamicQuantizeLinearMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 3, 7)
            .Node("DynamicQuantizeLinear", new[] { "x" }, new[] { "y", "scale", "zero" })
            .Output("y", DataType.UInt8).Output("scale", DataType.Float).Output("zero", DataType.UInt8).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 3, 7 }, (Array)Differential.RandomFloats(5, 21, -2, 5)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatMulIntegerMatchesOnnxRuntime(bool constantB)
    {
        var builder = new OnnxModelBuilder(13).Input("a", DataType.UInt8, 2, 5, 19).Input("za", DataType.UInt8);
        if (constantB) builder.Initializer("b", S8(new[] { 19, 23 }, RandomSBytes(6, 19 * 23))).Initializer("zb", S8(Scalar, -3));
        else builder.Input("b", DataType.Int8, 19, 23).Input("zb", DataType.Int8);
        var model = builder.Node("MatMulInteger", new[] { "a", "b", "za", "zb" }, new[] { "y" }).Output("y", DataType.Int32).ToBytes();
        var inputs = new (int[], Array)[] { (new[] { 2, 5, 19 }, RandomBytes(7, 190)), (Scalar, new byte[] { 131 }) };
        if (!constantB) inputs = inputs.Concat(new (int[], Array)[] { (new[] { 19, 23 }, RandomSBytes(6, 19 * 23)), (Scalar, new sbyte[] { -3 }) }).ToArray();
        Differential.AssertAgrees(model, inputs: inputs);
    }

    [Theory]
    [InlineData(DataType.UInt8, DataType.Int8)]
    [InlineData(DataType.UInt8, DataType.UInt8)]
    [InlineData(DataType.Int8, DataType.Int8)]
    public void QLinearMatMulMatchesOnnxRuntime(DataType aType, DataType bType)
    {
        Tensor Q(DataType t, int[] shape, int seed, int count) => t == DataType.UInt8 ? U8(shape, RandomBytes(seed, count)) : S8(shape, RandomSBytes(seed, count));
        Tensor Zero(DataType t, int value) => t == DataType.UInt8 ? U8(Scalar, (byte)(value + 128)) : S8(Scalar, (sbyte)value);
        var model = new OnnxModelBuilder(13)
            .Input("a", aType, 7, 33)
            .Initializer("sa", F(Scalar, 0.02f)).Initializer("za", Zero(aType, 3))
            .Initializer("b", Q(bType, new[] { 33, 18 }, 8, 33 * 18)).Initializer("sb", F(Scalar, 0.01f)).Initializer("zb", Zero(bType, -2))
            .Initializer("sy", F(Scalar, 0.15f)).Initializer("zy", Zero(aType, 1))
            .Node("QLinearMatMul", new[] { "a", "sa", "za", "b", "sb", "zb", "sy", "zy" }, new[] { "y" })
            .Output("y", aType).ToBytes();
        Array a = aType == DataType.UInt8 ? RandomBytes(9, 7 * 33) : RandomSBytes(9, 7 * 33);
        Differential.AssertAgrees(model, inputs: (new[] { 7, 33 }, a));
    }

    [Theory]
    [InlineData(1, 1, 0, false)]
    [InlineData(2, 1, 1, true)]
    [InlineData(1, 2, 1, true)]
    [InlineData(4, 1, 1, false)]
    public void QLinearConvMatchesOnnxRuntime(int groups, int stride, int pad, bool perChannel)
    {
        int inC = 4, outC = 8, size = 9, kernel = 3;
        var scales = Enumerable.Range(0, perChannel ? outC : 1).Select(i => 0.005f + 0.002f * i).ToArray();
        int[] paramShape = perChannel ? new[] { outC } : Scalar;
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.UInt8, 2, inC, size, size)
            .Initializer("sx", F(Scalar, 0.03f)).Initializer("zx", U8(Scalar, 120))
            .Initializer("w", S8(new[] { outC, inC / groups, kernel, kernel }, RandomSBytes(10, outC * inC / groups * kernel * kernel)))
            .Initializer("sw", F(paramShape, scales)).Initializer("zw", S8(paramShape, new sbyte[paramShape.Length == 0 ? 1 : outC]))
            .Initializer("sy", F(Scalar, 0.1f)).Initializer("zy", U8(Scalar, 128))
            .Initializer("bias", I32(new[] { outC }, Enumerable.Range(0, outC).Select(i => (i - 4) * 300).ToArray()))
            .Node("QLinearConv", new[] { "x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "bias" }, new[] { "y" },
                ("group", (long)groups), ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }))
            .Output("y", DataType.UInt8).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 2, inC, size, size }, (Array)RandomBytes(12, 2 * inC * size * size)));
    }

    [Theory]
    [InlineData(1, 1, true)]
    [InlineData(2, 1, false)]
    [InlineData(1, 0, true)]
    public void DepthwiseQLinearConvMatchesOnnxRuntime(int stride, int pad, bool perChannel)
    {
        // One channel per group: the direct depthwise kernel, not im2col.
        int channels = 6, size = 10;
        int[] paramShape = perChannel ? new[] { channels } : Scalar;
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.UInt8, 1, channels, size, size)
            .Initializer("sx", F(Scalar, 0.04f)).Initializer("zx", U8(Scalar, 90))
            .Initializer("w", S8(new[] { channels, 1, 3, 3 }, RandomSBytes(24, channels * 9)))
            .Initializer("sw", F(paramShape, Enumerable.Range(0, paramShape.Length == 0 ? 1 : channels).Select(i => 0.004f + 0.001f * i).ToArray()))
            .Initializer("zw", S8(paramShape, new sbyte[paramShape.Length == 0 ? 1 : channels]))
            .Initializer("sy", F(Scalar, 0.05f)).Initializer("zy", U8(Scalar, 128))
            .Initializer("bias", I32(new[] { channels }, Enumerable.Range(0, channels).Select(i => (i - 3) * 500).ToArray()))
            .Node("QLinearConv", new[] { "x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "bias" }, new[] { "y" },
                ("group", (long)channels), ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }))
            .Output("y", DataType.UInt8).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 1, channels, size, size }, (Array)RandomBytes(25, channels * size * size)));
    }

    /// <summary>
    /// <c>inspect</c>'s kernel note names the depthwise path the layer's geometry selects: QLinearConv windows covering at
    /// most 16384 padded positions run channel blocks where the CPU has AVX-512BW+VBMI, larger ones and ConvInteger
    /// (int32 output) the phase planes.
    /// </summary>
    [Theory]
    [InlineData("QLinearConv", 10, 1, "channel blocks of 16 where the CPU has AVX-512BW+VBMI, else phase planes")]
    [InlineData("QLinearConv", 126, 1, "channel blocks of 16 where the CPU has AVX-512BW+VBMI, else phase planes")] // covers 128×128 = 16384
    [InlineData("QLinearConv", 127, 1, "phase planes; the window is too large for channel blocks")]                 // covers 129×129
    [InlineData("QLinearConv", 128, 0, "channel blocks of 16 where the CPU has AVX-512BW+VBMI, else phase planes")] // unpadded 128×128
    [InlineData("ConvInteger", 10, 1, "phase planes; int32 output")]
    public void DepthwiseKernelNoteNamesThePathTheGeometrySelects(string opType, int size, int pad, string path)
    {
        int channels = 2;
        var builder = new OnnxModelBuilder(13)
            .Input("x", DataType.UInt8, 1, channels, size, size)
            .Initializer("sx", F(Scalar, 0.04f)).Initializer("zx", U8(Scalar, 90))
            .Initializer("w", S8(new[] { channels, 1, 3, 3 }, RandomSBytes(26, channels * 9)))
            .Initializer("sw", F(Scalar, 0.004f)).Initializer("zw", S8(Scalar, 0))
            .Initializer("sy", F(Scalar, 0.05f)).Initializer("zy", U8(Scalar, 128));
        var inputs = opType == "QLinearConv" ? new[] { "x", "sx", "zx", "w", "sw", "zw", "sy", "zy" } : new[] { "x", "w", "zx", "zw" };
        var model = builder
            .Node(opType, inputs, new[] { "y" }, ("group", (long)channels), ("pads", new long[] { pad, pad, pad, pad }))
            .Output("y", opType == "QLinearConv" ? DataType.UInt8 : DataType.Int32).ToBytes();
        var conv = Assert.Single(Compiler.FusionPassTests.CompiledGraph(model).Nodes, n => n.OpType == opType);
        Assert.StartsWith($"int8 depthwise-direct ({path}) ", (string)conv.Annotations["kernel"]);
    }

    [Theory]
    [InlineData(false, 3, 1, 1, 0)]
    [InlineData(true, 3, 2, 1, 0)]
    [InlineData(false, 1, 1, 0, 0)]
    [InlineData(true, 1, 2, 0, 0)]
    [InlineData(false, 3, 1, 1, 20)]
    [InlineData(true, 1, 1, 0, 20)]
    public void ByteGemmQLinearConvMatchesOnnxRuntime(bool signedInput, int kernel, int stride, int pad, int minus128Every)
    {
        // Constant s8 weights within ±127 (or with every n-th at −128, fixed up after the GEMM) run the vpmaddubsw GEMM;
        // 37 output positions leave a partial panel. The 3×3 layers run the direct convolution
        // (DirectQLinearConvRunsWithoutIm2ColAndMatchesOnnxRuntime), the 1×1 ones the pointwise kernel
        // (PointwiseQLinearConvRunsThePointwiseKernelAndMatchesOnnxRuntime).
        int inC = 8, outC = 12, size = 13;
        var model = ByteWeightQLinearConv(signedInput, inC, outC, kernel, size, ByteGemmWeights(40, outC * inC * kernel * kernel, minus128Every),
            ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }));
        Array x = signedInput ? RandomSBytes(41, inC * size * size) : RandomBytes(41, inC * size * size);
        Differential.AssertAgrees(model, inputs: (new[] { 1, inC, size, size }, x));
    }

    [Theory]
    [InlineData(false, 3, 1, 1, 1, 0)]
    [InlineData(true, 3, 2, 1, 1, 7)]
    [InlineData(false, 5, 1, 2, 1, 0)]
    [InlineData(true, 3, 1, 2, 2, 0)]
    [InlineData(false, 2, 3, 0, 1, 11)]
    public void DirectQLinearConvRunsWithoutIm2ColAndMatchesOnnxRuntime(bool signedInput, int kernel, int stride, int pad, int dilation, int minus128Every)
    {
        // k×k layers of one group run Int8DirectConvolution: 6 input channels leave a partial quad, 10 output channels a
        // partial block of four, 19-pixel rows partial vectors; −128 weights need no fixup there.
        int inC = 6, outC = 10, size = 19;
        var model = ByteWeightQLinearConv(signedInput, inC, outC, kernel, size, ByteGemmWeights(44, outC * inC * kernel * kernel, minus128Every),
            ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }), ("dilations", new long[] { dilation, dilation }));
        AssertRunsKernelAndAgrees(model, "DirectQLinearConv", "Int8DirectConvolution.ConvolveToBytes", signedInput, 45, inC, size);
    }

    [Theory]
    [InlineData(false, 10, 4, 2, 5, 1, 49, 10, 0)]
    [InlineData(true, 5, 5, 1, 0, 0, 28, 28, 0)]
    [InlineData(false, 3, 3, 1, 1, 1, 8, 8, 9)]
    [InlineData(true, 3, 7, 2, 2, 3, 13, 70, 5)]
    public void OneChannelQLinearConvRunsTheOneChannelKernelAndMatchesOnnxRuntime(bool signedInput, int kh, int kw, int stride, int padY, int padX, int height, int width,
        int minus128Every)
    {
        // Layers of one input channel run Int8SingleChannelConvolution: DS-CNN's 10×4 stride-2 stem, lenet5's 5×5 and
        // digits_cnn's 3×3 first layers, and rows past 64 padded bytes; 13 output channels leave a partial block of four.
        int outC = 13;
        var model = ByteWeightQLinearConv(signedInput, 1, outC, new[] { kh, kw }, new[] { height, width }, ByteGemmWeights(54, outC * kh * kw, minus128Every),
            ("strides", new long[] { stride, stride }), ("pads", new long[] { padY, padX, padY, padX }));
        var compiled = ModelCompiler.Compile(model, new CompileOptions { ClassName = "OneChannelQLinearConv" });
        Assert.True(compiled.Success, string.Join("; ", compiled.Diagnostics));
        Assert.Contains("Int8SingleChannelConvolution.ConvolveToBytes", compiled.Source);
        Array x = signedInput ? RandomSBytes(55, height * width) : RandomBytes(55, height * width);
        Differential.AssertAgrees(model, inputs: (new[] { 1, 1, height, width }, x));
    }

    [Theory]
    [InlineData(false, 13, 0, 1)]
    [InlineData(true, 13, 9, 1)]
    [InlineData(false, 3, 5, 1)]
    [InlineData(true, 5, 0, 1)]
    [InlineData(false, 15, 0, 2)]
    [InlineData(true, 7, 3, 3)]
    public void PointwiseQLinearConvRunsThePointwiseKernelAndMatchesOnnxRuntime(bool signedInput, int size, int minus128Every, int stride)
    {
        // Unpadded 1×1 layers of one group run Int8PointwiseConvolution: 11 input channels leave a partial quad, 13 output
        // channels a partial block of four, 169 pixels a last tile that moves back, 9 pixels less than one tile; strided
        // layers (resnet8's shortcuts) gather the pixels they read.
        int inC = 11, outC = 13;
        var model = ByteWeightQLinearConv(signedInput, inC, outC, 1, size, ByteGemmWeights(48, outC * inC, minus128Every), ("strides", new long[] { stride, stride }));
        AssertRunsKernelAndAgrees(model, "PointwiseQLinearConv", "Int8PointwiseConvolution.ConvolveToBytes", signedInput, 49, inC, size);
    }

    [Theory]
    [InlineData(false, 17, 1)]
    [InlineData(true, 17, 1)]
    [InlineData(false, 18, 0)]
    [InlineData(true, 19, 1)]
    public void WinogradQLinearConvMatchesOnnxRuntime(bool signedInput, int size, int pad)
    {
        // 3×3 stride-1 layers of 32 channels or more on 16×16 outputs or more run the integer Winograd F(2×2, 3×3):
        // 33 input channels leave half a channel pair, 34 output channels a partial block of four, odd outputs partial tiles.
        int inC = 33, outC = 34;
        var model = ByteWeightQLinearConv(signedInput, inC, outC, 3, size, ByteGemmWeights(50, outC * inC * 9, 0), ("pads", new long[] { pad, pad, pad, pad }));
        AssertRunsKernelAndAgrees(model, "WinogradQLinearConv", "Int8WinogradF2x3.ConvolveToBytes", signedInput, 51, inC, size);
    }

    [Fact]
    public void WinogradConvIntegerMatchesOnnxRuntime()
    {
        // u8 weights spanning 0…255 with zero point 0 do not fit a signed byte once centred (the direct kernel cannot take
        // them); the Winograd transforms are exact for any int8-range weights. int32 output, asymmetric pads, batch 2.
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.UInt8, 2, 32, 17, 18)
            .Initializer("w", U8(new[] { 36, 32, 3, 3 }, RandomBytes(52, 36 * 32 * 9)))
            .Initializer("zx", U8(Scalar, 200)).Initializer("zw", U8(Scalar, 0))
            .Node("ConvInteger", new[] { "x", "w", "zx", "zw" }, new[] { "y" }, ("pads", new long[] { 1, 0, 1, 1 }))
            .Output("y", DataType.Int32).ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions { ClassName = "WinogradConvInteger" });
        Assert.True(compiled.Success, string.Join("; ", compiled.Diagnostics));
        Assert.Contains("Int8WinogradF2x3.Convolve<", compiled.Source);
        Differential.AssertAgrees(model, inputs: (new[] { 2, 32, 17, 18 }, (Array)RandomBytes(53, 2 * 32 * 17 * 18)));
    }

    [Fact]
    public void DirectConvIntegerMatchesOnnxRuntime()
    {
        // Constant u8 weights around zero point 130 fit a signed byte once centred: the direct convolution, int32 output.
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.UInt8, 2, 5, 11, 12)
            .Initializer("w", U8(new[] { 7, 5, 3, 3 }, RandomBytes(46, 7 * 5 * 9).Select(v => (byte)(v / 2 + 66)).ToArray()))
            .Initializer("zx", U8(Scalar, 17)).Initializer("zw", U8(Scalar, 130))
            .Node("ConvInteger", new[] { "x", "w", "zx", "zw" }, new[] { "y" }, ("pads", new long[] { 1, 0, 1, 2 }), ("strides", new long[] { 1, 2 }))
            .Output("y", DataType.Int32).ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions { ClassName = "DirectConvInteger" });
        Assert.True(compiled.Success, string.Join("; ", compiled.Diagnostics));
        Assert.Contains("Int8DirectConvolution.Convolve<", compiled.Source);
        Differential.AssertAgrees(model, inputs: (new[] { 2, 5, 11, 12 }, (Array)RandomBytes(47, 2 * 5 * 11 * 12)));
    }

    [Theory]
    [InlineData(false, 1, 0)]
    [InlineData(true, 1, 0)]
    [InlineData(false, 3, 0)]
    [InlineData(true, 3, 20)]
    public void DenseLayerQLinearConvRunsTheGemvAndMatchesOnnxRuntime(bool signedInput, int size, int minus128Every)
    {
        // One output position whose window is the whole input (a Gemm written as a 1×1 QLinearConv on a 1×1 plane, as
        // `quantize --format qoperator` writes it, or a kernel as large as the image) is a dense layer: the GEMV runs it.
        // 21 outputs leave a partial 16-output panel; 37 input channels a partial 4-deep quad.
        int inC = 37, outC = 21;
        var model = ByteWeightQLinearConv(signedInput, inC, outC, size, size, ByteGemmWeights(42, outC * inC * size * size, minus128Every));
        AssertRunsKernelAndAgrees(model, "DenseQLinearConv", "Int8VectorMatrixMultiply.Multiply", signedInput, 43, inC, size);
    }

    /// <summary>
    /// Compiles a <see cref="ByteWeightQLinearConv"/> model, checks that its source calls <paramref name="kernelCall"/>, and
    /// compares it with ONNX Runtime on a random u8 or s8 image (seed <paramref name="seed"/>) of inC × size × size.
    /// </summary>
    static void AssertRunsKernelAndAgrees(byte[] model, string className, string kernelCall, bool signedInput, int seed, int inC, int size)
    {
        var compiled = ModelCompiler.Compile(model, new CompileOptions { ClassName = className });
        Assert.True(compiled.Success, string.Join("; ", compiled.Diagnostics));
        Assert.Contains(kernelCall, compiled.Source);
        Array x = signedInput ? RandomSBytes(seed, inC * size * size) : RandomBytes(seed, inC * size * size);
        Differential.AssertAgrees(model, inputs: (new[] { 1, inC, size, size }, x));
    }

    /// <summary>Random s8 weights within ±127, or with every <paramref name="minus128Every"/>-th at −128 (0: none).</summary>
    static sbyte[] ByteGemmWeights(int seed, int count, int minus128Every) =>
        RandomSBytes(seed, count).Select((v, i) => minus128Every != 0 && i % minus128Every == 0 ? sbyte.MinValue : v == sbyte.MinValue ? (sbyte)-127 : v).ToArray();

    /// <summary>
    /// A QLinearConv with constant s8 weights (per-channel scales, zero points 0) and an int32 bias over a u8 or s8
    /// image of <paramref name="size"/>², input and output zero points in the middle of the range.
    /// </summary>
    static byte[] ByteWeightQLinearConv(bool signedInput, int inC, int outC, int kernel, int size, sbyte[] weights, params (string Name, object Value)[] attributes) =>
        ByteWeightQLinearConv(signedInput, inC, outC, new[] { kernel, kernel }, new[] { size, size }, weights, attributes);

    /// <summary><see cref="ByteWeightQLinearConv(bool, int, int, int, int, sbyte[], (string, object)[])"/> with a kernel of KH×KW over an image of H×W.</summary>
    static byte[] ByteWeightQLinearConv(bool signedInput, int inC, int outC, int[] kernel, int[] image, sbyte[] weights, params (string Name, object Value)[] attributes)
    {
        var xType = signedInput ? DataType.Int8 : DataType.UInt8;
        Tensor Zero(int value) => signedInput ? S8(Scalar, (sbyte)(value - 128)) : U8(Scalar, (byte)value);
        return new OnnxModelBuilder(13)
            .Input("x", xType, 1, inC, image[0], image[1])
            .Initializer("sx", F(Scalar, 0.03f)).Initializer("zx", Zero(110))
            .Initializer("w", S8(new[] { outC, inC, kernel[0], kernel[1] }, weights))
            .Initializer("sw", F(new[] { outC }, Enumerable.Range(0, outC).Select(i => 0.002f + 0.0005f * i).ToArray())).Initializer("zw", S8(new[] { outC }, new sbyte[outC]))
            .Initializer("sy", F(Scalar, 0.2f)).Initializer("zy", Zero(128))
            .Initializer("bias", I32(new[] { outC }, Enumerable.Range(0, outC).Select(i => (i - outC / 2) * 700).ToArray()))
            .Node("QLinearConv", new[] { "x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "bias" }, new[] { "y" }, attributes)
            .Output("y", xType).ToBytes();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WideDepthwiseQLinearConvMatchesOnnxRuntime(bool signedInput)
    {
        // Rows of 35 outputs: the vectorised depthwise row kernel (16 at a time) plus its scalar tail.
        int channels = 5, size = 35;
        var xType = signedInput ? DataType.Int8 : DataType.UInt8;
        Tensor Zero(int value) => signedInput ? S8(Scalar, (sbyte)(value - 128)) : U8(Scalar, (byte)value);
        var model = new OnnxModelBuilder(13)
            .Input("x", xType, 1, channels, size, size)
            .Initializer("sx", F(Scalar, 0.04f)).Initializer("zx", Zero(90))
            .Initializer("w", S8(new[] { channels, 1, 3, 3 }, RandomSBytes(42, channels * 9)))
            .Initializer("sw", F(new[] { channels }, Enumerable.Range(0, channels).Select(i => 0.004f + 0.001f * i).ToArray()))
            .Initializer("zw", S8(new[] { channels }, new sbyte[channels]))
            .Initializer("sy", F(Scalar, 0.05f)).Initializer("zy", Zero(128))
            .Node("QLinearConv", new[] { "x", "sx", "zx", "w", "sw", "zw", "sy", "zy" }, new[] { "y" },
                ("group", (long)channels), ("pads", new long[] { 1, 1, 1, 1 }))
            .Output("y", xType).ToBytes();
        Array x = signedInput ? RandomSBytes(43, channels * size * size) : RandomBytes(43, channels * size * size);
        Differential.AssertAgrees(model, inputs: (new[] { 1, channels, size, size }, x));
    }

    [Fact]
    public void ConvIntegerMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.UInt8, 1, 3, 6, 7).Input("w", DataType.UInt8, 5, 3, 2, 3)
            .Initializer("zx", U8(Scalar, 17)).Initializer("zw", U8(Scalar, 130))
            .Node("ConvInteger", new[] { "x", "w", "zx", "zw" }, new[] { "y" }, ("pads", new long[] { 1, 0, 1, 2 }))
            .Output("y", DataType.Int32).ToBytes();
        Differential.AssertAgrees(model, inputs: new (int[], Array)[] { (new[] { 1, 3, 6, 7 }, RandomBytes(13, 126)), (new[] { 5, 3, 2, 3 }, RandomBytes(14, 90)) });
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void QGemmMatchesOnnxRuntime(bool quantizedOutput, bool transposeB)
    {
        int m = 3, k = 21, n = 10;
        var inputs = new[] { "a", "sa", "za", "b", "sb", "zb", "c" }.Concat(quantizedOutput ? new[] { "sy", "zy" } : Array.Empty<string>()).ToArray();
        var builder = new OnnxModelBuilder(13)
            .Input("a", DataType.UInt8, m, k)
            .Initializer("sa", F(Scalar, 0.02f)).Initializer("za", U8(Scalar, 125))
            .Initializer("b", S8(transposeB ? new[] { n, k } : new[] { k, n }, RandomSBytes(15, k * n)))
            .Initializer("sb", F(new[] { n }, Enumerable.Range(0, n).Select(i => 0.01f + 0.001f * i).ToArray())).Initializer("zb", S8(new[] { n }, new sbyte[n]))
            .Initializer("c", I32(new[] { n }, Enumerable.Range(0, n).Select(i => i * 37 - 150).ToArray()))
            .Initializer("sy", F(Scalar, 0.08f)).Initializer("zy", U8(Scalar, 128))
            .NodeInDomain("com.microsoft", "QGemm", inputs, new[] { "y" }, new (string, object)[] { ("alpha", 0.75f), ("transB", transposeB ? 1L : 0L) });
        var model = builder.Output("y", quantizedOutput ? DataType.UInt8 : DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { m, k }, (Array)RandomBytes(16, m * k)));
    }

    [Fact]
    public void MatMulIntegerToFloatMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.UInt8, 4, 12)
            .Initializer("b", S8(new[] { 12, 9 }, RandomSBytes(17, 108)))
            .Initializer("sa", F(Scalar, 0.03f)).Initializer("sb", F(new[] { 9 }, Enumerable.Range(0, 9).Select(i => 0.01f * (i + 1)).ToArray()))
            .Initializer("za", U8(Scalar, 100)).Initializer("zb", S8(new[] { 9 }, RandomSBytes(18, 9)))
            .Initializer("bias", F(new[] { 9 }, Differential.RandomFloats(19, 9)))
            .NodeInDomain("com.microsoft", "MatMulIntegerToFloat", new[] { "a", "b", "sa", "sb", "za", "zb", "bias" }, new[] { "y" }, Array.Empty<(string, object)>())
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 4, 12 }, (Array)RandomBytes(20, 48)));
    }

    [Fact]
    public void DynamicQuantizeMatMulMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Float, 2, 3, 16)
            .Initializer("b", S8(new[] { 16, 11 }, RandomSBytes(21, 176)))
            .Initializer("sb", F(Scalar, 0.02f)).Initializer("zb", S8(Scalar, 0))
            .Initializer("bias", F(new[] { 11 }, Differential.RandomFloats(22, 11)))
            .NodeInDomain("com.microsoft", "DynamicQuantizeMatMul", new[] { "a", "b", "sb", "zb", "bias" }, new[] { "y" }, Array.Empty<(string, object)>())
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, rtol: 1e-4, atol: 1e-4, inputs: (new[] { 2, 3, 16 }, (Array)Differential.RandomFloats(23, 96, -3, 3)));
    }
}
