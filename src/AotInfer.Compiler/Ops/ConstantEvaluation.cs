using System;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops;

/// <summary>
/// Compile-time arithmetic on constant tensors, used to fold shape computations. Integers compute in 64 bits,
/// floats in double, then convert back to the element type.
/// </summary>
public static class ConstantEvaluation
{
    /// <summary>True when the type can be evaluated here (numbers and bool; not float16 variants).</summary>
    public static bool CanEvaluate(DataType type) =>
        DataTypes.IsInteger(type) || type is DataType.Float or DataType.Double or DataType.Bool;

    /// <summary>Elements as doubles.</summary>
    public static double[] Doubles(Tensor t) => t.ToDouble();

    /// <summary>Builds a tensor of <paramref name="type"/> from doubles (integers are truncated, bool is non-zero).</summary>
    public static Tensor FromDoubles(DataType type, int[] shape, double[] values)
    {
        Array data = Array.CreateInstance(DataTypes.ClrType(type)!, values.Length);
        for (int i = 0; i < values.Length; i++) data.SetValue(Convert(type, values[i]), i);
        return new Tensor(type, shape, data);
    }

    /// <summary>Builds a tensor of <paramref name="type"/> from 64-bit integers.</summary>
    public static Tensor FromLongs(DataType type, int[] shape, long[] values)
    {
        Array data = Array.CreateInstance(DataTypes.ClrType(type)!, values.Length);
        for (int i = 0; i < values.Length; i++) data.SetValue(ConvertLong(type, values[i]), i);
        return new Tensor(type, shape, data);
    }

    /// <summary>Element-wise binary function with broadcasting.</summary>
    public static Tensor Binary(Tensor a, Tensor b, int[] shape, DataType resultType, Func<double, double, double> onFloat, Func<long, long, long> onInteger)
    {
        int n = Onnx.ShapeMath.ElementCount(shape);
        bool integer = DataTypes.IsInteger(a.Type) || a.Type == DataType.Bool;
        if (integer)
        {
            long[] x = a.ToInt64(), y = b.ToInt64();
            var result = new long[n];
            for (int i = 0; i < n; i++) result[i] = onInteger(x[ShapeRules.BroadcastIndex(i, shape, a.Shape)], y[ShapeRules.BroadcastIndex(i, shape, b.Shape)]);
            return FromLongs(resultType, shape, result);
        }
        double[] p = a.ToDouble(), q = b.ToDouble();
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = onFloat(p[ShapeRules.BroadcastIndex(i, shape, a.Shape)], q[ShapeRules.BroadcastIndex(i, shape, b.Shape)]);
        return FromDoubles(resultType, shape, values);
    }

    /// <summary>Converts a double to the CLR value of an element type.</summary>
    public static object Convert(DataType type, double v) => type switch
    {
        DataType.Float => (float)v,
        DataType.Double => v,
        DataType.Bool => v != 0,
        _ when DataTypes.IsInteger(type) => ConvertLong(type, double.IsNaN(v) ? 0 : (long)Math.Truncate(v)),
        _ => throw new UnsupportedModelException($"cannot evaluate {type} at compile time"),
    };

    /// <summary>Converts an integer to the CLR value of an element type (wrapping like a C cast).</summary>
    public static object ConvertLong(DataType type, long v) => Shape.ConstantCast.FromInt64(v, type);
}
