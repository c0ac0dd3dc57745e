using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels.Resize;

/// <summary>
/// Resize kernels driven by sampling tables the compiler computed from shapes and attributes: the run-time work is
/// gathers and weighted sums only, with no coordinate arithmetic.
/// </summary>
public static class ResizeKernels
{
    /// <summary>
    /// Nearest-neighbour resize of any rank. <paramref name="indices"/> holds, axis after axis, the source index of
    /// every output coordinate (<c>outputShape[d]</c> entries for axis <c>d</c>); -1 marks a coordinate outside the
    /// region of interest, whose elements become <paramref name="extrapolation"/>.
    /// </summary>
    public static void Nearest<T>(ReadOnlySpan<T> source, Span<T> destination, int[] inputShape, int[] outputShape, int[] indices, T extrapolation)
        where T : unmanaged
    {
        int rank = inputShape.Length;
        if (rank == 0)
        {
            destination[0] = source[0];
            return;
        }
        Span<int> strides = stackalloc int[rank];
        Span<int> tableStart = stackalloc int[rank];
        int stride = 1, start = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= inputShape[d];
        }
        for (int d = 0; d < rank; d++)
        {
            tableStart[d] = start;
            start += outputShape[d];
        }
        int written = 0;
        NearestAxis(source, destination, outputShape, indices, strides, tableStart, 0, 0, false, ref written, extrapolation);
    }

    static void NearestAxis<T>(ReadOnlySpan<T> source, Span<T> destination, int[] outputShape, int[] indices, ReadOnlySpan<int> strides,
        ReadOnlySpan<int> tableStart, int axis, int sourceOffset, bool outside, ref int written, T extrapolation) where T : unmanaged
    {
        int count = outputShape[axis];
        var table = indices.AsSpan(tableStart[axis], count);
        if (axis == outputShape.Length - 1)
        {
            var row = destination.Slice(written, count);
            if (outside) row.Fill(extrapolation);
            else
                for (int o = 0; o < count; o++)
                    row[o] = table[o] < 0 ? extrapolation : source[sourceOffset + table[o]];
            written += count;
            return;
        }
        int stride = strides[axis];
        for (int o = 0; o < count; o++)
        {
            int index = table[o];
            NearestAxis(source, destination, outputShape, indices, strides, tableStart, axis + 1,
                sourceOffset + Math.Max(index, 0) * stride, outside || index < 0, ref written, extrapolation);
        }
    }

    /// <summary>
    /// One separable pass of linear or cubic resize along the middle axis of a <c>[outer, inputSize, inner]</c>
    /// view: output row <c>o</c> is the weighted sum of source rows <c>index[o * taps + t]</c> with weights
    /// <c>weight[o * taps + t]</c>. A first index of -1 fills the row with <paramref name="extrapolation"/>.
    /// </summary>
    public static void Interpolate<T>(ReadOnlySpan<T> source, Span<T> destination, int outer, int inputSize, int inner, int taps,
        int[] index, float[] weight, T extrapolation) where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            InterpolateSingle(MemoryMarshal.Cast<T, float>(source), MemoryMarshal.Cast<T, float>(destination), outer, inputSize, inner, taps,
                index, weight, float.CreateTruncating(extrapolation));
            return;
        }
        // Other float types accumulate in double: float16 has too few bits to hold a running sum.
        int outputSize = index.Length / taps;
        for (int b = 0; b < outer; b++)
        {
            int sourceBase = b * inputSize * inner, destinationBase = b * outputSize * inner;
            for (int o = 0; o < outputSize; o++)
            {
                var row = destination.Slice(destinationBase + o * inner, inner);
                if (index[o * taps] < 0)
                {
                    row.Fill(extrapolation);
                    continue;
                }
                for (int i = 0; i < inner; i++)
                {
                    double sum = 0;
                    for (int t = 0; t < taps; t++)
                        sum += weight[o * taps + t] * double.CreateTruncating(source[sourceBase + index[o * taps + t] * inner + i]);
                    row[i] = T.CreateTruncating(sum);
                }
            }
        }
    }

    static void InterpolateSingle(ReadOnlySpan<float> source, Span<float> destination, int outer, int inputSize, int inner, int taps,
        int[] index, float[] weight, float extrapolation)
    {
        int outputSize = index.Length / taps;
        for (int b = 0; b < outer; b++)
        {
            var input = source.Slice(b * inputSize * inner, inputSize * inner);
            var output = destination.Slice(b * outputSize * inner, outputSize * inner);
            if (inner == 1)
            {
                for (int o = 0; o < outputSize; o++)
                {
                    int first = o * taps;
                    if (index[first] < 0)
                    {
                        output[o] = extrapolation;
                        continue;
                    }
                    float sum = 0;
                    for (int t = 0; t < taps; t++) sum += weight[first + t] * input[index[first + t]];
                    output[o] = sum;
                }
                continue;
            }
            for (int o = 0; o < outputSize; o++)
            {
                int first = o * taps;
                var row = output.Slice(o * inner, inner);
                if (index[first] < 0)
                {
                    row.Fill(extrapolation);
                    continue;
                }
                Scale(input.Slice(index[first] * inner, inner), weight[first], row);
                for (int t = 1; t < taps; t++)
                    if (weight[first + t] != 0) AddScaled(input.Slice(index[first + t] * inner, inner), weight[first + t], row);
            }
        }
    }

    /// <summary><c>row = w * x</c>.</summary>
    static void Scale(ReadOnlySpan<float> x, float w, Span<float> row)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var wv = new Vector<float>(w);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                (wv * new Vector<float>(x.Slice(i))).CopyTo(row.Slice(i));
        }
        for (; i < x.Length; i++) row[i] = w * x[i];
    }

    /// <summary><c>row += w * x</c>.</summary>
    static void AddScaled(ReadOnlySpan<float> x, float w, Span<float> row)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var wv = new Vector<float>(w);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(row.Slice(i)) + wv * new Vector<float>(x.Slice(i))).CopyTo(row.Slice(i));
        }
        for (; i < x.Length; i++) row[i] += w * x[i];
    }
}
