using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    /// <see cref="Gather{T}"/> for two spatial dimensions without the per-row odometer: every (channel, ky, kx) row is
    /// filled from its valid rectangle directly, and when the layer keeps the width (unit strides, output width = input
    /// width) the whole rectangle is one block copy of the shifted plane, after which only the columns that read past a
    /// row edge are set back to <paramref name="padding"/>. For the short rows of small images the per-segment overhead
    /// of the general gather dominated the int8 convolutions; byte images of small planes go through
    /// <see cref="ByteColumnGather"/> (a padded copy of each plane) instead.
    /// </summary>
    public static void Gather2D<T>(ReadOnlySpan<T> image, int channels, Window window, Span<T> columns, T padding = default) where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() == 1 && ByteColumnGather.TryGather(MemoryMarshal.AsBytes(image), channels, window, MemoryMarshal.AsBytes(columns), Unsafe.As<T, byte>(ref padding)))
            return;
        int inputHeight = window.Input(0), inputWidth = window.Input(1), outputHeight = window.Output(0), outputWidth = window.Output(1);
        int kernelHeight = window.Kernel(0), kernelWidth = window.Kernel(1), strideY = window.Stride(0), strideX = window.Stride(1);
        int inputSize = inputHeight * inputWidth, outputSize = outputHeight * outputWidth;
        bool blockCopies = strideY == 1 && strideX == 1 && outputWidth == inputWidth;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<T> plane = image.Slice(c * inputSize, inputSize);
            for (int ky = 0; ky < kernelHeight; ky++)
            {
                window.ValidRange(0, ky, out int y0, out int y1, out int offsetY);
                for (int kx = 0; kx < kernelWidth; kx++, row++)
                {
                    window.ValidRange(1, kx, out int x0, out int x1, out int offsetX);
                    Span<T> destination = columns.Slice(row * outputSize, outputSize);
                    if (y0 == y1 || x0 == x1)
                    {
                        destination.Fill(padding);
                        continue;
                    }
                    destination.Slice(0, y0 * outputWidth).Fill(padding);
                    destination.Slice(y1 * outputWidth).Fill(padding);
                    if (blockCopies)
                    {
                        // dest[oy·W + ox] = plane[(oy + offsetY)·W + ox + offsetX] over whole rows; the ends clip to the plane.
                        int start = y0 * outputWidth, length = (y1 - y0) * outputWidth, source = (y0 + offsetY) * inputWidth + offsetX;
                        int low = Math.Max(0, -source), high = Math.Min(length, inputSize - source);
                        plane.Slice(source + low, high - low).CopyTo(destination.Slice(start + low, high - low));
                        for (int oy = y0; oy < y1; oy++)
                        {
                            for (int ox = 0; ox < x0; ox++) destination[oy * outputWidth + ox] = padding;
                            for (int ox = x1; ox < outputWidth; ox++) destination[oy * outputWidth + ox] = padding;
                        }
                        continue;
                    }
                    for (int oy = y0; oy < y1; oy++)
                    {
                        Span<T> segment = destination.Slice(oy * outputWidth, outputWidth);
                        ReadOnlySpan<T> source = plane.Slice((oy * strideY + offsetY) * inputWidth, inputWidth);
                        for (int ox = 0; ox < x0; ox++) segment[ox] = padding;
                        if (strideX == 1) source.Slice(x0 + offsetX, x1 - x0).CopyTo(segment.Slice(x0, x1 - x0));
                        else if (strideX == 2 && Unsafe.SizeOf<T>() == 1) GatherEvenBytes(plane, (oy * strideY + offsetY) * inputWidth + x0 * 2 + offsetX, segment.Slice(x0, x1 - x0));
                        else for (int ox = x0; ox < x1; ox++) segment[ox] = source[ox * strideX + offsetX];
                        for (int ox = x1; ox < outputWidth; ox++) segment[ox] = padding;
                    }
                }
            }
        }
    }

    /// <summary>
    /// destination[i] = source[from + 2·i] for one-byte elements (the stride-2 rows of quantised images), 16 at a time:
    /// 32 bytes read as 16 words keep the even byte in each word's low half, which narrowing keeps.
    /// </summary>
    static void GatherEvenBytes<T>(ReadOnlySpan<T> source, int from, Span<T> destination) where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(source);
        Span<byte> target = MemoryMarshal.AsBytes(destination);
        ref byte s = ref MemoryMarshal.GetReference(bytes);
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 16 <= target.Length && from + 2 * i + 32 <= bytes.Length; i += 16)
            {
                var low = Vector128.LoadUnsafe(ref s, (nuint)(from + 2 * i)).AsUInt16();
                var high = Vector128.LoadUnsafe(ref s, (nuint)(from + 2 * i + 16)).AsUInt16();
                Vector128.Narrow(low, high).StoreUnsafe(ref MemoryMarshal.GetReference(target), (nuint)i);
            }
        }
        for (; i < target.Length; i++) target[i] = bytes[from + 2 * i];
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
