using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>
/// ONNX Runtime's com.microsoft quantized element-wise and pooling ops against ONNX Runtime itself, on random
/// 8-bit inputs with fixed seeds, for int8 and uint8 and several scale/zero-point combinations. Outputs must be
/// identical.
/// </summary>
public class ContribQuantizationTests
{
    const string Microsoft = "com.microsoft";

    static Array RandomEightBit(DataType type, int seed, int count)
    {
        var random = new Random(seed);
        return type == DataType.Int8
            ? Enumerable.Range(0, count).Select(_ => (sbyte)random.Next(-128, 128)).ToArray()
            : Enumerable.Range(0, count).Select(_ => (byte)random.Next(0, 256)).ToArray();
    }

    static Tensor Scalar(float value) => new(DataType.Float, Array.Empty<int>(), new[] { value });

    static Tensor ZeroPoint(DataType type, int value) => type == DataType.Int8
        ? new Tensor(type, Array.Empty<int>(), new[] { (sbyte)value })
        : new Tensor(type, Array.Empty<int>(), new[] { (byte)value });

    static OnnxModelBuilder Quantization(OnnxModelBuilder builder, string prefix, DataType type, float scale, int zeroPoint) =>
        builder.Initializer(prefix + "_scale", Scalar(scale)).Initializer(prefix + "_zero_point", ZeroPoint(type, zeroPoint));

    [Theory]
    [InlineData("QLinearAdd", DataType.UInt8, 0.05f, 128, 0.02f, 100, 0.07f, 120, new[] { 2, 3, 4 }, new[] { 2, 3, 4 })]
    [InlineData("QLinearAdd", DataType.Int8, 0.05f, 3, 0.02f, -5, 0.04f, -7, new[] { 2, 3, 4 }, new[] { 3, 1 })]
    [InlineData("QLinearAdd", DataType.UInt8, 0.1f, 10, 0.3f, 7, 0.25f, 0, new[] { 1, 8, 5, 5 }, new[] { 1 })]
    [InlineData("QLinearAdd", DataType.Int8, 0.1f, 0, 0.3f, 0, 0.003f, 1, new[] { 1 }, new[] { 4, 33 })]
    [InlineData("QLinearAdd", DataType.Int8, 0.05f, 3, 0.02f, -5, 0.04f, -7, new[] { 1, 4, 9, 9 }, new[] { 1, 4, 9, 9 })]
    [InlineData("QLinearAdd", DataType.UInt8, 0.1f, 10, 0.3f, 7, 0.05f, 3, new[] { 1, 3, 7, 11 }, new[] { 1, 3, 7, 11 })]
    [InlineData("QLinearMul", DataType.UInt8, 0.05f, 128, 0.02f, 100, 0.07f, 120, new[] { 2, 3, 4 }, new[] { 2, 3, 4 })]
    [InlineData("QLinearMul", DataType.Int8, 0.05f, 3, 0.02f, -5, 0.01f, -7, new[] { 2, 3, 4 }, new[] { 4 })]
    public void BinaryMatchesOnnxRuntime(string op, DataType type, float sa, int za, float sb, int zb, float sc, int zc, int[] aShape, int[] bShape)
    {
        var builder = new OnnxModelBuilder().Input("a", type, aShape).Input("b", type, bShape);
        Quantization(builder, "a", type, sa, za);
        Quantization(builder, "b", type, sb, zb);
        Quantization(builder, "c", type, sc, zc);
        var model = builder
            .NodeInDomain(Microsoft, op, new[] { "a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "c_scale", "c_zero_point" }, new[] { "c" }, Array.Empty<(string, object)>())
            .Output("c", type).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (aShape, RandomEightBit(type, 1, aShape.Aggregate(1, (x, y) => x * y))),
            (bShape, RandomEightBit(type, 2, bShape.Aggregate(1, (x, y) => x * y))),
        });
    }

    [Theory]
    [InlineData("QLinearSigmoid", DataType.UInt8, 0.05f, 128, 1f / 256, 0)]
    [InlineData("QLinearSigmoid", DataType.Int8, 0.1f, -3, 1f / 256, -128)]
    [InlineData("QLinearLeakyRelu", DataType.UInt8, 0.05f, 128, 0.04f, 100)]
    [InlineData("QLinearLeakyRelu", DataType.Int8, 0.02f, 5, 0.03f, -20)]
    public void LookupMatchesOnnxRuntime(string op, DataType type, float sx, int zx, float sy, int zy)
    {
        var builder = new OnnxModelBuilder().Input("x", type, 4, 64);
        Quantization(builder, "x", type, sx, zx);
        Quantization(builder, "y", type, sy, zy);
        var attributes = op == "QLinearLeakyRelu" ? new (string, object)[] { ("alpha", 0.1f) } : Array.Empty<(string, object)>();
        var model = builder
            .NodeInDomain(Microsoft, op, new[] { "x", "x_scale", "x_zero_point", "y_scale", "y_zero_point" }, new[] { "y" }, attributes)
            .Output("y", type).ToBytes();
        // Every 8-bit value appears: the whole table is compared.
        var all = type == DataType.Int8
            ? (Array)Enumerable.Range(0, 256).Select(i => (sbyte)(byte)i).Concat(((sbyte[])RandomEightBit(type, 3, 0))).ToArray()
            : Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Differential.AssertAgrees(model, inputs: (new[] { 4, 64 }, all));
    }

