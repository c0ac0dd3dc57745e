using System;
using System.Linq;

namespace AotInfer.Onnx;

/// <summary>
/// A constant tensor known at compile time: element type, shape and a typed CLR array holding the elements
/// (see <see cref="DataTypes.ClrType"/>; float16 and bfloat16 are kept as their raw 16-bit patterns).
/// </summary>
public sealed class Tensor
{
    /// <summary>Creates a tensor, checking that the array matches the type and the shape.</summary>
    public Tensor(DataType type, int[] shape, Array data)
    {
        Type = type;
        Shape = shape;
        Data = data;
        var expected = DataTypes.ClrType(type);
        if (expected is null || data.GetType().GetElementType() != expected)
            throw new ArgumentException($"tensor data of type {data.GetType().Name} does not hold ONNX {type}");
        if (data.Length != ShapeMath.ElementCount(shape))
            throw new ArgumentException($"tensor data has {data.Length} elements but shape [{string.Join(",", shape)}] needs {ShapeMath.ElementCount(shape)}");
    }

    /// <summary>The ONNX element type.</summary>
    public DataType Type { get; }

    /// <summary>The dimensions; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The elements in row-major order.</summary>
    public Array Data { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>The elements as a typed array (throws when the type differs).</summary>
    public T[] As<T>() => (T[])Data;

    /// <summary>Reads every element as a 64-bit integer (for shape, axis and index inputs).</summary>
    public long[] ToInt64()
    {
        var result = new long[Length];
        for (int i = 0; i < result.Length; i++) result[i] = Convert.ToInt64(Data.GetValue(i) is bool b ? (b ? 1 : 0) : Data.GetValue(i));
        return result;
    }

    /// <summary>Reads every element as a double (for scalar attributes given as inputs).</summary>
    public double[] ToDouble()
    {
        var result = new double[Length];
        for (int i = 0; i < result.Length; i++)
        {
            object v = Data.GetValue(i);
            result[i] = Type switch
            {
                DataType.Float16 => HalfBits.ToSingle((ushort)v),
                DataType.BFloat16 => HalfBits.BFloat16ToSingle((ushort)v),
                DataType.Bool => (bool)v ? 1 : 0,
                _ => Convert.ToDouble(v),
            };
        }
        return result;
    }

    /// <summary>A tensor of int64 values.</summary>
    public static Tensor FromInt64(long[] values, params int[] shape) => new(DataType.Int64, shape, values);

    /// <summary>A short human-readable description, e.g. <c>float[1,3,224,224]</c>.</summary>
    public override string ToString() => $"{Type}[{string.Join(",", Shape.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}
