using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Cli.Check;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>
/// Float8, float4e2m1, int4/uint4 and int2/uint2 tensors at run time (raw ONNX bytes): QuantizeLinear →
/// DequantizeLinear and Cast round trips against ONNX Runtime on random inputs with fixed seeds (the raw tensor is
/// internal, so both sides take and give floats), raw graph inputs and outputs checked against values worked out by
/// hand, and the diagnostics for what is not supported.
/// </summary>
public class RawTensorTests
{
    static Tensor F(int[] shape, params float[] values) => new(DataType.Float, shape, values);

    /// <summary>
    /// Inputs spanning the type's range and beyond (saturation), with exact ties of the scale. No infinities: ONNX
    /// Runtime 1.31 quantises +inf to 0 for uint4 where the specification saturates to 15 (RawElementFormatTests
    /// checks the specification's answer).
    /// </summary>
    static float[] Inputs(int seed, int count, float range)
    {
        var x = Differential.RandomFloats(seed, count, -2 * range, 2 * range);
        x[0] = 0; x[1] = 0.5f * 0.25f; x[2] = -1.5f * 0.25f;
        return x;
    }

    [Theory]
    [InlineData(DataType.Int4, 0)]
    [InlineData(DataType.UInt4, 0)]
    [InlineData(DataType.Int4, 1)]
    [InlineData(DataType.UInt4, 2)]
    public void IntegerQuantizeDequantizeRoundTripMatchesOnnxRuntime(DataType type, int axis)
    {
        // axis 0: per tensor; otherwise per axis with 3 or 4 channels. The zero point is a constant raw tensor.
        int channels = axis == 0 ? 1 : axis == 1 ? 3 : 4;
        int[] paramShape = axis == 0 ? Array.Empty<int>() : new[] { channels };
        var scales = Enumerable.Range(0, channels).Select(i => 0.25f + 0.125f * i).ToArray();
        Array zeros = type == DataType.Int4
            ? Enumerable.Range(0, channels).Select(i => (sbyte)(i - 1)).ToArray()
            : Enumerable.Range(0, channels).Select(i => (byte)(7 + i)).ToArray();
        var model = new OnnxModelBuilder(21)
            .Input("x", DataType.Float, 2, 3, 4)
            .Initializer("scale", F(paramShape, scales)).Initializer("zero", new Tensor(type, paramShape, zeros))
            .Node("QuantizeLinear", new[] { "x", "scale", "zero" }, new[] { "q" }, ("axis", (long)Math.Max(axis, 1)))
            .Node("DequantizeLinear", new[] { "q", "scale", "zero" }, new[] { "y" }, ("axis", (long)Math.Max(axis, 1)))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 2, 3, 4 }, (Array)Inputs(7 + axis, 24, 2)));
    }

    [Fact]
    public void BlockedInt4QuantizeDequantizeRoundTripMatchesOnnxRuntime()
    {
        // Blocks of 2 along axis 1 of a [3, 4] tensor: scales [3, 2].
        var scales = Differential.RandomFloats(5, 6, 0.1f, 0.5f);
        var model = new OnnxModelBuilder(21)
            .Input("x", DataType.Float, 3, 4)
            .Initializer("scale", F(new[] { 3, 2 }, scales))
            .Node("QuantizeLinear", new[] { "x", "scale" }, new[] { "q" }, ("axis", 1L), ("block_size", 2L), ("output_dtype", (long)DataType.Int4))
            .Node("DequantizeLinear", new[] { "q", "scale" }, new[] { "y" }, ("axis", 1L), ("block_size", 2L))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 3, 4 }, (Array)Inputs(8, 12, 2)));
    }

    static readonly DataType[] Float8Types = { DataType.Float8E4M3FN, DataType.Float8E4M3FNUZ, DataType.Float8E5M2, DataType.Float8E5M2FNUZ };

    /// <summary>Every float8 type with saturate 1 and 0.</summary>
    public static IEnumerable<object[]> Float8TypesAndSaturation() =>
        Float8Types.SelectMany(t => new[] { new object[] { t, 1L }, new object[] { t, 0L } });

    /// <summary>The float8 cases and float4e2m1 (which always saturates).</summary>
    public static IEnumerable<object[]> SmallFloatTypesAndSaturation() =>
        Float8TypesAndSaturation().Append(new object[] { DataType.Float4E2M1, 1L });

    [Theory]
    [MemberData(nameof(Float8TypesAndSaturation))]
    public void Float8CastRoundTripMatchesOnnxRuntime(DataType type, long saturate)
    {
        var model = new OnnxModelBuilder(21)
            .Input("x", DataType.Float, 64)
            .Node("Cast", new[] { "x" }, new[] { "f8" }, ("to", (long)type), ("saturate", saturate))
            .Node("Cast", new[] { "f8" }, new[] { "y" }, ("to", (long)DataType.Float))
            .Output("y", DataType.Float).ToBytes();
        // Magnitudes from 2^-20 (subnormal or zero) to 2^20 (beyond every float8 range), both signs, and infinities.
        var random = new Random(11);
        var x = Enumerable.Range(0, 64).Select(_ => (float)((random.Next(2) * 2 - 1) * Math.Pow(2, random.NextDouble() * 40 - 20))).ToArray();
        x[0] = float.PositiveInfinity; x[1] = float.NegativeInfinity; x[2] = 0; x[3] = -0f;
        Differential.AssertAgrees(model, rtol: 0, atol: 0, inputs: (new[] { 64 }, (Array)x));
    }

    [Fact]
    public void Float8QuantizeDequantizePerAxisMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(21)
            .Input("x", DataType.Float, 2, 3, 5)
            .Initializer("scale", F(new[] { 3 }, 0.5f, 2f, 8f))
            .Node("QuantizeLinear", new[] { "x", "scale" }, new[] { "q" }, ("axis", 1L), ("output_dtype", (long)DataType.Float8E4M3FN))
            .Node("DequantizeLinear", new[] { "q", "scale" }, new[] { "y" }, ("axis", 1L))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, rtol: 0, atol: 0, inputs: (new[] { 2, 3, 5 }, (Array)Differential.RandomFloats(12, 30, -1000, 1000)));
    }

    [Fact]
    public void RawInputsAndOutputsAreOnnxRawBytes()
    {
        // int4 x = [1, -2, 7, -8, 3] packs as 0xE1, 0x87, 0x03; zero point -1 (0x0F); y = (x + 1) * 0.5.
        var dequantize = Differential.CompileModel(new OnnxModelBuilder(21)
            .Input("x", DataType.Int4, 5)
            .Initializer("scale", F(Array.Empty<int>(), 0.5f)).Initializer("zero", new Tensor(DataType.Int4, Array.Empty<int>(), new sbyte[] { -1 }))
            .Node("DequantizeLinear", new[] { "x", "scale", "zero" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes());
        Assert.Equal(4, dequantize.Info.Inputs[0].RawBits);
        Assert.Equal(3, dequantize.Info.Inputs[0].BufferLength);
        var y = new float[5];
        dequantize.Run(new Array[] { new byte[] { 0xE1, 0x87, 0x03 } }, new Array[] { y });
        Assert.Equal(new[] { 1f, -0.5f, 4f, -3.5f, 2f }, y);

        // uint2 q = saturate(round(x / 0.5)) of [0.2, 0.3, 0.75, 9, -1] = [0, 1, 2, 3, 0] packs as 0b10_01_00_00... low bits
        // first: byte 0 = 0 | 1 << 2 | 2 << 4 | 3 << 6 = 0xE4, byte 1 = 0 (unused bits zero).
        var quantize = Differential.CompileModel(new OnnxModelBuilder(21)
            .Input("x", DataType.Float, 5)
            .Initializer("scale", F(Array.Empty<int>(), 0.5f))
            .Node("QuantizeLinear", new[] { "x", "scale" }, new[] { "q" }, ("output_dtype", (long)DataType.UInt2))
            .Output("q", DataType.UInt2).ToBytes());
        var q = new byte[] { 0xFF, 0xFF };
        quantize.Run(new Array[] { new[] { 0.2f, 0.3f, 0.75f, 9f, -1f } }, new Array[] { q });
        Assert.Equal(new byte[] { 0xE4, 0x00 }, q);

        var wrongLength = Assert.Throws<ArgumentException>(() => quantize.Run(new Array[] { new float[5] }, new Array[] { new byte[5] }));
        Assert.Contains("2 raw bytes (5 elements", wrongLength.Message);
    }

    [Fact]
    public void Float8GraphOutputRoundTripsThroughTheCheckHarness()
    {
        // Cast float → e5m2 as a graph output: 1.0 is 0x3C, -57344 is 0xFB, 3 rounds to 3 (0x42), 1e9 saturates.
        var model = Differential.CompileModel(new OnnxModelBuilder(21)
            .Input("x", DataType.Float, 4)
            .Node("Cast", new[] { "x" }, new[] { "y" }, ("to", (long)DataType.Float8E5M2))
            .Output("y", DataType.Float8E5M2).ToBytes());
        var y = (byte[])RuntimeArrays.Allocate(model.Info.Outputs[0]);
        model.Run(new Array[] { new[] { 1f, -57344f, 3f, 1e9f } }, new Array[] { y });
        Assert.Equal(new byte[] { 0x3C, 0xFB, 0x42, 0x7B }, y);
        var expected = new Tensor(DataType.Float8E5M2, new[] { 4 }, new byte[] { 0x3C, 0xFB, 0x42, 0x7B });
        Assert.Equal(RuntimeArrays.Comparable(expected), RuntimeArrays.Comparable(y, model.Info.Outputs[0]));
        Assert.Equal(new[] { 1.0, -57344.0, 3.0, 57344.0 }, (double[])RuntimeArrays.Comparable(expected));
    }

    [Theory]
    [InlineData("up", new byte[] { 0x81, 0x7C, 0x7F })]
    [InlineData("down", new byte[] { 0x80, 0x7B, 0x7F })]
    [InlineData("nearest", new byte[] { 0x81, 0x7C, 0x7F })]
    public void CastToFloat8E8M0FollowsRoundMode(string roundMode, byte[] expected)
    {
        // 3 lies between 2 (code 128) and 4 (129), exactly at the tie 1.5 · 2; 0.124 just below 0.125 (124); 1 is 127.
        var model = Differential.CompileModel(new OnnxModelBuilder(25)
            .Input("x", DataType.Float, 3)
            .Node("Cast", new[] { "x" }, new[] { "y" }, ("to", (long)DataType.Float8E8M0), ("round_mode", roundMode))
            .Output("y", DataType.Float8E8M0).ToBytes());
        var y = new byte[3];
        model.Run(new Array[] { new[] { 3f, 0.124f, 1f } }, new Array[] { y });
        Assert.Equal(expected, y);
    }

    [Fact]
    public void UnknownRoundModeAndFloat8E8M0QuantizationAreDiagnostics()
    {
        var cast = ModelCompiler.Compile(new OnnxModelBuilder(25)
            .Input("x", DataType.Float, 3)
            .Node("Cast", new[] { "x" }, new[] { "y" }, ("to", (long)DataType.Float8E8M0), ("round_mode", "sideways"))
            .Output("y", DataType.Float8E8M0).ToBytes(), new CompileOptions());
        Assert.Contains(cast.Diagnostics, d => d.Message.Contains("round_mode") && d.Message.Contains("sideways"));
        var quantize = ModelCompiler.Compile(new OnnxModelBuilder(25)
            .Input("x", DataType.Float, 3)
            .Initializer("scale", F(Array.Empty<int>(), 1f))
            .Node("QuantizeLinear", new[] { "x", "scale" }, new[] { "y" }, ("output_dtype", (long)DataType.Float8E8M0))
            .Output("y", DataType.Float8E8M0).ToBytes(), new CompileOptions());
        Assert.Contains(quantize.Diagnostics, d => d.Message.Contains("quantised type Float8E8M0 is not supported"));
    }

    [Fact]
    public void OtherOpsOnRawTensorsAreADiagnosticNamingTheNode()
    {
        var model = new OnnxModelBuilder(21)
            .Input("x", DataType.Int4, 2, 3)
            .Node("Transpose", new[] { "x" }, new[] { "t" })
            .Node("DequantizeLinear", new[] { "t", "scale" }, new[] { "y" })
            .Initializer("scale", F(Array.Empty<int>(), 0.5f))
            .Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        var d = Assert.Single(result.Diagnostics, d => d.Id == DiagnosticIds.UnsupportedType);
        Assert.Contains("Transpose", d.Message);
        Assert.Contains("Int4", d.Message);
    }

    [Fact]
    public void PackedInputsCannotKeepARunTimeBatch()
    {
        var model = new OnnxModelBuilder(21)
            .BatchedInput("x", DataType.UInt4, "N", 3)
            .Initializer("scale", F(Array.Empty<int>(), 0.5f))
            .Node("DequantizeLinear", new[] { "x", "scale" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.Id == DiagnosticIds.UnsupportedType && d.Message.Contains("batch"));
    }

    [Theory]
    [MemberData(nameof(SmallFloatTypesAndSaturation))]
    public void QuantizeLinearFoldedAtCompileTimeAgreesWithGeneratedCode(DataType type, long saturate)
    {
        // Ties at the top of each range (464 in e4m3fn, 61440 in e5m2, 248 in e4m3fnuz, 7 in e2m1), tiny negatives
        // (negative zero or not), infinities, NaN and an ordinary spread.
        var values = new List<float> { 464, 465, 61440, 60000, 248, 7, 5, 0.75f, -1e-7f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN };
        values.AddRange(Differential.RandomFloats(21, 52, -600, 600));
        var x = values.Select(v => (float)v).ToArray();
        var shape = new[] { x.Length };
        byte[] Quantize(bool folded)
        {
            var builder = new OnnxModelBuilder(23);
            builder = folded ? builder.Initializer("x", F(shape, x)) : builder.Input("x", DataType.Float, x.Length);
            var model = Differential.CompileModel(builder
                .Initializer("scale", F(Array.Empty<int>(), 1f))
                .Node("QuantizeLinear", new[] { "x", "scale" }, new[] { "q" }, ("output_dtype", (long)type), ("saturate", saturate))
                .Output("q", type).ToBytes());
            var q = (byte[])RuntimeArrays.Allocate(model.Info.Outputs[0]);
            model.Run(folded ? Array.Empty<Array>() : new Array[] { x }, new Array[] { q });
            return q;
        }
        Assert.Equal(Quantize(folded: false), Quantize(folded: true));
    }
}
