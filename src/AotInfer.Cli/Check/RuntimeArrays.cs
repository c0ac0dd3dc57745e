using System;
using AotInfer.Kernels;
using AotInfer.Kernels.Quantization;
using AotInfer.Onnx;

namespace AotInfer.Cli.Check;

/// <summary>Converts compile-time <see cref="Tensor"/> values to the arrays generated code takes, and back.</summary>
public static class RuntimeArrays
{
    /// <summary>The array generated code reads for this tensor (float16 becomes <see cref="Half"/>).</summary>
    public static Array FromTensor(Tensor t) => t.Type switch
    {
        DataType.Float16 => Array.ConvertAll(t.As<ushort>(), BitConverter.UInt16BitsToHalf),
        _ when RawEncoding.IsRaw(t.Type) => RawEncoding.Pack(t),
        _ => t.Data,
    };

    /// <summary>A zeroed array for an output of the given ONNX element type name and length (not for raw types).</summary>
    public static Array Allocate(string elementType, int length)
    {
        var type = Enum.Parse<DataType>(elementType);
        return type == DataType.Float16 ? new Half[length] : Array.CreateInstance(DataTypes.ClrType(type)!, length);
    }

    /// <summary>A zeroed array for an output (raw types get <see cref="TensorInfo.BufferLength"/> bytes).</summary>
    public static Array Allocate(TensorInfo output)
    {
        var type = Enum.Parse<DataType>(output.ElementType);
        if (RawEncoding.IsRaw(type)) return new byte[output.BufferLength];
        return type == DataType.Float16 ? new Half[output.Length] : Array.CreateInstance(DataTypes.ClrType(type)!, output.Length);
    }

    /// <summary>
    /// The array to compare for a tensor: the values of float8 and float4 elements (as doubles, so NaN equals NaN
    /// whatever its code), the values of 4-bit and 2-bit integers, the elements of every other type.
    /// </summary>
    public static Array Comparable(Tensor t)
    {
        if (!RawEncoding.IsRaw(t.Type)) return FromTensor(t);
        if (t.Type is DataType.Int4 or DataType.UInt4 or DataType.Int2 or DataType.UInt2) return t.Data;
        var format = (RawElementType)(int)t.Type;
        var values = new double[t.Length];
        for (int i = 0; i < values.Length; i++) values[i] = RawElementFormat.Decode(format, System.Convert.ToInt32(t.Data.GetValue(i)));
        return values;
    }

    /// <summary>An output as generated code wrote it, in the form of <see cref="Comparable"/>.</summary>
    public static Array Comparable(Array output, TensorInfo info)
    {
        var type = Enum.Parse<DataType>(info.ElementType);
        return RawEncoding.IsRaw(type) ? Comparable(RawEncoding.Unpack(type, info.Shape, (byte[])output)) : output;
    }

    /// <summary>Element <paramref name="i"/> as a double (NaN stays NaN), for comparisons.</summary>
    public static double At(Array array, int i) => array switch
    {
        float[] f => f[i],
        double[] d => d[i],
        Half[] h => (double)h[i],
        bool[] b => b[i] ? 1 : 0,
        _ => Convert.ToDouble(array.GetValue(i)),
    };

    /// <summary>True for floating point arrays (compared with tolerance).</summary>
    public static bool IsFloat(Array array) => array is float[] or double[] or Half[];
}
