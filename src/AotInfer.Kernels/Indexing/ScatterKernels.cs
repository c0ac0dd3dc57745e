using System;
using System.Numerics;

namespace AotInfer.Kernels.Indexing;

/// <summary>ScatterElements and ScatterND: copy the data, then write or combine updates at run-time indices.</summary>
public static class ScatterKernels
{
    /// <summary>ScatterElements without reduction: <c>output[..., indices[i], ...] = updates[i]</c> along <paramref name="axis"/>.</summary>
    public static void ScatterElements<T, TIndex>(ReadOnlySpan<T> data, ReadOnlySpan<TIndex> indices, ReadOnlySpan<T> updates, Span<T> output,
        int[] dataShape, int[] indicesShape, int axis) where T : unmanaged where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        data.CopyTo(output);
        for (int i = 0; i < indices.Length; i++)
            output[ElementOffset(indices, i, dataShape, indicesShape, axis)] = updates[i];
    }

    /// <summary>ScatterElements with a reduction (1 add, 2 mul, 3 max, 4 min).</summary>
    public static void ScatterElementsReduce<T, TIndex>(ReadOnlySpan<T> data, ReadOnlySpan<TIndex> indices, ReadOnlySpan<T> updates, Span<T> output,
        int[] dataShape, int[] indicesShape, int axis, int reduction) where T : unmanaged, INumber<T> where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        data.CopyTo(output);
        for (int i = 0; i < indices.Length; i++)
        {
            int offset = ElementOffset(indices, i, dataShape, indicesShape, axis);
            output[offset] = Combine(output[offset], updates[i], reduction);
        }
    }

    /// <summary>ScatterND without reduction: each index tuple (last axis of indices) addresses a slice of the data.</summary>
    public static void ScatterND<T, TIndex>(ReadOnlySpan<T> data, ReadOnlySpan<TIndex> indices, ReadOnlySpan<T> updates, Span<T> output,
        int[] dataShape, int[] indicesShape) where T : unmanaged where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        data.CopyTo(output);
        int depth = indicesShape[^1];
        int slice = SliceSize(dataShape, depth);
        int count = depth == 0 ? updates.Length / Math.Max(slice, 1) : indices.Length / depth;
        for (int s = 0; s < count; s++)
            updates.Slice(s * slice, slice).CopyTo(output.Slice(SliceOffset(indices, s, depth, dataShape, slice), slice));
    }

    /// <summary>ScatterND with a reduction (1 add, 2 mul, 3 max, 4 min).</summary>
    public static void ScatterNDReduce<T, TIndex>(ReadOnlySpan<T> data, ReadOnlySpan<TIndex> indices, ReadOnlySpan<T> updates, Span<T> output,
        int[] dataShape, int[] indicesShape, int reduction) where T : unmanaged, INumber<T> where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        data.CopyTo(output);
        int depth = indicesShape[^1];
        int slice = SliceSize(dataShape, depth);
        int count = depth == 0 ? updates.Length / Math.Max(slice, 1) : indices.Length / depth;
        for (int s = 0; s < count; s++)
        {
            var target = output.Slice(SliceOffset(indices, s, depth, dataShape, slice), slice);
            var source = updates.Slice(s * slice, slice);
            for (int j = 0; j < slice; j++) target[j] = Combine(target[j], source[j], reduction);
        }
    }

    static T Combine<T>(T current, T update, int reduction) where T : INumber<T> => reduction switch
    {
        1 => current + update,
        2 => current * update,
        3 => T.Max(current, update),
        _ => T.Min(current, update),
    };

    /// <summary>Offset in the data of element <paramref name="i"/> of the indices, its coordinate along the axis replaced by the index.</summary>
    static int ElementOffset<TIndex>(ReadOnlySpan<TIndex> indices, int i, int[] dataShape, int[] indicesShape, int axis) where TIndex : IBinaryInteger<TIndex>
    {
        int offset = 0, stride = 1, rest = i;
        for (int d = dataShape.Length - 1; d >= 0; d--)
        {
            int coordinate = rest % indicesShape[d];
            rest /= indicesShape[d];
            if (d == axis) coordinate = Normalise(long.CreateTruncating(indices[i]), dataShape[d]);
            offset += coordinate * stride;
            stride *= dataShape[d];
        }
        return offset;
    }

    static int SliceSize(int[] dataShape, int depth)
    {
        int size = 1;
        for (int d = depth; d < dataShape.Length; d++) size *= dataShape[d];
        return size;
    }

    static int SliceOffset<TIndex>(ReadOnlySpan<TIndex> indices, int s, int depth, int[] dataShape, int slice) where TIndex : IBinaryInteger<TIndex>
    {
        int offset = 0, stride = slice;
        for (int j = depth - 1; j >= 0; j--)
        {
            offset += Normalise(long.CreateTruncating(indices[s * depth + j]), dataShape[j]) * stride;
            stride *= dataShape[j];
        }
        return offset;
    }

    static int Normalise(long index, int size)
    {
        long i = index < 0 ? index + size : index;
        if ((ulong)i >= (ulong)size) throw new IndexOutOfRangeException($"scatter index {index} is out of range for a dimension of {size}");
        return (int)i;
    }
}
