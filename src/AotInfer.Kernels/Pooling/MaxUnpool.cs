using System;

namespace AotInfer.Kernels.Pooling;

/// <summary>ONNX MaxUnpool: places each value at its index (as MaxPool's Indices output gives) in a zeroed output.</summary>
public static class MaxUnpool
{
    /// <summary>
    /// y = 0, then the value x[i] goes to flat index indices[i] of a tensor of <paramref name="inferredShape"/> (the
    /// shape MaxPool's input had), which sits at the origin of the output of <paramref name="outputShape"/> (equal
    /// or larger in every dimension; larger when the output_shape input asks for it). An index outside the inferred
    /// tensor throws.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> indices, Span<T> y, int[] inferredShape, int[] outputShape)
    {
        y.Clear();
        long inferredCount = 1;
        foreach (int d in inferredShape) inferredCount *= d;
        for (int i = 0; i < x.Length; i++)
        {
            long index = indices[i];
            if ((ulong)index >= (ulong)inferredCount) throw new IndexOutOfRangeException($"MaxUnpool index {index} is outside the unpooled tensor of {inferredCount} elements");
            y[Relocate(index, inferredShape, outputShape)] = x[i];
        }
    }

    /// <summary>The flat output index of the element at flat index <paramref name="index"/> of the inferred tensor.</summary>
    static int Relocate(long index, int[] inferredShape, int[] outputShape)
    {
        long result = 0, stride = 1;
        for (int d = inferredShape.Length - 1; d >= 0; d--)
        {
            long coordinate = index % inferredShape[d];
            index /= inferredShape[d];
            result += coordinate * stride;
            stride *= outputShape[d];
        }
        return (int)result;
    }
}
