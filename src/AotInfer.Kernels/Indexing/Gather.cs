using System;
using System.Numerics;

namespace AotInfer.Kernels.Indexing;

/// <summary>ONNX Gather: picks slices along one axis by index.</summary>
public static class Gather
{
    /// <summary>
    /// Viewing the data as [<paramref name="outer"/>, <paramref name="axisSize"/>, <paramref name="inner"/>], writes
    /// y[o, j, :] = data[o, indices[j], :] for every index j (negative indices count from the end).
    /// </summary>
    public static void Run<T, TIndex>(ReadOnlySpan<T> data, int outer, int axisSize, int inner, ReadOnlySpan<TIndex> indices, Span<T> y)
        where TIndex : IBinaryInteger<TIndex>
    {
        int yi = 0;
        for (int o = 0; o < outer; o++)
        {
            var block = data.Slice(o * axisSize * inner, axisSize * inner);
            for (int j = 0; j < indices.Length; j++)
            {
                int index = IndexMath.Normalize(long.CreateTruncating(indices[j]), axisSize);
                if (inner == 1) y[yi] = block[index];
                else block.Slice(index * inner, inner).CopyTo(y.Slice(yi, inner));
                yi += inner;
            }
        }
    }
}

/// <summary>ONNX GatherElements: y has the indices' shape; each element reads data at its own coordinates, with the axis coordinate replaced by the index.</summary>
public static class GatherElements
{
    /// <summary>Gathers element by element along <paramref name="axis"/>.</summary>
    public static void Run<T, TIndex>(ReadOnlySpan<T> data, int[] dataShape, ReadOnlySpan<TIndex> indices, int[] indexShape, int axis, Span<T> y)
        where TIndex : IBinaryInteger<TIndex>
    {
        int rank = indexShape.Length;
        Span<int> strides = stackalloc int[rank];
        IndexMath.Strides(dataShape, strides);
        Span<int> coordinate = stackalloc int[rank];
        int axisSize = dataShape[axis], axisStride = strides[axis];
        int offset = 0; // data offset of the current coordinate, without the axis term
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = data[offset + IndexMath.Normalize(long.CreateTruncating(indices[i]), axisSize) * axisStride];
            for (int d = rank - 1; d >= 0; d--)
            {
                coordinate[d]++;
                if (d != axis) offset += strides[d];
                if (coordinate[d] < indexShape[d]) break;
                if (d != axis) offset -= strides[d] * indexShape[d];
                coordinate[d] = 0;
            }
        }
    }
}

/// <summary>ONNX GatherND: each innermost row of the indices addresses a slice of the data, per batch.</summary>
public static class GatherND
{
    /// <summary>
    /// The first <paramref name="batchDims"/> dimensions of data and indices are batch dimensions; each index tuple
    /// has <paramref name="depth"/> coordinates into the following dimensions and selects the slice after them;
    /// every batch holds <paramref name="tuplesPerBatch"/> tuples.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> data, int[] dataShape, ReadOnlySpan<long> indices, int batchDims, int depth, int tuplesPerBatch, Span<T> y)
    {
        int batches = 1;
        for (int d = 0; d < batchDims; d++) batches *= dataShape[d];
        int slice = 1;
        for (int d = batchDims + depth; d < dataShape.Length; d++) slice *= dataShape[d];
        int batchSize = slice;
        for (int d = batchDims; d < batchDims + depth; d++) batchSize *= dataShape[d];
        Span<int> strides = stackalloc int[depth];
        int stride = slice;
        for (int j = depth - 1; j >= 0; j--) { strides[j] = stride; stride *= dataShape[batchDims + j]; }
        int yi = 0, ii = 0;
        for (int b = 0; b < batches; b++)
        {
            for (int t = 0; t < tuplesPerBatch; t++)
            {
                int offset = b * batchSize;
                for (int j = 0; j < depth; j++) offset += IndexMath.Normalize(indices[ii++], dataShape[batchDims + j]) * strides[j];
                data.Slice(offset, slice).CopyTo(y.Slice(yi, slice));
                yi += slice;
            }
        }
    }
}
