using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Depthwise 2-D convolution (one input and one output channel per group) with stride 2, MobileNet's downsampling
/// layers. On the AVX-512 tier of <see cref="MatrixMultiply.Tier"/> each input row of a channel is split once into its
/// even and odd columns (two masked loads and two two-register permutes, vpermt2ps, per 32 columns), the left and
/// right padding becoming zeros around them. Output row oh then reads tap (kh, kw) as one contiguous slice of the
/// even or odd half of padded row 2·oh + kh·dh, so each tap of 16 outputs is one load and one fused multiply-add,
/// however narrow the rows (MobileNet's 14- and 7-wide outputs lose nothing to edge handling), and each split row
/// serves every kernel row that reads it. A Relu or Clip is applied before the store. Other tiers call
/// <see cref="Convolution.Depthwise2D"/>.
/// </summary>
public static class DepthwiseStride2
{
    /// <summary>True for geometries this kernel computes: rank 2, stride 2 in both dimensions.</summary>
    public static bool Supports(int[] geometry)
    {
        var w = new Window(geometry);
        return w.Rank == 2 && w.Stride(0) == 2 && w.Stride(1) == 2;
    }

    /// <summary>
    /// Floats of scratch <see cref="Convolve"/> needs: the even halves of the padded rows (PaddedHeight rows of
    /// <see cref="RowStride"/> floats), then the odd halves; or what <see cref="Convolution.Depthwise2D"/> needs on the
    /// tiers that call it, whichever is larger.
    /// </summary>
    public static int ScratchSize(int[] geometry)
    {
        var window = new Window(geometry);
        return Math.Max(2 * PaddedHeight(window) * RowStride(window), Convolution.Depthwise2DScratchSize(geometry));
    }

    /// <summary>Rows of the zero-padded image the outputs read: (OH − 1)·2 + (KH − 1)·dh + 1.</summary>
    static int PaddedHeight(Window window) => (window.Output(0) - 1) * 2 + (window.Kernel(0) - 1) * window.Dilation(0) + 1;

    /// <summary>
    /// Floats the outputs read per even or odd half row (the pitch): whole vectors covering the output row plus the
    /// farthest tap shift, ⌊(KW−1)·dw / 2⌋.
    /// </summary>
    static int Pitch(Window window)
    {
        int blocks = (window.Output(1) + 15) / 16, shift = (window.Kernel(1) - 1) * window.Dilation(1) / 2;
        return (16 * blocks + shift + 15) / 16 * 16;
    }

    /// <summary>
    /// Floats from one half row to the next: the pitch plus room for the zeros of the left padding, ⌈padLeft / 2⌉, in
    /// front of the copied columns and for the last whole-vector store past the pitch, so that no row's stores reach
    /// the next row and the zeros (padding rows, left padding) are written once per call.
    /// </summary>
    static int RowStride(Window window)
    {
        int pitch = Pitch(window), lead = Math.Min((window.PadBegin(1) + 1) / 2, pitch);
        return pitch + (lead + 15) / 16 * 16 + 16;
    }

