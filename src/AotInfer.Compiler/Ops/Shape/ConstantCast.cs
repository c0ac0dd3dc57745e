using System;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Compile-time element type conversion with exactly the rules of the run-time kernel
/// (<c>AotInfer.Kernels.Elementwise.Conversion</c>): floats to integers truncate toward zero (NaN and out-of-range values give
/// the minimum of int32 or int64, as x86-64 does) and narrower integers wrap from int32, integers wrap, anything to bool is "non-zero", float16 rounds to nearest even.
/// </summary>
internal static class ConstantCast
{
    /// <summary>True when <paramref name="type"/> can be converted at compile time (run-time types, plus bfloat16 as a source).</summary>
    public static bool CanConvertFrom(DataType type) => DataTypes.IsSupportedAtRunTime(type) || type == DataType.BFloat16;

    /// <summary><paramref name="source"/> converted to <paramref name="target"/>.</summary>
    public static Tensor Convert(Tensor source, DataType target)
    {
        if (source.Type == target) return source;
        int n = source.Length;
        Array result = Array.CreateInstance(DataTypes.ClrType(target)!, n);
        bool fromFloat = DataTypes.IsFloat(source.Type);
        double[]? doubles = fromFloat ? source.ToDouble() : null;
        for (int i = 0; i < n; i++)
        {
            object value;
            if (fromFloat) value = FromDouble(doubles![i], target);
            // Test the declared type, not `Data is ulong[]`: the CLR also says yes for a long[], which made negative
            // int64 values convert as 2^64 - |v|.
            else if (source.Type == DataType.UInt64) value = FromUInt64(((ulong[])source.Data)[i], target);
            else value = FromInt64(Integer(source.Data.GetValue(i)), target);
            result.SetValue(value, i);
        }
        return new Tensor(target, source.Shape, result);
    }

    static long Integer(object value) => value is bool b ? (b ? 1 : 0) : System.Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);

    static object FromDouble(double d, DataType target) => target switch
    {
        DataType.Float => (float)d,
        DataType.Double => d,
        DataType.Float16 => HalfBits.FromDouble(d),
        DataType.Bool => d != 0,
        DataType.UInt64 => d >= TwoPow63 && d < 2 * TwoPow63 ? (ulong)d : unchecked((ulong)TruncateToInt64(d)),
        DataType.Int64 or DataType.UInt32 => FromInt64(TruncateToInt64(d), target),
        _ => FromInt64(TruncateToInt32(d), target),
    };

    const double TwoPow63 = 9223372036854775808.0;

    // The x86-64 conversions ONNX Runtime's static_cast compiles to: NaN and out-of-range give the minimum value.
    static long TruncateToInt64(double d) => d >= -TwoPow63 && d < TwoPow63 ? (long)d : long.MinValue;

    static int TruncateToInt32(double d) => d > -2147483649.0 && d < 2147483648.0 ? (int)d : int.MinValue;

    static object FromUInt64(ulong u, DataType target) => target switch
    {
        DataType.Float => (float)u,
        DataType.Double => (double)u,
        DataType.Float16 => HalfBits.FromDouble(u),
        _ => FromInt64(unchecked((long)u), target),
    };

    /// <summary>An integer as the CLR value of <paramref name="target"/>, wrapping like a C cast.</summary>
    internal static object FromInt64(long l, DataType target) => target switch
    {
        DataType.Float => (float)l,
        DataType.Double => (double)l,
        DataType.Float16 => HalfBits.FromDouble(l),
        DataType.Bool => l != 0,
        DataType.Int8 => unchecked((sbyte)l),
        DataType.UInt8 => unchecked((byte)l),
        DataType.Int16 => unchecked((short)l),
        DataType.UInt16 => unchecked((ushort)l),
        DataType.Int32 => unchecked((int)l),
        DataType.UInt32 => unchecked((uint)l),
        DataType.Int64 => l,
        DataType.UInt64 => unchecked((ulong)l),
        _ => throw new UnsupportedModelException($"cannot convert to {target} at compile time"),
    };
}
