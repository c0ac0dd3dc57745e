using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A 2-D <see cref="Window"/> unpacked into fields (the hot loops read them many times), with the two steps that
/// feed <see cref="PackedConvolutionDriver{TKernel}"/>: <see cref="Pad"/> copies the image into a zero-bordered
/// buffer once, so that <see cref="GatherPanel"/> can write blocks of the im2col column matrix straight into GEMM
/// B-sliver layout with plain copies and no bounds tests.
/// </summary>
internal readonly unsafe struct Window2D
{
    /// <summary>Spare floats after the padded image: the gather copies whole slivers and may read past a row's end.</summary>
    public const int Margin = 64;

    public readonly int InputHeight, InputWidth, OutputHeight, OutputWidth, KernelHeight, KernelWidth;
    public readonly int StrideHeight, StrideWidth, DilationHeight, DilationWidth, PadTop, PadLeft;

    /// <summary>The extent of the zero-bordered image the window reads: every tap of every position lands inside.</summary>
    public readonly int PaddedHeight, PaddedWidth;

    public Window2D(Window window)
    {
        if (window.Rank != 2) throw new ArgumentException($"expected a 2-D window, got rank {window.Rank}", nameof(window));
        InputHeight = window.Input(0); InputWidth = window.Input(1);
        OutputHeight = window.Output(0); OutputWidth = window.Output(1);
        KernelHeight = window.Kernel(0); KernelWidth = window.Kernel(1);
        StrideHeight = window.Stride(0); StrideWidth = window.Stride(1);
        DilationHeight = window.Dilation(0); DilationWidth = window.Dilation(1);
        PadTop = window.PadBegin(0); PadLeft = window.PadBegin(1);
        PaddedHeight = (OutputHeight - 1) * StrideHeight + (KernelHeight - 1) * DilationHeight + 1;
        PaddedWidth = (OutputWidth - 1) * StrideWidth + (KernelWidth - 1) * DilationWidth + 1;
    }

    /// <summary>Kernel taps per channel.</summary>
    public int Taps => KernelHeight * KernelWidth;

    /// <summary>
    /// True for a 1×1, stride-1, unpadded window: the image already is the column matrix, so the gather reads it in
    /// place and needs no padded copy.
    /// </summary>
    public bool ReadsImageInPlace => Taps == 1 && StrideHeight == 1 && StrideWidth == 1 && PadTop == 0 && PadLeft == 0 &&
                                     PaddedHeight == InputHeight && PaddedWidth == InputWidth;

    /// <summary>Floats of the padded copy of <paramref name="channels"/> planes, margin included.</summary>
    public static int PaddedSize(int channels, int paddedHeight, int paddedWidth) => channels * paddedHeight * paddedWidth + Margin;

    /// <summary>padded[c, y, x] = image[c, y − PadTop, x − PadLeft], 0 outside the image.</summary>
    public void Pad(float* image, int channels, float* padded)
    {
        int inputSize = InputHeight * InputWidth, paddedSize = PaddedHeight * PaddedWidth;
        // The columns of a padded row that hold image data: x − PadLeft in [0, InputWidth).
        int first = Math.Clamp(PadLeft, 0, PaddedWidth), last = Math.Clamp(PadLeft + InputWidth, first, PaddedWidth);
        for (int c = 0; c < channels; c++)
        {
            float* plane = image + (long)c * inputSize;
            for (int py = 0; py < PaddedHeight; py++)
            {
                float* row = padded + (long)c * paddedSize + (long)py * PaddedWidth;
                int iy = py - PadTop;
                if ((uint)iy >= (uint)InputHeight)
                {
                    Zero(row, PaddedWidth);
                    continue;
                }
                // Inline loops, not span calls: rows are a few dozen floats, where a call costs more than the copy
                // (16 channels of 34×34: 2.6 µs with span calls).
                Zero(row, first);
                Copy(plane + (long)iy * InputWidth + first - PadLeft, row + first, last - first);
                Zero(row + last, PaddedWidth - last);
            }
        }
        new Span<float>(padded + (long)channels * paddedSize, Margin).Clear();
    }

    /// <summary>
    /// Writes rows [first, first + count) × window positions [start, start + width) of the column matrix (row
    /// (c, kh, kw), column position) into <paramref name="panel"/> as ⌈width/nr⌉ slivers of count × nr floats, sliver s
    /// at s·count·nr, zero past the last position. <paramref name="source"/> is the padded image (<see cref="Pad"/>), or
    /// the image itself when <see cref="ReadsImageInPlace"/>. The panel needs nr spare floats at its end.
    /// </summary>
    public void GatherPanel(float* source, int first, int count, int start, int width, int nr, float* panel)
    {
        int taps = Taps, planeSize = PaddedHeight * PaddedWidth;
        bool inPlace = ReadsImageInPlace, contiguousRows = StrideWidth == 1;
        int* rowSource = stackalloc int[count];
        for (int r = 0; r < count; r++)
        {
            int row = first + r, channel = row / taps, tap = row - channel * taps, kh = tap / KernelWidth, kw = tap - kh * KernelWidth;
            rowSource[r] = channel * planeSize + kh * DilationHeight * PaddedWidth + kw * DilationWidth;
        }
        // Lane l of a sliver reads source offset laneSource[l] (plus the row's offset); with stride 1 the lanes form
        // runs, one per output row the sliver touches, each copied as a whole sliver width (later runs overwrite the
        // overshoot, and the next panel row is written after this one).
        int* laneSource = stackalloc int[nr];
        int* runLane = stackalloc int[nr];
        int* runSource = stackalloc int[nr];
        for (int jr = 0; jr < width; jr += nr)
        {
            int lanes = Math.Min(nr, width - jr), runs = 0;
            int oh = (start + jr) / OutputWidth, ow = start + jr - oh * OutputWidth;
            for (int lane = 0; lane < lanes; lane++)
            {
                int offset = oh * StrideHeight * PaddedWidth + ow * StrideWidth;
                laneSource[lane] = offset;
                if (lane == 0 || ow == 0) { runLane[runs] = lane; runSource[runs] = offset; runs++; }
                if (++ow == OutputWidth) { ow = 0; oh++; }
            }
            float* sliver = panel + (long)jr * count;
            for (int r = 0; r < count; r++)
            {
                float* destination = sliver + (long)r * nr, row = source + rowSource[r];
                if (inPlace)
                    new ReadOnlySpan<float>(row + start + jr, lanes).CopyTo(new Span<float>(destination, lanes));
                else if (contiguousRows)
                    for (int i = 0; i < runs; i++) CopySliver(row + runSource[i], destination + runLane[i], nr);
                else
                    for (int lane = 0; lane < lanes; lane++) destination[lane] = row[laneSource[lane]];
                if (lanes < nr) new Span<float>(destination + lanes, nr - lanes).Clear();
            }
        }
    }

    /// <summary>
    /// Splits the zero-padded image (padding <paramref name="padTop"/>, <paramref name="padLeft"/> before, zeros after)
    /// into <paramref name="strideY"/>×<paramref name="strideX"/> phase planes of <paramref name="rows"/>×<paramref name="pitch"/>:
    /// plane a·strideX + b holds padded[qy·strideY + a, qx·strideX + b]. A window with that stride then reads each
    /// tap as one contiguous, shifted slice of one plane (the depthwise and Winograd kernels rely on it).
    /// </summary>
    public static void SplitPhases(float* image, int height, int width, int padTop, int padLeft, int strideY, int strideX, int rows, int pitch, float* planes)
    {
        for (int a = 0; a < strideY; a++)
        {
            for (int b = 0; b < strideX; b++)
            {
                float* plane = planes + (long)(a * strideX + b) * rows * pitch;
                // qx whose column qx·strideX + b − padLeft lies in [0, width).
                int firstNumerator = padLeft - b, endNumerator = width + padLeft - b;
                int first = Math.Min(firstNumerator <= 0 ? 0 : (firstNumerator + strideX - 1) / strideX, pitch);
                int end = Math.Clamp(endNumerator <= 0 ? 0 : (endNumerator + strideX - 1) / strideX, first, pitch);
                for (int qy = 0; qy < rows; qy++)
                {
                    float* row = plane + (long)qy * pitch;
                    int iy = qy * strideY + a - padTop;
                    if ((uint)iy >= (uint)height)
                    {
                        new Span<float>(row, pitch).Clear();
                        continue;
                    }
                    float* source = image + (long)iy * width + b - padLeft;
                    // Rows are often a handful of floats (dscnn's 25×5): element loops beat span calls there.
                    for (int qx = 0; qx < first; qx++) row[qx] = 0;
                    if (strideX == 1) CopyRow(source + first, row + first, end - first);
                    else if (strideX == 2) CopyEvenColumns(source + 2L * first, row + first, end - first);
                    else for (int qx = first; qx < end; qx++) row[qx] = source[(long)qx * strideX];
                    for (int qx = end; qx < pitch; qx++) row[qx] = 0;
                }
            }
        }
    }

    static void Copy(float* source, float* destination, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(source + i), destination + i);
        for (; i < count; i++) destination[i] = source[i];
    }

    static void Zero(float* destination, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256<float>.Zero, destination + i);
        for (; i < count; i++) destination[i] = 0f;
    }

    /// <summary>
    /// destination[i] = source[2i] for i &lt; <paramref name="count"/>, reading no further than source[2·count − 2]:
    /// with AVX-512 one two-register permute per 16 outputs (a 3-channel 224×224 image's split for a stride-2 layer
    /// costs as much as a tenth of the layer element by element).
    /// </summary>
    static void CopyEvenColumns(float* source, float* destination, int count)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            // The last whole step reads source[2i + 31], which must be at most source[2·count − 2].
            for (; 2 * i + 31 <= 2 * count - 2; i += 16)
                Vector512.Store(Avx512F.PermuteVar16x32x2(Vector512.Load(source + 2 * i), evens, Vector512.Load(source + 2 * i + 16)), destination + i);
        }
        for (; i < count; i++) destination[i] = source[2L * i];
    }

    /// <summary>Copies <paramref name="count"/> floats: an element loop for short rows, a block copy for long ones.</summary>
    internal static void CopyRow(float* source, float* destination, int count)
    {
        if (count < 16) for (int i = 0; i < count; i++) destination[i] = source[i];
        else new ReadOnlySpan<float>(source, count).CopyTo(new Span<float>(destination, count));
    }

    static void CopySliver(float* source, float* destination, int nr)
    {
        if (nr == 32 && Vector512.IsHardwareAccelerated)
        {
            Vector512.Store(Vector512.Load(source), destination);
            Vector512.Store(Vector512.Load(source + 16), destination + 16);
            return;
        }
        for (int j = 0; j < nr; j += 4) Vector128.Store(Vector128.Load(source + j), destination + j);
    }
}
