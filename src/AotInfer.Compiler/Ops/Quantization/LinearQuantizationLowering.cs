using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// QuantizeLinear and DequantizeLinear (opsets 10, 13, 19, 21, 23, 24, 25): per-tensor, per-axis and blocked
/// (<c>block_size</c>) scales; optional zero point; <c>output_dtype</c>; <c>saturate</c> (float8 only);
/// <c>precision</c> (float only). Quantised types int8/uint8/int16/uint16 run through <c>LinearQuantization</c>;
/// int4/uint4/int2/uint2, float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz) and float4e2m1 run on raw tensors through
/// <c>RawLinearQuantization</c>. Every type folds at compile time when every input is constant (e.g.
/// DequantizeLinear of int4 weights becomes a float constant). float8e8m0 is not a type of these ops (only of Cast).
/// </summary>
public sealed class LinearQuantizationLowering : OpLowering
{
    readonly bool _quantize;

    /// <summary>A lowering for QuantizeLinear (<paramref name="quantize"/>) or DequantizeLinear.</summary>
    public LinearQuantizationLowering(bool quantize) => _quantize = quantize;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _quantize ? "QuantizeLinear" : "DequantizeLinear" };

    /// <inheritdoc/>
    public override bool HandlesRawElements => true;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var (type, geometry) = Plan(op);
        op.SetOutput(0, type, op.Shape(0));
        op.Node.Annotations["kernel"] = $"{(_quantize ? "quantize" : "dequantize")} {geometry.Description}";
    }

    /// <summary>Output type and parameter geometry, validated.</summary>
    (DataType Output, QuantizationGeometry Geometry) Plan(OpContext op)
    {
        var scaleType = op.Type(1);
        if (!(scaleType is DataType.Float or DataType.Float16 or DataType.Double))
            throw op.Fail($"input scale has element type {scaleType}; float, float16 and double are supported");
        var geometry = QuantizationGeometry.For(op, op.Shape(0), 1, 2);
        long outputDtype = op.Attributes.Int("output_dtype", 0);
        if (_quantize)
        {
            var xType = op.Type(0);
            if (!(xType is DataType.Float or DataType.Float16 or DataType.Double))
                throw op.Fail($"input x has element type {xType}; float, float16 and double are supported");
            long precision = op.Attributes.Int("precision", 0);
            if (precision != 0 && precision != (long)DataType.Float)
                throw op.Fail($"attribute precision {(DataType)precision} is not supported (only float)");
            var type = op.HasInput(2) ? op.Type(2) : outputDtype != 0 ? (DataType)outputDtype : DataType.UInt8;
            if (op.HasInput(2) && outputDtype != 0 && (DataType)outputDtype != type)
                throw op.Fail($"attribute output_dtype {(DataType)outputDtype} differs from the zero point's type {type}");
            if (!IsQuantizedType(type))
                throw op.Fail($"quantised type {type} is not supported");
            return (type, geometry);
        }
        var quantized = op.Type(0);
        if (!(IsQuantizedType(quantized) || quantized == DataType.Int32))
            throw op.Fail($"input x has element type {quantized}, which is not a quantised type");
        if (op.HasInput(2) && op.Type(2) != quantized)
            throw op.Fail($"input x_zero_point has element type {op.Type(2)}, expected {quantized} like x");
        var output = outputDtype != 0 ? (DataType)outputDtype : scaleType;
        if (!(output is DataType.Float or DataType.Float16 or DataType.Double))
            throw op.Fail($"attribute output_dtype {output} is not supported (float, float16, double are)");
        return (output, geometry);
    }

    /// <summary>The quantised types of ONNX's QuantizeLinear / DequantizeLinear, but int32 (DequantizeLinear only).</summary>
    static bool IsQuantizedType(DataType type) => IsQuantizedInteger(type) || (SmallFloats.IsSmallFloat(type) && type != DataType.Float8E8M0);

    static bool IsQuantizedInteger(DataType type) => type is DataType.Int8 or DataType.UInt8 or DataType.Int16 or DataType.UInt16
        or DataType.Int4 or DataType.UInt4 or DataType.Int2 or DataType.UInt2;

    static (long Min, long Max) Range(DataType type) => type switch
    {
        DataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        DataType.UInt8 => (0, 255),
        DataType.Int16 => (short.MinValue, short.MaxValue),
        DataType.UInt16 => (0, ushort.MaxValue),
        DataType.Int4 => (-8, 7),
        DataType.UInt4 => (0, 15),
        DataType.Int2 => (-2, 1),
        DataType.UInt2 => (0, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var (type, geometry) = Plan(op);
        var x = op.ConstantInput(0, "x");
        double[] scale = op.ConstantInput(1, "scale").ToDouble();
        var zeroTensor = op.OptionalConstantInput(2, "zero point");
        int n = x.Length;
        if (_quantize)
        {
            double[] values = x.ToDouble();
            bool saturate = op.Attributes.Int("saturate", 1) != 0;
            bool wide = op.Type(0) == DataType.Double || op.Type(1) == DataType.Double;
            if (SmallFloats.IsSmallFloat(type))
            {
                double[] zeroFloat = zeroTensor is null ? new double[scale.Length] : Decoded(zeroTensor);
                var codes = new byte[n];
                for (int i = 0; i < n; i++)
                {
                    int p = geometry.ParameterIndex(i);
                    double quotient = wide ? values[i] / scale[p] : (float)values[i] / (float)scale[p];
                    codes[i] = (byte)SmallFloats.Encode(type, (float)(quotient + zeroFloat[p]), saturate);
                }
                return new[] { new Tensor(type, x.Shape, codes) };
            }
            long[] zero = zeroTensor?.ToInt64() ?? new long[scale.Length];
            var (min, max) = Range(type);
            var result = new long[n];
            for (int i = 0; i < n; i++)
            {
                int p = geometry.ParameterIndex(i);
                double quotient = wide ? values[i] / scale[p] : (float)values[i] / (float)scale[p];
                double v = Math.Round(quotient, MidpointRounding.ToEven) + zero[p];
                result[i] = double.IsNaN(v) ? min : (long)Math.Max(min, Math.Min(max, v));
            }
            return new[] { Narrow(type, x.Shape, result) };
        }
        else
        {
            double[] values = SmallFloats.IsSmallFloat(x.Type) ? Decoded(x) : x.ToDouble();
            double[] zero = zeroTensor is null ? new double[scale.Length] : SmallFloats.IsSmallFloat(zeroTensor.Type) ? Decoded(zeroTensor) : zeroTensor.ToDouble();
            var result = new double[n];
            for (int i = 0; i < n; i++)
            {
                int p = geometry.ParameterIndex(i);
                result[i] = type == DataType.Double ? (values[i] - zero[p]) * scale[p] : (float)((float)(values[i] - zero[p]) * (float)scale[p]);
            }
            if (type == DataType.Float16)
            {
                var bits = new ushort[n];
                for (int i = 0; i < n; i++) bits[i] = HalfBits.FromDouble(result[i]);
                return new[] { new Tensor(type, x.Shape, bits) };
            }
            return new[] { ConstantEvaluation.FromDoubles(type, x.Shape, result) };
        }
    }

    static double[] Decoded(Tensor t)
    {
        var result = new double[t.Length];
        for (int i = 0; i < result.Length; i++) result[i] = SmallFloats.Decode(t.Type, Convert.ToInt32(t.Data.GetValue(i)));
        return result;
    }

    /// <summary>A tensor of a quantised integer type (4-bit and 2-bit types are held one element per CLR value).</summary>
    static Tensor Narrow(DataType type, int[] shape, long[] values)
    {
        Array data = Array.CreateInstance(DataTypes.ClrType(type)!, values.Length);
        for (int i = 0; i < values.Length; i++) data.SetValue(Convert.ChangeType(values[i], DataTypes.ClrType(type)!, System.Globalization.CultureInfo.InvariantCulture), i);
        return new Tensor(type, shape, data);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (type, geometry) = Plan(op);
        var quantized = _quantize ? type : op.Type(0);
        if (RawEncoding.IsRaw(quantized))
        {
            EmitRaw(op, code, quantized, geometry);
            return;
        }
        string zero = op.HasInput(2) ? code.In(2) : $"global::System.ReadOnlySpan<{(_quantize ? code.OutType(0) : code.InType(0))}>.Empty";
        string kernel = $"{EmitContext.Kernels}.Quantization.LinearQuantization";
        code.Writer.Line($"// {(_quantize ? "QuantizeLinear" : "DequantizeLinear")} {geometry.Description} → {type}");
        code.Writer.Line($"{kernel}.{(_quantize ? "Quantize" : "Dequantize")}<{code.InType(0)}, {code.InType(1)}, {code.OutType(0)}>(" +
                         $"{code.In(0)}, {code.In(1)}, {zero}, {code.Out(0)}, {code.IntArray(geometry.Packed())});");
    }

    /// <summary>The quantised side is a raw tensor of <paramref name="quantized"/> (float8, float4, 4/2-bit integers).</summary>
    void EmitRaw(OpContext op, EmitContext code, DataType quantized, QuantizationGeometry geometry)
    {
        string zero = op.HasInput(2) ? code.In(2) : "global::System.ReadOnlySpan<byte>.Empty";
        string kernel = $"{EmitContext.Kernels}.Quantization.RawLinearQuantization";
        string format = $"{EmitContext.Kernels}.Quantization.RawElementType.{quantized}";
        code.Writer.Line($"// {(_quantize ? "QuantizeLinear" : "DequantizeLinear")} {geometry.Description}, {quantized} as raw bytes");
        if (_quantize)
        {
            string saturate = op.Attributes.Int("saturate", 1) != 0 ? "true" : "false";
            code.Writer.Line($"{kernel}.Quantize<{code.InType(0)}, {code.InType(1)}>({code.In(0)}, {code.In(1)}, {zero}, {code.Out(0)}, " +
                             $"{code.IntArray(geometry.Packed())}, {format}, {saturate});");
        }
        else
            code.Writer.Line($"{kernel}.Dequantize<{code.InType(1)}, {code.OutType(0)}>({code.In(0)}, {code.In(1)}, {zero}, {code.Out(0)}, " +
                             $"{code.IntArray(geometry.Packed())}, {format});");
    }
}
