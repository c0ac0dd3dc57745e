using System;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// The column (im2col) layout that turns a convolution into one matrix product: row <c>(channel, tap)</c>, column
/// window position. <see cref="Gather"/> builds it from an image (convolution); <see cref="ScatterAdd"/> is its
/// adjoint, accumulating columns back into an image (transposed convolution). Any number of spatial dimensions;
/// the innermost one is walked as a contiguous run (a block copy when its stride is 1).
/// </summary>
public static class ColumnBuffer
{
    /// <summary>
    /// columns[(c·K + tap)·P + p] = image[c, position p moved by tap], 0 where the tap reads padding.
    /// <paramref name="image"/> holds <paramref name="channels"/> planes of <see cref="Window.InputSize"/>. Taps that read padding
    /// get <paramref name="padding"/> (0 for float; the input zero point for quantised images).
    /// </summary>
    public static void Gather<T>(ReadOnlySpan<T> image, int channels, Window window, Span<T> columns, T padding = default) where T : unmanaged
    {
        int rank = window.Rank, last = rank - 1;
        int inputSize = window.InputSize, outputSize = window.OutputSize, kernelSize = window.KernelSize;
        int rowLength = window.Output(last), inputRow = window.Input(last), stride = window.Stride(last);
        int outerPositions = outputSize / rowLength;
        Span<int> tap = stackalloc int[rank];
        Span<int> position = stackalloc int[rank];
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<T> plane = image.Slice(c * inputSize, inputSize);
            tap.Clear();
            for (int k = 0; k < kernelSize; k++, row++)
            {
                Span<T> destination = columns.Slice(row * outputSize, outputSize);
                window.ValidRange(last, tap[last], out int begin, out int end, out int offset);
                position.Clear();
                for (int o = 0; o < outerPositions; o++)
                {
                    Span<T> segment = destination.Slice(o * rowLength, rowLength);
                    int inputOffset = OuterInputOffset(window, tap, position);
                    if (inputOffset < 0 || begin == end)
                    {
                        segment.Fill(padding);
                    }
                    else
                    {
                        ReadOnlySpan<T> source = plane.Slice(inputOffset * inputRow, inputRow);
                        segment.Slice(0, begin).Fill(padding);
                        if (stride == 1) source.Slice(begin + offset, end - begin).CopyTo(segment.Slice(begin, end - begin));
                        else for (int p = begin; p < end; p++) segment[p] = source[p * stride + offset];
                        segment.Slice(end).Fill(padding);
                    }
                    Advance(position, last, window, kernel: false);
                }
                Advance(tap, rank, window, kernel: true);
            }
        }
    }

    /// <summary>
    /// image[c, position p moved by tap] += columns[(c·K + tap)·P + p] for every tap that lands inside the image:
    /// the adjoint of <see cref="Gather"/>. The image is accumulated into, not cleared.
    /// </summary>
    public static void ScatterAdd(ReadOnlySpan<float> columns, int channels, Window window, Span<float> image)
    {
        int rank = window.Rank, last = rank - 1;
        int inputSize = window.InputSize, outputSize = window.OutputSize, kernelSize = window.KernelSize;
        int rowLength = window.Output(last), inputRow = window.Input(last), stride = window.Stride(last);
        int outerPositions = outputSize / rowLength;
        Span<int> tap = stackalloc int[rank];
        Span<int> position = stackalloc int[rank];
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            Span<float> plane = image.Slice(c * inputSize, inputSize);
            tap.Clear();
            for (int k = 0; k < kernelSize; k++, row++)
            {
                ReadOnlySpan<float> source = columns.Slice(row * outputSize, outputSize);
                window.ValidRange(last, tap[last], out int begin, out int end, out int offset);
                position.Clear();
                for (int o = 0; o < outerPositions; o++)
                {
                    int inputOffset = OuterInputOffset(window, tap, position);
                    if (inputOffset >= 0 && begin < end)
                    {
                        ReadOnlySpan<float> segment = source.Slice(o * rowLength, rowLength);
                        Span<float> target = plane.Slice(inputOffset * inputRow, inputRow);
                        if (stride == 1) VectorMath.Add(target.Slice(begin + offset, end - begin), segment.Slice(begin, end - begin));
                        else for (int p = begin; p < end; p++) target[p * stride + offset] += segment[p];
                    }
                    Advance(position, last, window, kernel: false);
                }
                Advance(tap, rank, window, kernel: true);
            }
        }
    }

    /// <summary>Row index (in units of innermost rows) of the input for the outer dimensions, or -1 when padding.</summary>
    static int OuterInputOffset(Window window, ReadOnlySpan<int> tap, ReadOnlySpan<int> position)
    {
        int offset = 0;
        for (int d = 0; d < window.Rank - 1; d++)
        {
            int coordinate = position[d] * window.Stride(d) + tap[d] * window.Dilation(d) - window.PadBegin(d);
            if ((uint)coordinate >= (uint)window.Input(d)) return -1;
            offset = offset * window.Input(d) + coordinate;
        }
        return offset;
    }

    /// <summary>Odometer step over the first <paramref name="dims"/> dimensions of the kernel or the output grid.</summary>
    static void Advance(Span<int> index, int dims, Window window, bool kernel)
    {
        for (int d = dims - 1; d >= 0; d--)
        {
            if (++index[d] < (kernel ? window.Kernel(d) : window.Output(d))) return;
            index[d] = 0;
        }
    }
}