    [Theory]
    [InlineData(DataType.UInt8, 0, new[] { 2, 2 }, new[] { 2, 2 }, new long[] { 0, 0, 0, 0 }, 0L)]
    [InlineData(DataType.Int8, 0, new[] { 3, 3 }, new[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, 0L)]
    [InlineData(DataType.UInt8, 1, new[] { 3, 3 }, new[] { 2, 2 }, new long[] { 1, 1, 1, 1 }, 1L)]
    [InlineData(DataType.Int8, 1, new[] { 3, 2 }, new[] { 1, 2 }, new long[] { 0, 1, 1, 0 }, 1L)]
    public void AveragePoolMatchesOnnxRuntime(DataType type, int ceilMode, int[] kernel, int[] strides, long[] pads, long countIncludePad)
    {
        // Seven planes: the kernel sums four planes at a time, then the rest one by one.
        int[] shape = { 1, 7, 9, 10 };
        var builder = new OnnxModelBuilder().Input("x", type, shape);
        Quantization(builder, "x", type, 0.05f, type == DataType.Int8 ? -3 : 120);
        Quantization(builder, "y", type, 0.04f, type == DataType.Int8 ? 5 : 110);
        var model = builder
            .NodeInDomain(Microsoft, "QLinearAveragePool", new[] { "x", "x_scale", "x_zero_point", "y_scale", "y_zero_point" }, new[] { "y" },
                new (string, object)[]
                {
                    ("kernel_shape", kernel.Select(k => (long)k).ToArray()), ("strides", strides.Select(s => (long)s).ToArray()),
                    ("pads", pads), ("ceil_mode", (long)ceilMode), ("count_include_pad", countIncludePad),
                })
            .Output("y", type).ToBytes();
        Differential.AssertAgrees(model, inputs: (shape, RandomEightBit(type, 4, shape.Aggregate(1, (a, b) => a * b))));
    }

    [Theory]
    [InlineData(DataType.UInt8, 0, 0.05f, 128, 0.02f, 100)]
    [InlineData(DataType.Int8, 0, 0.05f, -3, 0.01f, 7)]
    [InlineData(DataType.UInt8, 1, 0.05f, 128, 0.02f, 100)]
    [InlineData(DataType.Int8, 1, 0.03f, 0, 0.03f, 0)]
    public void GlobalAveragePoolMatchesOnnxRuntime(DataType type, int channelsLast, float sx, int zx, float sy, int zy)
    {
        int[] shape = channelsLast == 1 ? new[] { 2, 7, 6, 5 } : new[] { 2, 5, 7, 6 };
        var builder = new OnnxModelBuilder().Input("x", type, shape);
        Quantization(builder, "x", type, sx, zx);
        Quantization(builder, "y", type, sy, zy);
        var model = builder
            .NodeInDomain(Microsoft, "QLinearGlobalAveragePool", new[] { "x", "x_scale", "x_zero_point", "y_scale", "y_zero_point" }, new[] { "y" },
                new (string, object)[] { ("channels_last", (long)channelsLast) })
            .Output("y", type).ToBytes();
        Differential.AssertAgrees(model, inputs: (shape, RandomEightBit(type, 5, shape.Aggregate(1, (a, b) => a * b))));
    }

    [Theory]
    [InlineData(DataType.UInt8, 1)]
    [InlineData(DataType.Int8, 1)]
    [InlineData(DataType.UInt8, -1)]
    public void ConcatMatchesOnnxRuntime(DataType type, int axis)
    {
        var builder = new OnnxModelBuilder().Input("a", type, 2, 3, 4).Input("b", type, 2, 2, 4).Input("c", type, 2, 3, 4);
        Quantization(builder, "y", type, 0.05f, type == DataType.Int8 ? 2 : 128);
        Quantization(builder, "a", type, 0.05f, type == DataType.Int8 ? 2 : 128);   // same as the output: copied
        Quantization(builder, "b", type, 0.031f, type == DataType.Int8 ? -9 : 90); // requantised by table
        Quantization(builder, "c", type, 0.11f, type == DataType.Int8 ? 0 : 140);
        string[] inputs = axis == 1
            ? new[] { "y_scale", "y_zero_point", "a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "c", "c_scale", "c_zero_point" }
            : new[] { "y_scale", "y_zero_point", "a", "a_scale", "a_zero_point", "c", "c_scale", "c_zero_point" };
        var model = builder
            .NodeInDomain(Microsoft, "QLinearConcat", inputs, new[] { "y" }, new (string, object)[] { ("axis", (long)axis) })
            .Output("y", type).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 2, 3, 4 }, RandomEightBit(type, 6, 24)),
            (new[] { 2, 2, 4 }, RandomEightBit(type, 7, 16)),
            (new[] { 2, 3, 4 }, RandomEightBit(type, 8, 24)),
        });
    }
}
