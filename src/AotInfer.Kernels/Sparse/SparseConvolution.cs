using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// y = W ⊛ x + b for an ungrouped convolution whose constant weights are mostly zero (<see cref="SparseFilter"/>): each
/// output channel's plane is the sum of its non-zero weights times their input rows, one vector multiply-add per
/// non-zero weight and 16 output pixels rather than per weight.
/// </summary>
/// <remarks>
/// The input rows come from one of three matrices (<see cref="Source"/>). A 1×1 stride-1 unpadded window reads the
/// image in place. Other stride-1 2-D windows read a zero-bordered copy of the image: output (oh, ow) of tap (kh, kw)
/// reads bordered pixel (oh + kh·dh, ow + kw·dw), so with outputs numbered oh·Wp + ow over the bordered width Wp every
/// tap's row is one contiguous run of the copy starting at kh·dh·Wp + kw·dw (the Wp − OW columns past each output row
/// are computed and dropped). Other windows gather the im2col column matrix. Output pixels go in tiles of four
/// vectors kept in registers while a channel's non-zeros stream by (one broadcast weight, four loads). Bias, a fused
/// residual and the activation follow in one pass per output row, as in the dense convolutions. Three tiers: AVX-512,
/// AVX2 + FMA and portable scalar code, the reference the tests compare the others with; <see cref="Tier"/> can force
/// a lower one. No call allocates.
/// </remarks>
public static unsafe class SparseConvolution
{
    /// <summary>Where the input rows of the non-zero weights are read.</summary>
    public enum Source
    {
        /// <summary>The image itself (1×1, stride 1, no padding): row c is channel c.</summary>
        Image,
        /// <summary>A zero-bordered copy of the image (other stride-1 2-D windows): rows are shifted runs of it.</summary>
        BorderedImage,
        /// <summary>The im2col column matrix (every other window): row c·taps + tap.</summary>
        Columns,
    }

    /// <summary>The best tier this CPU supports.</summary>
    public static GemmTier BestTier => SparseTiers.Best;

    static GemmTier s_tier = BestTier;

    /// <summary>
    /// The tier in use: <see cref="GemmTier.Avx512"/>, <see cref="GemmTier.Fma256"/> or <see cref="GemmTier.Scalar"/>
    /// (a request is lowered to the best supported tier at or below it). For tests and benchmarks.
    /// </summary>
    public static GemmTier Tier
    {
        get => s_tier;
        set => s_tier = SparseTiers.Supported(value);
    }

    /// <summary>Output pixels per register tile (four 16-lane vectors); the bordered image and the wide row are padded to whole tiles.</summary>
    const int Tile = 64;

    /// <summary>
    /// The scratch <see cref="Convolve"/> needs: nothing for the image in place; the bordered image plus one tile of
    /// slack, and one wide output row (OH·Wp rounded up to whole tiles); or the im2col column matrix.
    /// </summary>
    public static int ScratchSize(int inChannels, int[] geometry)
    {
        var window = new Window(geometry);
        return SourceOf(window) switch
        {
            Source.Image => 0,
            Source.BorderedImage => inChannels * BorderedPlane(window) + Tile + RoundUp(WideLength(window)),
            _ => inChannels * window.KernelSize * window.OutputSize,
        };
    }

