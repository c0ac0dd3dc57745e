using System;

namespace AotInfer.Onnx;

/// <summary>Overflow-checked arithmetic on shapes.</summary>
public static class ShapeMath
{
    /// <summary>The largest element count one tensor may have (2^31 - 1: spans are int-indexed).</summary>
    public const long MaxElements = int.MaxValue;

    /// <summary>Product of the dimensions; throws <see cref="InvalidModelException"/> on negative dims or overflow.</summary>
    public static int ElementCount(int[] shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new InvalidModelException($"negative dimension {d} in shape [{string.Join(",", shape)}]");
            count *= d;
            if (count > MaxElements) throw new InvalidModelException($"shape [{string.Join(",", shape)}] has more than {MaxElements} elements");
        }
        return (int)count;
    }

    /// <summary>Converts int64 dims to int dims, rejecting negative and too large values.</summary>
    public static int[] ToIntShape(System.Collections.Generic.IList<long> dims, string what)
    {
        var shape = new int[dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (dims[i] < 0 || dims[i] > MaxElements) throw new InvalidModelException($"{what}: dimension {i} is {dims[i]}");
            shape[i] = (int)dims[i];
        }
        ElementCount(shape);
        return shape;
    }

    /// <summary>Row-major strides of a shape.</summary>
    public static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        return strides;
    }
}

/// <summary>The model file breaks a rule of the ONNX format or of AotInfer's limits; the message names what.</summary>
public sealed class InvalidModelException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidModelException(string message) : base(message) { }
}
