using System;
using System.Linq;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Compile-time data movement for the shape family's <c>Evaluate</c>: these ops only rearrange elements, so they
/// work on the typed CLR array of any element type (float16 bits, bool, string...) through an index map from each
/// output element to the source element it copies.
/// </summary>
internal static class ConstantData
{
    /// <summary>Ops that repeat elements (ConstantOfShape, Expand, Tile) fold only results up to this many elements.</summary>
    public const int MaxRepeatedElements = 4096;

    /// <summary>
    /// True when a result that repeats a smaller input should be computed at run time instead of stored: a big block
    /// of repeated bytes in the generated file costs more than filling it on each run.
    /// </summary>
    public static bool TooRepetitiveToFold(int inputElements, IR.Value output) =>
        output.ElementCount > MaxRepeatedElements && output.ElementCount > inputElements && DataTypes.IsSupportedAtRunTime(output.Type);

    /// <summary>A tensor of <paramref name="shape"/> whose element i is <paramref name="source"/>'s element <c>map[i]</c>.</summary>
    public static Tensor Take(Tensor source, int[] shape, int[] map) => new(source.Type, shape, Take(source.Data, map));

    /// <summary>The same elements under another shape (tensors are immutable, so the array is shared).</summary>
    public static Tensor WithShape(Tensor source, int[] shape) => new(source.Type, shape, source.Data);

    /// <summary>
    /// The index map of a strided view: output element at coordinates c reads source element
    /// <c>offset + Σ c[d]·strides[d]</c> (strides may be 0 to repeat or negative to walk backwards).
    /// </summary>
    public static int[] StridedMap(int[] outShape, long offset, long[] strides)
    {
        int count = ShapeMath.ElementCount(outShape);
        var map = new int[count];
        int rank = outShape.Length;
        var index = new int[rank];
        long position = offset;
        for (int i = 0; i < count; i++)
        {
            map[i] = (int)position;
            // Odometer: advance the last coordinate, carrying into earlier ones.
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                position += strides[d];
                if (index[d] < outShape[d]) break;
                position -= strides[d] * outShape[d];
                index[d] = 0;
            }
        }
        return map;
    }

    /// <summary>Row-major strides of <paramref name="shape"/> as 64-bit values.</summary>
    public static long[] Strides(int[] shape) => ShapeMath.Strides(shape).Select(s => (long)s).ToArray();

    /// <summary>Concatenates tensors of one type along <paramref name="axis"/>.</summary>
    public static Tensor Concat(Tensor[] parts, int axis, int[] outShape)
    {
        var type = parts[0].Type;
        var result = Array.CreateInstance(parts[0].Data.GetType().GetElementType()!, ShapeMath.ElementCount(outShape));
        int outer = Product(outShape, 0, axis);
        int row = Product(outShape, axis, outShape.Length);
        int offset = 0;
        foreach (var part in parts)
        {
            int chunk = Product(part.Shape, axis, part.Shape.Length);
            for (int o = 0; o < outer; o++) Array.Copy(part.Data, o * chunk, result, o * row + offset, chunk);
            offset += chunk;
        }
        return new Tensor(type, outShape, result);
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with the single element of <paramref name="value"/>.</summary>
    public static Tensor Fill(Tensor value, int[] shape) => Take(value, shape, new int[ShapeMath.ElementCount(shape)]);

    /// <summary>Product of <c>shape[from..to)</c>.</summary>
    public static int Product(int[] shape, int from, int to)
    {
        long p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return checked((int)p);
    }

    // Copies by the array's exact element type: a type pattern such as `sbyte[] a` would also match a byte[] (the CLR
    // lets same-size signed and unsigned integer arrays cast to each other), giving an array of the wrong type.
    static Array Take(Array data, int[] map)
    {
        var result = Array.CreateInstance(data.GetType().GetElementType()!, map.Length);
        for (int i = 0; i < map.Length; i++) Array.Copy(data, map[i], result, i, 1);
        return result;
    }
}
