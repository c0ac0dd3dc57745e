using System;

namespace AotInfer.Kernels.Indexing;

/// <summary>Index checks shared by the gather and scatter kernels.</summary>
public static class IndexMath
{
    /// <summary>
    /// Turns an ONNX index (negative counts from the end) into an offset in [0, size); an index outside
    /// [-size, size) is a caller error and throws, since reading outside the tensor would be silently wrong.
    /// </summary>
    public static int Normalize(long index, int size)
    {
        long i = index < 0 ? index + size : index;
        if ((ulong)i >= (ulong)size) ThrowOutOfRange(index, size);
        return (int)i;
    }

    /// <summary>Row-major strides of <paramref name="shape"/>.</summary>
    public static void Strides(int[] shape, Span<int> strides)
    {
        int stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
    }

    static void ThrowOutOfRange(long index, int size) =>
        throw new IndexOutOfRangeException($"index {index} is out of range for a dimension of size {size}");
}