    /// <summary>
    /// y = W ⊛ x + b over <paramref name="batch"/> images of the filter's input channels (NCHW); <paramref name="scratch"/>
    /// holds at least <see cref="ScratchSize"/> floats; an empty <paramref name="bias"/> means none; a non-empty
    /// <paramref name="residual"/> (laid out like y) is added before the activation.
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, SparseFilter filter, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, FusedActivation activation = default, ReadOnlySpan<float> residual = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var window = new Window(filter.Geometry);
        int inChannels = filter.InChannels, outChannels = filter.OutChannels, inputSize = window.InputSize, outputSize = window.OutputSize;
        if (x.Length < batch * inChannels * inputSize) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inChannels}×{inputSize}", nameof(x));
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{outputSize}", nameof(y));
        if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException($"bias has {bias.Length} elements, expected {outChannels}", nameof(bias));
        int scratchSize = ScratchSize(inChannels, filter.Geometry);
        if (scratch.Length < scratchSize) throw new ArgumentException($"scratch has {scratch.Length} elements, fewer than {scratchSize}", nameof(scratch));
        var tier = s_tier;
        bool bordered = filter.Source == Source.BorderedImage;
        // Rows of the source are this long: output pixels, or output rows at the bordered width.
        int length = bordered ? WideLength(window) : outputSize;
        Span<float> wide = bordered ? scratch.Slice(inChannels * BorderedPlane(window) + Tile, RoundUp(length)) : default;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<float> image = x.Slice(n * inChannels * inputSize, inChannels * inputSize);
            ReadOnlySpan<float> source = filter.Source switch
            {
                Source.Image => image,
                Source.BorderedImage => Border(image, inChannels, window, scratch),
                _ => Gather(image, inChannels, window, scratch),
            };
            Span<float> output = y.Slice(n * outChannels * outputSize, outChannels * outputSize);
            fixed (float* matrix = source)
            fixed (float* py = output)
            fixed (float* pw = wide)
            fixed (int* start = filter.RowStart)
            fixed (int* offsets = filter.Offsets)
            fixed (float* values = filter.Values)
            {
                for (int o = 0; o < outChannels; o++)
                {
                    float* row = bordered ? pw : py + (long)o * outputSize;
                    // The bordered image has a tile of slack: its rows can be read in whole vectors.
                    int end = bordered ? (length + 15) / 16 * 16 : length;
                    Row(tier, matrix, offsets, values, start[o], start[o + 1], row, end);
                    // Without a residual, bias and activation go over the channel's whole row at once (the wide row's
                    // dropped columns included: cheaper than one call per output row).
                    if (residual.IsEmpty) activation.Apply(new Span<float>(row, length), bias.IsEmpty ? 0f : bias[o]);
                    if (bordered) Compact(pw, window, py + (long)o * outputSize);
                }
            }
            if (!residual.IsEmpty)
                Convolution.Convolution.AddBias(output, bias, 0, outChannels, outputSize, activation,
                    Convolution.Convolution.ResidualSlice(residual, n * outChannels * outputSize, output.Length));
        }
    }

    /// <summary>The source a window reads its input rows from.</summary>
    internal static Source SourceOf(Window window)
    {
        bool unit = true, stride1 = true;
        for (int d = 0; d < window.Rank; d++)
        {
            unit &= window.Kernel(d) == 1 && window.PadBegin(d) == 0 && window.PadEnd(d) == 0;
            stride1 &= window.Stride(d) == 1;
        }
        return unit && stride1 ? Source.Image : stride1 && window.Rank == 2 ? Source.BorderedImage : Source.Columns;
    }

    /// <summary>Where the input row of input channel <paramref name="channel"/> and tap <paramref name="tap"/> starts in <paramref name="source"/>.</summary>
    internal static int RowOffset(Window window, Source source, int channel, int tap) => source switch
    {
        Source.Image => channel * window.InputSize,
        Source.BorderedImage => channel * BorderedPlane(window) + tap / window.Kernel(1) * window.Dilation(0) * BorderedWidth(window) + tap % window.Kernel(1) * window.Dilation(1),
        _ => (channel * window.KernelSize + tap) * window.OutputSize,
    };

    static int BorderedWidth(Window w) => w.Input(1) + w.PadBegin(1) + w.PadEnd(1);

    static int BorderedPlane(Window w) => (w.Input(0) + w.PadBegin(0) + w.PadEnd(0)) * BorderedWidth(w);

    /// <summary>Output rows at the bordered width, the last one only as wide as the output.</summary>
    static int WideLength(Window w) => (w.Output(0) - 1) * BorderedWidth(w) + w.Output(1);

    static int RoundUp(int length) => (length + Tile - 1) / Tile * Tile;

    /// <summary>The zero-bordered copy of the image in <paramref name="scratch"/> (with a zero tile of slack after it).</summary>
    static ReadOnlySpan<float> Border(ReadOnlySpan<float> image, int channels, Window w, Span<float> scratch)
    {
        int height = w.Input(0), width = w.Input(1), paddedWidth = BorderedWidth(w), plane = BorderedPlane(w);
        Span<float> bordered = scratch.Slice(0, channels * plane + Tile);
        bordered.Clear();
        fixed (float* from = image)
        fixed (float* to = bordered)
        {
            for (int c = 0; c < channels; c++)
                for (int h = 0; h < height; h++)
                    CopyRow(from + (c * height + h) * width, to + c * plane + (h + w.PadBegin(0)) * paddedWidth + w.PadBegin(1), width);
        }
        return bordered;
    }

    static ReadOnlySpan<float> Gather(ReadOnlySpan<float> image, int channels, Window w, Span<float> scratch)
    {
        Span<float> columns = scratch.Slice(0, channels * w.KernelSize * w.OutputSize);
        ColumnBuffer.Gather(image, channels, w, columns);
        return columns;
    }

    /// <summary>Drops the Wp − OW computed columns past each output row of the wide row.</summary>
    static void Compact(float* wide, Window w, float* output)
    {
        int rows = w.Output(0), width = w.Output(1), stride = BorderedWidth(w);
        for (int r = 0; r < rows; r++) CopyRow(wide + r * stride, output + r * width, width);
    }

    /// <summary>Copies one image row; rows are often narrow (4 to 16 pixels), so plain vector copies, no call per row.</summary>
    static void CopyRow(float* from, float* to, int width)
    {
        int c = 0;
        for (; c + 8 <= width; c += 8) Vector256.Store(Vector256.Load(from + c), to + c);
        for (; c < width; c++) to[c] = from[c];
    }

    /// <summary>
    /// row[0 .. length) = Σ over entries e of values[e] · matrix[offsets[e] + 0 .. length). Tiles of 64, then 32 and
    /// 16 pixels on AVX-512 (AVX2: 32, 16 and 8), then single pixels; <paramref name="length"/> is a multiple of 16 when
    /// the source has slack.
    /// </summary>
    static void Row(GemmTier tier, float* matrix, int* offsets, float* values, int from, int to, float* row, int length)
    {
        int p = 0;
        if (tier == GemmTier.Avx512)
        {
            for (; p + 64 <= length; p += 64) Tile64(matrix + p, offsets, values, from, to, row + p);
            if (p + 32 <= length) { Tile32(matrix + p, offsets, values, from, to, row + p); p += 32; }
            if (p + 16 <= length) { Tile16(matrix + p, offsets, values, from, to, row + p); p += 16; }
        }
        else if (tier == GemmTier.Fma256)
        {
            for (; p + 32 <= length; p += 32) Tile256(matrix + p, offsets, values, from, to, row + p, 4);
            if (p + 16 <= length) { Tile256(matrix + p, offsets, values, from, to, row + p, 2); p += 16; }
            if (p + 8 <= length) { Tile256(matrix + p, offsets, values, from, to, row + p, 1); p += 8; }
        }
        for (; p < length; p++)
        {
            float sum = 0;
            for (int e = from; e < to; e++) sum += values[e] * matrix[offsets[e] + p];
            row[p] = sum;
        }
    }

    // The multiply-adds of one entry depend on the previous entry's through the sums; two entries per iteration with
    // their own sums keep eight chains in flight, enough to cover the FMA latency at two per cycle.

    /// <summary>64 output pixels: four 16-lane sums (two sets) over the channel's non-zeros.</summary>
    static void Tile64(float* matrix, int* offsets, float* values, int from, int to, float* output)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int e = from;
        for (; e + 2 <= to; e += 2)
        {
            Vector512<float> w = Vector512.Create(values[e]), v = Vector512.Create(values[e + 1]);
            float* r = matrix + offsets[e];
            float* q = matrix + offsets[e + 1];
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r), w, a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 16), w, a1);
            a2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 32), w, a2);
            a3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 48), w, a3);
            b0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q), v, b0);
            b1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + 16), v, b1);
            b2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + 32), v, b2);
            b3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + 48), v, b3);
        }
        if (e < to)
        {
            var w = Vector512.Create(values[e]);
            float* r = matrix + offsets[e];
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r), w, a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 16), w, a1);
            a2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 32), w, a2);
            a3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 48), w, a3);
        }
        Avx512F.Store(output, a0 + b0);
        Avx512F.Store(output + 16, a1 + b1);
        Avx512F.Store(output + 32, a2 + b2);
        Avx512F.Store(output + 48, a3 + b3);
    }

    /// <summary>32 output pixels: two 16-lane sums, four entries per iteration.</summary>
    static void Tile32(float* matrix, int* offsets, float* values, int from, int to, float* output)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        int e = from;
        for (; e + 4 <= to; e += 4)
        {
            float* r = matrix + offsets[e];
            float* q = matrix + offsets[e + 1];
            float* t = matrix + offsets[e + 2];
            float* u = matrix + offsets[e + 3];
            Vector512<float> w = Vector512.Create(values[e]), v = Vector512.Create(values[e + 1]);
            Vector512<float> x = Vector512.Create(values[e + 2]), z = Vector512.Create(values[e + 3]);
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r), w, a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 16), w, a1);
            b0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q), v, b0);
            b1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(q + 16), v, b1);
            c0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(t), x, c0);
            c1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(t + 16), x, c1);
            d0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(u), z, d0);
            d1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(u + 16), z, d1);
        }
        for (; e < to; e++)
        {
            var w = Vector512.Create(values[e]);
            float* r = matrix + offsets[e];
            a0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r), w, a0);
            a1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(r + 16), w, a1);
        }
        Avx512F.Store(output, (a0 + b0) + (c0 + d0));
        Avx512F.Store(output + 16, (a1 + b1) + (c1 + d1));
    }

    /// <summary>16 output pixels: one 16-lane sum, four entries per iteration.</summary>
    static void Tile16(float* matrix, int* offsets, float* values, int from, int to, float* output)
    {
        Vector512<float> a = Vector512<float>.Zero, b = a, c = a, d = a;
        int e = from;
        for (; e + 4 <= to; e += 4)
        {
            a = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(matrix + offsets[e]), Vector512.Create(values[e]), a);
            b = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(matrix + offsets[e + 1]), Vector512.Create(values[e + 1]), b);
            c = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(matrix + offsets[e + 2]), Vector512.Create(values[e + 2]), c);
            d = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(matrix + offsets[e + 3]), Vector512.Create(values[e + 3]), d);
        }
        for (; e < to; e++) a = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(matrix + offsets[e]), Vector512.Create(values[e]), a);
        Avx512F.Store(output, (a + b) + (c + d));
    }

    /// <summary>8·<paramref name="vectors"/> output pixels (1, 2 or 4 vectors), two entries per iteration.</summary>
    static void Tile256(float* matrix, int* offsets, float* values, int from, int to, float* output, int vectors)
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int e = from;
        for (; e + 2 <= to; e += 2)
        {
            Vector256<float> w = Vector256.Create(values[e]), v = Vector256.Create(values[e + 1]);
            float* r = matrix + offsets[e];
            float* q = matrix + offsets[e + 1];
            a0 = Fma.MultiplyAdd(Avx.LoadVector256(r), w, a0);
            b0 = Fma.MultiplyAdd(Avx.LoadVector256(q), v, b0);
            if (vectors == 1) continue;
            a1 = Fma.MultiplyAdd(Avx.LoadVector256(r + 8), w, a1);
            b1 = Fma.MultiplyAdd(Avx.LoadVector256(q + 8), v, b1);
            if (vectors == 2) continue;
            a2 = Fma.MultiplyAdd(Avx.LoadVector256(r + 16), w, a2);
            a3 = Fma.MultiplyAdd(Avx.LoadVector256(r + 24), w, a3);
            b2 = Fma.MultiplyAdd(Avx.LoadVector256(q + 16), v, b2);
            b3 = Fma.MultiplyAdd(Avx.LoadVector256(q + 24), v, b3);
        }
        if (e < to)
        {
            var w = Vector256.Create(values[e]);
            float* r = matrix + offsets[e];
            a0 = Fma.MultiplyAdd(Avx.LoadVector256(r), w, a0);
            if (vectors > 1) a1 = Fma.MultiplyAdd(Avx.LoadVector256(r + 8), w, a1);
            if (vectors > 2)
            {
                a2 = Fma.MultiplyAdd(Avx.LoadVector256(r + 16), w, a2);
                a3 = Fma.MultiplyAdd(Avx.LoadVector256(r + 24), w, a3);
            }
        }
        Avx.Store(output, a0 + b0);
        if (vectors > 1) Avx.Store(output + 8, a1 + b1);
        if (vectors > 2)
        {
            Avx.Store(output + 16, a2 + b2);
            Avx.Store(output + 24, a3 + b3);
        }
    }
}