    /// <summary>
    /// y[c] = activation(bias[c] + Σ taps w[c, kh, kw] · x[c] at 2·(oh, ow) + tap − pads); weights in ONNX layout
    /// <c>[C, 1, KH, KW]</c>, an empty bias means none. <paramref name="scratch"/> holds <see cref="ScratchSize"/> floats.
    /// </summary>
    public static unsafe void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int channels, int[] geometry, FusedActivation activation = default)
    {
        if (!Supports(geometry)) throw new ArgumentException("the geometry is not a stride-2 2-D convolution", nameof(geometry));
        if (MatrixMultiply.Tier != GemmTier.Avx512 || !Avx512F.IsSupported)
        {
            Convolution.Depthwise2D(x, weights, bias, y, scratch, batch, channels, geometry, activation);
            return;
        }
        var window = new Window(geometry);
        int inputSize = window.Input(0) * window.Input(1), outputSize = window.Output(0) * window.Output(1), taps = window.Kernel(0) * window.Kernel(1);
        if (scratch.Length < ScratchSize(geometry)) throw new ArgumentException($"scratch has {scratch.Length} elements, fewer than {ScratchSize(geometry)}", nameof(scratch));
        if (weights.Length != channels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {channels}×{taps}", nameof(weights));
        if (x.Length < batch * channels * inputSize || y.Length < batch * channels * outputSize)
            throw new ArgumentException($"x or y is too short for {batch} images of {channels} channels");
        var g = new Geometry(window, Pitch(window), RowStride(window), PaddedHeight(window));
        bool clamp = activation.IsClamp(out float low, out float high);
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* py = y)
        fixed (float* ps = scratch)
        {
            // Rows of the top and bottom padding and the left padding's columns stay zero: SplitRows never writes them.
            long halvesSize = (long)g.PaddedHeight * g.RowStride;
            new Span<float>(ps, checked((int)(2 * halvesSize))).Clear();
            float* evenHalves = ps, oddHalves = ps + halvesSize;
            long* offsets = stackalloc long[taps];
            TapOffsets(g, halvesSize, offsets);
            float* spill = stackalloc float[16];
            for (int n = 0; n < batch; n++)
            {
                for (int c = 0; c < channels; c++)
                {
                    float* plane = px + (long)(n * channels + c) * inputSize, output = py + (long)(n * channels + c) * outputSize;
                    SplitRows(plane, g, evenHalves, oddHalves);
                    Outputs(evenHalves, offsets, pw + (long)c * taps, bias.IsEmpty ? 0f : bias[c], output, py + y.Length, spill, g,
                        clamp ? low : float.NegativeInfinity, clamp ? high : float.PositiveInfinity);
                    if (!clamp) activation.Apply(new Span<float>(output, outputSize));
                }
            }
        }
    }

    /// <summary>The window's numbers the two loops read, unpacked once per call.</summary>
    readonly struct Geometry
    {
        public readonly int Height, Width, OutputHeight, OutputWidth, KernelHeight, KernelWidth, DilationHeight, DilationWidth, PadTop, PadLeft;
        public readonly int Pitch, RowStride, PaddedHeight;

        public Geometry(Window window, int pitch, int rowStride, int paddedHeight)
        {
            Height = window.Input(0); Width = window.Input(1);
            OutputHeight = window.Output(0); OutputWidth = window.Output(1);
            KernelHeight = window.Kernel(0); KernelWidth = window.Kernel(1);
            DilationHeight = window.Dilation(0); DilationWidth = window.Dilation(1);
            PadTop = window.PadBegin(0); PadLeft = window.PadBegin(1);
            Pitch = pitch;
            RowStride = rowStride;
            PaddedHeight = paddedHeight;
        }
    }

    /// <summary>
    /// Padded row r of the channel (input row r − padTop) as its even columns at evens + r·stride and its odd columns
    /// at odds + r·stride, padded column p = input column p − padLeft; the padding rows and columns are the zeros the
    /// caller cleared. Input rows are read straight from x, the last partial block with masked loads (columns past
    /// the row read as zeros and never fault): no copy of the row is stored first, since a store that a wider load then
    /// reads back stalls store forwarding.
    /// </summary>
    static unsafe void SplitRows(float* plane, in Geometry g, float* evenHalves, float* oddHalves)
    {
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        // Half b holds padded column 2q + b = input column 2q + b − padLeft: from q = lead[b] on, input columns
        // start[b] + 2q' (start 0 or 1, so the evens or the odds of the input row) land at lead[b] + q'.
        int leadEven = Math.Min((g.PadLeft + 1) / 2, g.Pitch), leadOdd = Math.Min(g.PadLeft / 2, g.Pitch);
        bool evenTakesOdds = (g.PadLeft & 1) == 1;
        float* evensTo = evenTakesOdds ? oddHalves + leadOdd : evenHalves + leadEven;
        float* oddsTo = evenTakesOdds ? evenHalves + leadEven : oddHalves + leadOdd;
        // Blocks of 32 input columns cover both halves up to the pitch; the stores past it land in the row's spare room.
        // Blocks wholly past the row's end would store zeros over the zeros the caller cleared: they are skipped.
        int blocks = Math.Min((g.Pitch + 15) / 16, (g.Width + 31) / 32), fullBlocks = Math.Min(blocks, g.Width / 32);
        int firstRow = Math.Max(0, g.PadTop), endRow = Math.Min(g.PaddedHeight, g.PadTop + g.Height);
        for (int r = firstRow; r < endRow; r++)
        {
            float* row = plane + (long)(r - g.PadTop) * g.Width, toEvens = evensTo + (long)r * g.RowStride, toOdds = oddsTo + (long)r * g.RowStride;
            int k = 0;
            for (; k < fullBlocks; k++, row += 32)
            {
                var first = Vector512.Load(row);
                var second = Vector512.Load(row + 16);
                Avx512F.PermuteVar16x32x2(first, evens, second).Store(toEvens + 16 * k);
                Avx512F.PermuteVar16x32x2(first, odds, second).Store(toOdds + 16 * k);
            }
            for (; k < blocks; k++, row += 32)
            {
                int remaining = g.Width - 32 * k;
                var first = Avx512F.MaskLoad(row, Vector512.LessThan(lanes, Vector512.Create(remaining)).AsSingle(), Vector512<float>.Zero);
                var second = Avx512F.MaskLoad(row + 16, Vector512.LessThan(lanes, Vector512.Create(remaining - 16)).AsSingle(), Vector512<float>.Zero);
                Avx512F.PermuteVar16x32x2(first, evens, second).Store(toEvens + 16 * k);
                Avx512F.PermuteVar16x32x2(first, odds, second).Store(toOdds + 16 * k);
            }
        }
    }

    /// <summary>
    /// Where tap (kh, kw) reads, from an output row's even half row: the (kw·dw) mod 2 half (the odd halves follow the
    /// even ones, <paramref name="oddOffset"/> floats on) of padded row kh·dh further down, column ⌊kw·dw / 2⌋ further on.
    /// </summary>
    static unsafe void TapOffsets(in Geometry g, long oddOffset, long* offsets)
    {
        for (int kh = 0, t = 0; kh < g.KernelHeight; kh++)
        {
            for (int kw = 0; kw < g.KernelWidth; kw++, t++)
            {
                int column = kw * g.DilationWidth;
                offsets[t] = (column & 1) * oddOffset + (long)kh * g.DilationHeight * g.RowStride + (column >> 1);
            }
        }
    }

    /// <summary>
    /// Every output row, 16 outputs at a time: output row oh reads its taps at <paramref name="offsets"/> (see
    /// <see cref="TapOffsets"/>) from the even half of padded row 2·oh.
    /// </summary>
    static unsafe void Outputs(float* evenHalves, long* offsets, float* filter, float start, float* output, float* yEnd, float* spill, in Geometry g,
        float low, float high)
    {
        int taps = g.KernelHeight * g.KernelWidth;
        Vector512<float> floor = Vector512.Create(low), ceiling = Vector512.Create(high), bias = Vector512.Create(start);
        int outputWidth = g.OutputWidth, outputHeight = g.OutputHeight;
        long down = 2L * g.RowStride;
        // Four output rows at a time: four independent chains of fused multiply-adds share each weight, where one row
        // alone waits on the FMA latency at every tap (a 7-wide row is a single vector). The last group overlaps the
        // one before; its rows get the same values again.
        int group = outputHeight >= 4 ? 4 : 1;
        for (int oh = 0; ; oh += group)
        {
            if (oh > outputHeight - group) oh = outputHeight - group;
            float* target = output + (long)oh * outputWidth, rows = evenHalves + oh * down;
            // Blocks right to left: a row's last block spills into the next row's first, which must come after it.
            for (int j = (outputWidth - 1) / 16 * 16; j >= 0; j -= 16)
            {
                if (group == 4)
                {
                    Vector512<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias;
                    for (int t = 0; t < taps; t++)
                    {
                        var weight = Vector512.Create(filter[t]);
                        float* tap = rows + j + offsets[t];
                        s0 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(tap), s0);
                        s1 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(tap + down), s1);
                        s2 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(tap + 2 * down), s2);
                        s3 = Vector512.FusedMultiplyAdd(weight, Vector512.Load(tap + 3 * down), s3);
                    }
                    Store(Lanes512.Clamp(s0, floor, ceiling), target + j, outputWidth - j, yEnd, spill);
                    Store(Lanes512.Clamp(s1, floor, ceiling), target + outputWidth + j, outputWidth - j, yEnd, spill);
                    Store(Lanes512.Clamp(s2, floor, ceiling), target + 2 * outputWidth + j, outputWidth - j, yEnd, spill);
                    Store(Lanes512.Clamp(s3, floor, ceiling), target + 3 * outputWidth + j, outputWidth - j, yEnd, spill);
                }
                else
                {
                    var sum = bias;
                    for (int t = 0; t < taps; t++) sum = Vector512.FusedMultiplyAdd(Vector512.Create(filter[t]), Vector512.Load(rows + j + offsets[t]), sum);
                    Store(Lanes512.Clamp(sum, floor, ceiling), target + j, outputWidth - j, yEnd, spill);
                }
            }
            if (oh == outputHeight - group) break;
        }
    }

    /// <summary>
    /// Stores the first min(16, <paramref name="count"/>) lanes at <paramref name="target"/>: the whole vector when it
    /// ends inside y (what it writes past the row is the next row's or channel's, written later), else through
    /// <paramref name="spill"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Store(Vector512<float> sum, float* target, int count, float* yEnd, float* spill)
    {
        if (target + 16 <= yEnd)
        {
            sum.Store(target);
            return;
        }
        sum.Store(spill);
        for (int i = 0; i < Math.Min(16, count); i++) target[i] = spill[i];
    }
}
