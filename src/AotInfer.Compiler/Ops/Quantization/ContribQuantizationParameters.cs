using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>One tensor's per-tensor quantisation: value = (q − ZeroPoint) · Scale.</summary>
public readonly struct QuantizationParameters : IEquatable<QuantizationParameters>
{
    /// <summary>Creates the parameters.</summary>
    public QuantizationParameters(float scale, int zeroPoint)
    {
        Scale = scale;
        ZeroPoint = zeroPoint;
    }

    /// <summary>The scale.</summary>
    public float Scale { get; }

    /// <summary>The zero point.</summary>
    public int ZeroPoint { get; }

    /// <summary>Code arguments "scale, zeroPoint" for a kernel call.</summary>
    public string Arguments => $"{Literals.Float(Scale)}, {Literals.Int(ZeroPoint)}";

    /// <inheritdoc/>
    public bool Equals(QuantizationParameters other) => Scale.Equals(other.Scale) && ZeroPoint == other.ZeroPoint;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is QuantizationParameters other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Scale.GetHashCode() * 31 + ZeroPoint;

    /// <inheritdoc/>
    public override string ToString() => $"scale {Scale.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} zero point {ZeroPoint}";
}

/// <summary>
/// Reads the scale/zero-point input pairs of the com.microsoft QLinear* ops. ONNX Runtime's kernels take
/// per-tensor float scales and 8-bit zero points of the data's type; both must be constants here because the
/// generated code bakes them in (and lookup tables are built from them).
/// </summary>
public static class ContribQuantization
{
    /// <summary>Fails unless <paramref name="type"/> is int8 or uint8, the types ONNX Runtime's contrib kernels accept.</summary>
    public static void CheckEightBit(OpContext op, DataType type, string role)
    {
        if (type is not (DataType.Int8 or DataType.UInt8))
            throw op.Fail($"{role} has element type {type}; the com.microsoft QLinear ops take int8 or uint8");
    }

    /// <summary>
    /// The quantisation of a tensor of <paramref name="dataType"/> from the scale at <paramref name="scaleIndex"/>
    /// and the optional zero point at <paramref name="zeroPointIndex"/> (0 when absent).
    /// </summary>
    public static QuantizationParameters Read(OpContext op, int scaleIndex, int zeroPointIndex, DataType dataType, string role)
    {
        var scale = op.ConstantInput(scaleIndex, role + " scale");
        if (scale.Length != 1) throw op.Fail($"input {scaleIndex} ({role} scale) has {scale.Length} values; only per-tensor scales are supported");
        if (scale.Type is not (DataType.Float or DataType.Float16 or DataType.Double))
            throw op.Fail($"input {scaleIndex} ({role} scale) has element type {scale.Type}, expected float");
        float scaleValue = (float)scale.ToDouble()[0];
        if (!(scaleValue > 0) || float.IsInfinity(scaleValue)) throw op.Fail($"input {scaleIndex} ({role} scale) is {scaleValue}; it must be positive and finite");
        int zeroPoint = 0;
        if (zeroPointIndex < op.InputCount && op.HasInput(zeroPointIndex))
        {
            var zero = op.ConstantInput(zeroPointIndex, role + " zero point");
            if (zero.Length != 1) throw op.Fail($"input {zeroPointIndex} ({role} zero point) has {zero.Length} values; only per-tensor zero points are supported");
            if (zero.Type != dataType) throw op.Fail($"input {zeroPointIndex} ({role} zero point) has element type {zero.Type}, but the data is {dataType}");
            zeroPoint = (int)zero.ToInt64()[0];
        }
        return new QuantizationParameters(scaleValue, zeroPoint);
    }

    /// <summary>The smallest and largest value of an 8-bit type.</summary>
    public static (int Min, int Max) Range(DataType type) => type == DataType.Int8 ? (-128, 127) : (0, 255);

    /// <summary>Float32 quantisation as MLAS computes it: round(value / scale) half to even, plus the zero point, saturated.</summary>
    public static int Quantize(float value, QuantizationParameters q, DataType type)
    {
        var (min, max) = Range(type);
        float scaled = value / q.Scale;
        if (float.IsNaN(scaled)) return min; // MAXPS returns its second operand for NaN, so MLAS clamps NaN to the minimum
        double clamped = Math.Max(min - q.ZeroPoint, Math.Min(max - q.ZeroPoint, (double)scaled));
        return (int)Math.Round(clamped, MidpointRounding.ToEven) + q.ZeroPoint;
    }

    /// <summary>
    /// A 256-entry table mapping every 8-bit input (indexed by its bit pattern) to
    /// quantize(function(dequantize(input))), the way ONNX Runtime evaluates QLinearSigmoid/LeakyRelu and
    /// requantises QLinearConcat inputs. Dequantisation is (q − zero point)·scale in float.
    /// </summary>
    public static Tensor LookupTable(DataType type, QuantizationParameters input, QuantizationParameters output, Func<float, float> function)
    {
        Array data = type == DataType.Int8 ? new sbyte[256] : new byte[256];
        for (int bits = 0; bits < 256; bits++)
        {
            int q = type == DataType.Int8 ? (sbyte)(byte)bits : bits;
            float x = (q - input.ZeroPoint) * input.Scale;
            int y = Quantize(function(x), output, type);
            if (type == DataType.Int8) ((sbyte[])data)[bits] = (sbyte)y;
            else ((byte[])data)[bits] = (byte)y;
        }
        return new Tensor(type, new[] { 256 }, data);
    }
}
