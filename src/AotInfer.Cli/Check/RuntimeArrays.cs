using System;
using AotInfer.Onnx;

namespace AotInfer.Cli.Check;

/// <summary>Converts compile-time <see cref="Tensor"/> values to the arrays generated code takes, and back.</summary>
public static class RuntimeArrays
{
    /// <summary>The array generated code reads for this tensor (float16 becomes <see cref="Half"/>).</summary>
    public static Array FromTensor(Tensor t) => t.Type switch
    {
        DataType.Float16 => Array.ConvertAll(t.As<ushort>(), BitConverter.UInt16BitsToHalf),
        _ => t.Data,
    };

    /// <summary>A zeroed array for an output of the given ONNX element type name and length.</summary>
    public static Array Allocate(string elementType, int length)
    {
        var type = Enum.Parse<DataType>(elementType);
        return type == DataType.Float16 ? new Half[length] : Array.CreateInstance(DataTypes.ClrType(type)!, length);
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
