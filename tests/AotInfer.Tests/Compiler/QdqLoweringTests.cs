using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// QDQ lowering (<c>Passes/Qdq</c>): each DequantizeLinear → op → QuantizeLinear pattern, built in code with fixed
/// seeds, must become the expected integer op in the compiled graph and give exactly ONNX Runtime's results (which
/// fuses the same patterns into its int8 kernels); patterns ONNX Runtime does not fuse must stay float.
/// Activations are uint8 (ONNX Runtime's x86 kernels take uint8), weights int8 per channel.
/// </summary>
public class QdqLoweringTests
{
    static Tensor Scalar(float value) => new(DataType.Float, Array.Empty<int>(), new[] { value });

    static Tensor U8(int value) => new(DataType.UInt8, Array.Empty<int>(), new[] { (byte)value });

    static Tensor RandomInt8(int seed, params int[] shape)
    {
        var random = new Random(seed);
        return new Tensor(DataType.Int8, shape, Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (sbyte)random.Next(-127, 128)).ToArray());
    }

    static Tensor RandomInt32(int seed, int count)
    {
        var random = new Random(seed);
        return new Tensor(DataType.Int32, new[] { count }, Enumerable.Range(0, count).Select(_ => random.Next(-2000, 2000)).ToArray());
    }

    static Tensor Floats(int seed, int count, float lo, float hi) => new(DataType.Float, new[] { count }, Differential.RandomFloats(seed, count, lo, hi));

    /// <summary>float x → Q(u8) → DQ → "{name}" (the float activation the op reads).</summary>
    static OnnxModelBuilder Activation(OnnxModelBuilder b, string name, float scale, int zeroPoint) => b
        .Initializer(name + "_scale", Scalar(scale)).Initializer(name + "_zp", U8(zeroPoint))
        .Node("QuantizeLinear", new[] { name + "_in", name + "_scale", name + "_zp" }, new[] { name + "_q" })
        .Node("DequantizeLinear", new[] { name + "_q", name + "_scale", name + "_zp" }, new[] { name });

    /// <summary>"{name}_float" → Q(u8) → DQ → graph output "{name}".</summary>
    static OnnxModelBuilder Requantize(OnnxModelBuilder b, string name, float scale, int zeroPoint) => b
        .Initializer(name + "_oscale", Scalar(scale)).Initializer(name + "_ozp", U8(zeroPoint))
        .Node("QuantizeLinear", new[] { name + "_float", name + "_oscale", name + "_ozp" }, new[] { name + "_oq" })
        .Node("DequantizeLinear", new[] { name + "_oq", name + "_oscale", name + "_ozp" }, new[] { name })
        .Output(name, DataType.Float);

    /// <summary>Constant int8 weights (per channel along <paramref name="axis"/>) dequantised into "{name}".</summary>
    static OnnxModelBuilder Weights(OnnxModelBuilder b, string name, int seed, int axis, int[] shape)
    {
        int channels = shape[axis];
        var zeros = new Tensor(DataType.Int8, new[] { channels }, new sbyte[channels]);
        return b.Initializer(name + "_w", RandomInt8(seed, shape)).Initializer(name + "_wscale", Floats(seed + 1, channels, 0.002f, 0.01f))
            .Initializer(name + "_wzp", zeros)
            .Node("DequantizeLinear", new[] { name + "_w", name + "_wscale", name + "_wzp" }, new[] { name }, ("axis", (long)axis));
    }

    /// <summary>int32 bias with scale x_scale · w_scale[c] (the weights of <see cref="Weights"/> with <paramref name="weightSeed"/>), dequantised into "{name}".</summary>
    static OnnxModelBuilder Bias(OnnxModelBuilder b, string name, int seed, int weightSeed, int channels, float xScale) => b
        .Initializer(name + "_b", RandomInt32(seed, channels))
        .Initializer(name + "_bscale", new Tensor(DataType.Float, new[] { channels }, Floats(weightSeed + 1, channels, 0.002f, 0.01f).As<float>().Select(s => xScale * s).ToArray()))
        .Node("DequantizeLinear", new[] { name + "_b", name + "_bscale" }, new[] { name }, ("axis", 0L));

    static string[] CompiledOps(byte[] model)
    {
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        return result.Graph!.Nodes.Select(n => n.OpType).ToArray();
    }

    static void AssertLoweredAndAgrees(byte[] model, string expectedOp, string floatOp, params (int[] Shape, Array Data)[] inputs)
    {
        var ops = CompiledOps(model);
        Assert.Contains(expectedOp, ops);
        Assert.DoesNotContain(floatOp, ops);
        Differential.AssertAgrees(model, inputs: inputs);
    }

    static (int[] Shape, Array Data) Input(int seed, params int[] shape) => (shape, Differential.RandomFloats(seed, shape.Aggregate(1, (a, b) => a * b)));

    [Theory]
    [InlineData(1, 1, 0)]   // 3x3, stride 1, pads: im2col + GEMM
    [InlineData(2, 1, 1)]   // stride 2, Relu made redundant by the output zero point
    [InlineData(1, 8, 0)]   // depthwise
    public void ConvBecomesQLinearConv(int stride, int groups, int relu)
    {
        int inChannels = 8, outChannels = 8;
        var b = new OnnxModelBuilder().Input("x_in", DataType.Float, 1, inChannels, 9, 9);
        Activation(b, "x", 2f / 255, 128);
        Weights(b, "w", 11, 0, new[] { outChannels, inChannels / groups, 3, 3 });
        Bias(b, "bias", 21, 11, outChannels, 2f / 255);
        b.Node("Conv", new[] { "x", "w", "bias" }, new[] { relu == 1 ? "conv" : "y_float" },
            ("strides", new long[] { stride, stride }), ("pads", new long[] { 1, 1, 1, 1 }), ("group", (long)groups));
        if (relu == 1) b.Node("Relu", new[] { "conv" }, new[] { "y_float" });
        Requantize(b, "y", 4f / 255, relu == 1 ? 0 : 128);
        AssertLoweredAndAgrees(b.ToBytes(), "QLinearConv", "Conv", Input(1, 1, inChannels, 9, 9));
        if (relu == 1) Assert.DoesNotContain("Relu", CompiledOps(b.ToBytes()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GemmBecomesQGemm(bool quantizedOutput)
    {
        var b = new OnnxModelBuilder().Input("x_in", DataType.Float, 3, 40);
        Activation(b, "x", 2f / 255, 128);
        Weights(b, "w", 12, 0, new[] { 17, 40 });
        Bias(b, "bias", 22, 12, 17, 2f / 255);
        b.Node("Gemm", new[] { "x", "w", "bias" }, new[] { quantizedOutput ? "y_float" : "y" }, ("transB", 1L));
        if (quantizedOutput) Requantize(b, "y", 3f / 255, 128);
        else b.Output("y", DataType.Float);
        AssertLoweredAndAgrees(b.ToBytes(), "QGemm", "Gemm", Input(2, 3, 40));
    }

    [Theory]
    [InlineData(true, "QLinearMatMul")]
    [InlineData(false, "MatMulIntegerToFloat")]
    public void MatMulBecomesIntegerMatMul(bool quantizedOutput, string expected)
    {
        var b = new OnnxModelBuilder().Input("x_in", DataType.Float, 2, 5, 24);
        Activation(b, "x", 2f / 255, 120);
        Weights(b, "w", 13, 1, new[] { 24, 9 });
        b.Node("MatMul", new[] { "x", "w" }, new[] { quantizedOutput ? "y_float" : "y" });
        if (quantizedOutput) Requantize(b, "y", 2f / 255, 128);
        else b.Output("y", DataType.Float);
        AssertLoweredAndAgrees(b.ToBytes(), expected, "MatMul", Input(3, 2, 5, 24));
    }

    [Theory]
    [InlineData("Add")]
    [InlineData("Mul")]
    public void BinaryBecomesQLinearBinary(string op)
    {
        var b = new OnnxModelBuilder().Input("a_in", DataType.Float, 1, 4, 6, 6).Input("c_in", DataType.Float, 1, 4, 6, 6);
        Activation(b, "a", 2f / 255, 128);
        Activation(b, "c", 1.5f / 255, 100);
        b.Node(op, new[] { "a", "c" }, new[] { "y_float" });
        Requantize(b, "y", 3f / 255, 128);
        // QLinearAdd/Mul rescale both inputs in float before rounding (as ONNX Runtime's kernels do); where ONNX
        // Runtime's fused graph rounds a half differently the bound is one output unit (0.0118 here).
        var model = b.ToBytes();
        var ops = CompiledOps(model);
        Assert.Contains("QLinear" + op, ops);
        Assert.DoesNotContain(op, ops);
        Differential.AssertAgrees(model, rtol: 0, atol: 3.01 / 255, inputs: new[] { Input(4, 1, 4, 6, 6), Input(5, 1, 4, 6, 6) });
    }

    [Theory]
    [InlineData("GlobalAveragePool", "QLinearGlobalAveragePool")]
    [InlineData("AveragePool", "QLinearAveragePool")]
    [InlineData("Sigmoid", "QLinearSigmoid")]
    [InlineData("LeakyRelu", "QLinearLeakyRelu")]
    public void UnaryBecomesQLinearUnary(string op, string expected)
    {
        var b = new OnnxModelBuilder().Input("x_in", DataType.Float, 1, 6, 7, 7);
        Activation(b, "x", 2f / 255, 128);
        var attributes = op == "AveragePool" ? new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }) }
            : op == "LeakyRelu" ? new (string, object)[] { ("alpha", 0.1f) } : Array.Empty<(string, object)>();
        b.Node(op, new[] { "x" }, new[] { "y_float" }, attributes);
        Requantize(b, "y", op == "Sigmoid" ? 1f / 256 : 1.7f / 255, op == "Sigmoid" ? 0 : 110);
        AssertLoweredAndAgrees(b.ToBytes(), expected, op, Input(6, 1, 6, 7, 7));
    }

    [Fact]
    public void ConcatBecomesQLinearConcat()
    {
        var b = new OnnxModelBuilder().Input("a_in", DataType.Float, 1, 3, 4).Input("c_in", DataType.Float, 1, 5, 4);
        Activation(b, "a", 2f / 255, 128);
        Activation(b, "c", 1f / 255, 90);
        b.Node("Concat", new[] { "a", "c" }, new[] { "y_float" }, ("axis", 1L));
        Requantize(b, "y", 2f / 255, 128);
        AssertLoweredAndAgrees(b.ToBytes(), "QLinearConcat", "Concat", Input(7, 1, 3, 4), Input(8, 1, 5, 4));
    }

    [Theory]
    [InlineData("MaxPool")]
    [InlineData("Flatten")]
    [InlineData("Transpose")]
    public void DataMovementRunsOnTheIntegers(string op)
    {
        var b = new OnnxModelBuilder(opset: 17).Input("x_in", DataType.Float, 1, 4, 6, 6);
        Activation(b, "x", 2f / 255, 128);
        var attributes = op == "MaxPool" ? new (string, object)[] { ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }) } : Array.Empty<(string, object)>();
        b.Node(op, new[] { "x" }, new[] { "y_float" }, attributes);
        Requantize(b, "y", 2f / 255, 128);
        var model = b.ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions());
        var node = Assert.Single(compiled.Graph!.Nodes, n => n.OpType == op);
        Assert.Equal(DataType.UInt8, node.Outputs[0].Type);
        Assert.Single(compiled.Graph.Nodes, n => n.OpType == "DequantizeLinear");
        Differential.AssertAgrees(model, inputs: new[] { Input(9, 1, 4, 6, 6) });
    }

    [Fact]
    public void ConvWithFloatBiasStaysFloatWithTheReason()
    {
        // ONNX Runtime fuses only a DequantizeLinear(int32) bias; a float bias keeps the Conv float there, so here too.
        var b = new OnnxModelBuilder().Input("x_in", DataType.Float, 1, 4, 5, 5);
        Activation(b, "x", 2f / 255, 128);
        Weights(b, "w", 14, 0, new[] { 4, 4, 3, 3 });
        b.Initializer("bias", Differential.RandomFloats(15, 4), 4);
        b.Node("Conv", new[] { "x", "w", "bias" }, new[] { "y_float" });
        Requantize(b, "y", 4f / 255, 128);
        var model = b.ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions());
        var conv = Assert.Single(compiled.Graph!.Nodes, n => n.OpType == "Conv");
        Assert.Contains("bias is float", (string)conv.Annotations["precision"]);
        Assert.DoesNotContain("QLinearConv", compiled.Graph.Nodes.Select(n => n.OpType));
        Differential.AssertAgrees(model, rtol: 1e-3, atol: 1e-5, inputs: new[] { Input(10, 1, 4, 5, 5) });
    }

    [Fact]
    public void SignedActivationThatFansOutStaysFloat()
    {
        // ONNX Runtime on x86 converts an int8 activation to uint8 only when its QuantizeLinear has one reader; this
        // one feeds two Convs, so both stay float there, and here.
        var b = new OnnxModelBuilder().Input("x_in", DataType.Float, 1, 4, 5, 5)
            .Initializer("x_scale", Scalar(2f / 255)).Initializer("x_zp", new Tensor(DataType.Int8, Array.Empty<int>(), new sbyte[] { 0 }))
            .Node("QuantizeLinear", new[] { "x_in", "x_scale", "x_zp" }, new[] { "x_q" })
            .Node("DequantizeLinear", new[] { "x_q", "x_scale", "x_zp" }, new[] { "x1" })
            .Node("DequantizeLinear", new[] { "x_q", "x_scale", "x_zp" }, new[] { "x2" });
        Weights(b, "w", 16, 0, new[] { 4, 4, 1, 1 });
        b.Node("Conv", new[] { "x1", "w" }, new[] { "y1_float" }).Node("Conv", new[] { "x2", "w" }, new[] { "y2_float" });
        foreach (var y in new[] { "y1", "y2" })
            b.Node("QuantizeLinear", new[] { y + "_float", "x_scale", "x_zp" }, new[] { y + "_q" })
             .Node("DequantizeLinear", new[] { y + "_q", "x_scale", "x_zp" }, new[] { y }).Output(y, DataType.Float);
        var model = b.ToBytes();
        var ops = CompiledOps(model);
        Assert.Equal(2, ops.Count(o => o == "Conv"));
        Assert.DoesNotContain("QLinearConv", ops);
        Differential.AssertAgrees(model, rtol: 1e-3, atol: 1e-5, inputs: new[] { Input(11, 1, 4, 5, 5) });
    }
}
