using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Depthwise 2-D convolution (one input and one output channel per group) vectorised across channels, for the small
/// and narrow planes where a vector along a row runs mostly empty (DS-CNN's 25×5, MobileNet's 14×14 and 7×7): a block
/// of L channels (16 with AVX-512, 8 with AVX2) is transposed into a zero-bordered, channel-interleaved copy of the
/// plane (pixel-major, one vector per pixel), every output pixel is then one fused multiply-add per tap with the
/// block's tap weights held in registers, whatever the width, stride or dilation, and L output pixels at a time go
/// back to NCHW through an in-register L×L transpose, a Relu or Clip (MobileNet's Relu6) applied before the store.
/// Either side may instead be in the <see cref="Nchw16c"/> layout, whose blocks are the interleaved pixels already: a
/// blocked input's rows are copied into the band (no transpose) and a blocked output is written in place (AVX-512) or
/// copied out pixel by pixel, so a chain of depthwise and pointwise layers pays no transposes between them.
/// The tiers below AVX2 call <see cref="Convolution.Depthwise2D"/> for NCHW on both sides; with an NCHW16c side the
/// 128-bit tier (SSE, NEON) runs this kernel 4 channels at a time and the scalar tier a plain loop.
/// </summary>
public static unsafe class DepthwiseChannelInterleaved
{
    /// <summary>True for geometries this kernel computes: rank 2, any stride, dilation and padding.</summary>
    public static bool Supports(int[] geometry) => new Window(geometry).Rank == 2;

    /// <summary>
    /// Floats of scratch <see cref="Convolve"/>
    /// needs: a band's interleaved padded rows (PaddedWidth + 1 pixels of 16 floats each), its interleaved outputs (at
    /// least 16 pixels) and an offset per input pixel of its rows; or what <see cref="Convolution.Depthwise2D"/> needs on the tiers that call it,
    /// whichever is larger.
    /// </summary>
    public static int ScratchSize(int[] geometry)
    {
        return Math.Max(new ScratchLayout(new Window2D(new Window(geometry)), Vector512<float>.Count).Size, Convolution.Depthwise2DScratchSize(geometry));
    }

    /// <summary>
    /// y[c] = activation(bias[c] + Σ taps w[c, kh, kw] · x[c] at (oh·sh + kh·dh − padTop, ow·sw + kw·dw − padLeft)) for
    /// each of <paramref name="channels"/> channels of each image; weights in ONNX layout <c>[C, 1, KH, KW]</c>, an
    /// empty bias means none. <paramref name="scratch"/> holds <see cref="ScratchSize"/> floats. x is in
    /// <see cref="Nchw16c"/> when <paramref name="blockedInput"/>, y when <paramref name="blockedOutput"/> (then the
    /// channels must be a multiple of 16), NCHW otherwise.
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int channels, int[] geometry, FusedActivation activation = default, bool blockedInput = false, bool blockedOutput = false)
    {
        if (!Supports(geometry)) throw new ArgumentException("the geometry is not a 2-D convolution", nameof(geometry));
        var window = new Window2D(new Window(geometry));
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth, taps = window.Taps;
        if (scratch.Length < ScratchSize(geometry)) throw new ArgumentException($"scratch has {scratch.Length} elements, fewer than {ScratchSize(geometry)}", nameof(scratch));
        if (weights.Length != channels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {channels}×{taps}", nameof(weights));
        if (!bias.IsEmpty && bias.Length != channels) throw new ArgumentException($"bias has {bias.Length} elements, expected {channels}", nameof(bias));
        if (x.Length < batch * channels * inputSize || y.Length < batch * channels * outputSize)
            throw new ArgumentException($"x or y is too short for {batch} images of {channels} channels");
        if ((blockedInput || blockedOutput) && channels % Nchw16c.Block != 0)
            throw new ArgumentException($"{channels} channels are not a multiple of {Nchw16c.Block}, which the NCHW16c layout needs", nameof(channels));
        var tier = MatrixMultiply.Tier;
        bool blocked = blockedInput || blockedOutput;
        bool wide = tier == GemmTier.Avx512 && Avx512F.IsSupported, narrow = tier >= GemmTier.Fma256 && Avx2.IsSupported && Fma.IsSupported;
        bool quarter = blocked && tier >= GemmTier.Vector128 && Vector128.IsHardwareAccelerated;
        if (!wide && !narrow && !quarter)
        {
            if (blocked) Reference(x, weights, bias, y, batch, channels, window, activation, blockedInput, blockedOutput);
            else Convolution.Depthwise2D(x, weights, bias, y, scratch, batch, channels, geometry, activation);
            return;
        }
        bool clamp = activation.IsClamp(out float low, out float high);
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* pb = bias)
        fixed (float* py = y)
        fixed (float* ps = scratch)
        {
            var arguments = new Arguments(px, pw, pb, py, ps, batch, channels, clamp ? low : float.NegativeInfinity, clamp ? high : float.PositiveInfinity,
                blockedInput, blockedOutput);
            if (wide) Blocks<Lanes512, Vector512<float>, Transpose16x16>(window, arguments);
            else if (narrow) Blocks<Lanes256, Vector256<float>, Transpose8x8>(window, arguments);
            else Blocks<Lanes128, Vector128<float>, Transpose4x4>(window, arguments);
        }
        if (clamp) return;
        for (int plane = 0; plane < batch * channels; plane++) activation.Apply(y.Slice(plane * outputSize, outputSize));
    }

    /// <summary>The pointers and numbers of one call, passed down as one value.</summary>
    readonly struct Arguments(float* x, float* weights, float* bias, float* y, float* scratch, int batch, int channels, float low, float high,
        bool blockedInput, bool blockedOutput)
    {
        public readonly float* X = x, Weights = weights, Bias = bias, Y = y, Scratch = scratch;
        public readonly int Batch = batch, Channels = channels;
        public readonly float Low = low, High = high;
        public readonly bool BlockedInput = blockedInput, BlockedOutput = blockedOutput;
    }

    /// <summary>
    /// Where the L channels from <paramref name="c0"/> of image <paramref name="n"/> start, and how far apart their
    /// pixels are: planes of <paramref name="size"/> in NCHW, 16-float pixels inside one block in NCHW16c.
    /// </summary>
    static float* Channels(float* tensor, bool blocked, int n, int channels, int c0, int size, out int pixelStride)
    {
        pixelStride = blocked ? Nchw16c.Block : 1;
        long image = (long)n * channels * size;
        return blocked ? tensor + image + Nchw16c.Offset(c0, 0, size) : tensor + image + (long)c0 * size;
    }

    /// <summary>
    /// Every block of L channels of every image, a band of output rows at a time: interleave the padded rows the band
    /// reads, convolve, transpose back. The band keeps its interleaved rows and outputs within about
    /// <see cref="BandBytes"/>, so on MobileNet's 112×112 and 56×56 planes they stay in L2 where a whole interleaved
    /// plane (830 KB at 112×112) leaves it; the rows two bands share are moved up, not interleaved again.
    /// </summary>
    static void Blocks<TLanes, TVector, TTranspose>(in Window2D window, in Arguments a)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct where TTranspose : struct, ISquareTranspose
    {
        int lanes = TLanes.Count, taps = window.Taps, channels = a.Channels;
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth;
        var layout = new ScratchLayout(window, lanes);
        float* padded = a.Scratch, outputs = a.Scratch + layout.Outputs;
        int* offsets = (int*)(a.Scratch + layout.Offsets);
        // The padding columns stay zero: the interleave writes only the pixels that come from the image.
        new Span<float>(padded, layout.Outputs).Clear();
        BandOffsets(window, lanes, layout, offsets);
        // Per block: the tap weights tap-major (w[t·L + lane]) and the bias, zero for lanes past the last channel.
        float* filter = stackalloc float[taps * lanes];
        float* start = stackalloc float[lanes];
        int* taps3 = stackalloc int[taps];
        for (int kh = 0, t = 0; kh < window.KernelHeight; kh++)
            for (int kw = 0; kw < window.KernelWidth; kw++, t++)
                taps3[t] = (kh * window.DilationHeight * layout.Pitch + kw * window.DilationWidth) * lanes;
        var bounds = new Bounds(a.Low, a.High);
        int span = (window.KernelHeight - 1) * window.DilationHeight + 1, stride = window.StrideHeight, band = layout.BandRows;
        long rowFloats = (long)layout.Pitch * lanes;
        for (int c0 = 0; c0 < channels; c0 += lanes)
        {
            int count = Math.Min(lanes, channels - c0);
            if (count < lanes)
            {
                new Span<float>(filter, taps * lanes).Clear();
                new Span<float>(start, lanes).Clear();
            }
            for (int lane = 0; lane < count; lane++)
            {
                float* w = a.Weights + (long)(c0 + lane) * taps;
                for (int t = 0; t < taps; t++) filter[t * lanes + lane] = w[t];
                if (a.Bias != null) start[lane] = a.Bias[c0 + lane];
            }
            for (int n = 0; n < a.Batch; n++)
            {
                float* input = Channels(a.X, a.BlockedInput, n, channels, c0, inputSize, out int inputStride);
                float* output = Channels(a.Y, a.BlockedOutput, n, channels, c0, outputSize, out int outputStride);
                // With AVX-512 a block of the NCHW16c output is the kernel's interleaved output: written in place.
                bool inPlace = a.BlockedOutput && lanes == Nchw16c.Block;
                // The band reads padded rows [top, end); those before `filled` are in the scratch from the band before,
                // at its row top − band·stride.
                int filled = 0;
                for (int oh0 = 0; oh0 < window.OutputHeight; oh0 += band)
                {
                    int rows = Math.Min(band, window.OutputHeight - oh0), top = oh0 * stride, end = (oh0 + rows - 1) * stride + span;
                    int kept = Math.Max(filled - top, 0);
                    long keptBytes = kept * rowFloats * sizeof(float);
                    if (kept > 0) Buffer.MemoryCopy(padded + band * stride * rowFloats, padded, keptBytes, keptBytes);
                    FillRows<TLanes, TVector, TTranspose>(window, input, inputStride, count, lanes, rowFloats, top, top + kept, end, offsets, padded);
                    filled = end;
                    int pixels = rows * window.OutputWidth;
                    float* convolved = inPlace ? output + (long)oh0 * window.OutputWidth * lanes : outputs;
                    if (taps == 9 && window.KernelHeight == 3) Convolve3x3<TLanes, TVector>(padded, filter, start, taps3, window, rowFloats, rows, bounds, convolved);
                    else Convolve<TLanes, TVector>(padded, filter, start, taps3, taps, window, rowFloats, rows, bounds, convolved);
                    if (a.BlockedOutput && !inPlace) Move<TLanes, TVector>(outputs, lanes, output + (long)oh0 * window.OutputWidth * outputStride, outputStride, pixels);
                    else if (!a.BlockedOutput) Deinterleave<TTranspose>(outputs, lanes, pixels, output + oh0 * window.OutputWidth, outputSize, count);
                }
            }
        }
    }

    /// <summary>About how many bytes of interleaved rows and outputs one band holds (a share of Zen 5's 1 MB L2).</summary>
    const int BandBytes = 256 * 1024;

    /// <summary>
    /// How many output rows one band computes and where the scratch's parts start, in floats: the band's padded rows of
    /// L-float pixels, each row one pixel longer than the padded width (where the image pixels past the extent the
    /// outputs read go), the band's convolved pixels (at least L), the offsets of the image pixels of a band's rows (ints).
    /// </summary>
    readonly struct ScratchLayout
    {
        public readonly int Pitch, BandRows, OffsetRows, Outputs, Offsets, Size;

        public ScratchLayout(in Window2D window, int lanes)
        {
            int span = (window.KernelHeight - 1) * window.DilationHeight + 1;
            Pitch = window.PaddedWidth + 1;
            // Rows counted in 16-float pixels on every tier, so the 8-float tiers need no more scratch than the 16-float one.
            long bytesPerRow = ((long)window.StrideHeight * Pitch + window.OutputWidth) * 16 * sizeof(float);
            BandRows = (int)Math.Clamp(BandBytes / bytesPerRow, 1, window.OutputHeight);
            int paddedRows = (BandRows - 1) * window.StrideHeight + span;
            OffsetRows = Math.Min(paddedRows, window.InputHeight);
            Outputs = paddedRows * Pitch * lanes;
            Offsets = Outputs + Math.Max(BandRows * window.OutputWidth, lanes) * lanes;
            Size = Offsets + OffsetRows * window.InputWidth;
        }
    }

    /// <summary>
    /// offsets[p] = where image pixel p = (r, col) of a run of rows goes, relative to the run's first row in the band:
    /// (r·Pitch + col + padLeft)·L, or the row's extra pixel when it lies past the padded width.
    /// </summary>
    static void BandOffsets(in Window2D window, int lanes, in ScratchLayout layout, int* offsets)
    {
        for (int r = 0, p = 0; r < layout.OffsetRows; r++)
            for (int col = 0; col < window.InputWidth; col++, p++)
                offsets[p] = (r * layout.Pitch + Math.Min(col + window.PadLeft, window.PaddedWidth)) * lanes;
    }

    /// <summary>
    /// Fills padded rows [<paramref name="from"/>, <paramref name="end"/>) of the band that starts at padded row
    /// <paramref name="top"/>: the image's rows interleaved, the padding rows zeroed.
    /// </summary>
    static void FillRows<TLanes, TVector, TTranspose>(in Window2D window, float* planes, int pixelStride, int count, int lanes, long rowFloats, int top, int from, int end,
        int* offsets, float* padded)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct where TTranspose : struct, ISquareTranspose
    {
        int first = Math.Clamp(from - window.PadTop, 0, window.InputHeight), last = Math.Clamp(end - window.PadTop, first, window.InputHeight);
        for (int row = from; row < end; row++)
        {
            int r = row - window.PadTop;
            if (r < first || r >= last) new Span<float>(padded + (row - top) * rowFloats, (int)rowFloats).Clear();
        }
        if (first == last) return;
        float* target = padded + (first + window.PadTop - top) * rowFloats;
        if (pixelStride == 1)
            Interleave<TTranspose>(planes + (long)first * window.InputWidth, window.InputHeight * window.InputWidth, (last - first) * window.InputWidth, count, lanes, offsets, target);
        else
        {
            // NCHW16c rows are interleaved rows already (AVX2 takes 8 of each pixel's 16 channels): copied a vector per
            // pixel, up to the padded width the outputs read (a call per row costs more on DS-CNN's 5-pixel rows).
            int width = Math.Clamp(window.PaddedWidth - window.PadLeft, 0, window.InputWidth);
            for (int r = 0; r < last - first; r++)
            {
                float* source = planes + ((long)first + r) * window.InputWidth * pixelStride, row = target + r * rowFloats + window.PadLeft * lanes;
                for (int col = 0; col < width; col++) TLanes.Store(TLanes.Load(source + (long)col * pixelStride), row + col * lanes);
            }
        }
    }

    /// <summary>target pixel q (<paramref name="pixelStride"/> floats apart) = the q-th L-float pixel of <paramref name="outputs"/>.</summary>
    static void Move<TLanes, TVector>(float* outputs, int lanes, float* target, int pixelStride, int pixels) where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        for (int q = 0; q < pixels; q++) TLanes.Store(TLanes.Load(outputs + (long)q * lanes), target + (long)q * pixelStride);
    }

    /// <summary>
    /// The portable reference for an NCHW16c side on the scalar tier: one output at a time, the taps that fall
    /// outside the image skipped.
    /// </summary>
    static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, int batch, int channels,
        in Window2D window, FusedActivation activation, bool blockedInput, bool blockedOutput)
    {
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth, taps = window.Taps;
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int oh = 0; oh < window.OutputHeight; oh++)
                    for (int ow = 0; ow < window.OutputWidth; ow++)
                    {
                        float sum = bias.IsEmpty ? 0f : bias[c];
                        for (int kh = 0; kh < window.KernelHeight; kh++)
                        {
                            int ih = oh * window.StrideHeight + kh * window.DilationHeight - window.PadTop;
                            if ((uint)ih >= (uint)window.InputHeight) continue;
                            for (int kw = 0; kw < window.KernelWidth; kw++)
                            {
                                int iw = ow * window.StrideWidth + kw * window.DilationWidth - window.PadLeft;
                                if ((uint)iw >= (uint)window.InputWidth) continue;
                                sum += weights[c * taps + kh * window.KernelWidth + kw] * x[Index(blockedInput, n, c, ih * window.InputWidth + iw, channels, inputSize)];
                            }
                        }
                        y[Index(blockedOutput, n, c, oh * window.OutputWidth + ow, channels, outputSize)] = sum;
                    }
        activation.Apply(y.Slice(0, batch * channels * outputSize));

        static int Index(bool blocked, int n, int c, int pixel, int channels, int size) =>
            n * channels * size + (blocked ? (int)Nchw16c.Offset(c, pixel, size) : c * size + pixel);
    }

    /// <summary>The fused clamp's bounds (infinite for none).</summary>
    readonly record struct Bounds(float Low, float High);

    /// <summary>
    /// padded[offsets[p] + lane] = plane lane at pixel p for the first <paramref name="pixels"/> pixels of the
    /// <paramref name="count"/> planes (<paramref name="planeStride"/> apart): L pixels at a time through one transpose
    /// that stores each pixel in place, the last group overlapping the one before; fewer than L pixels one float at a time.
    /// </summary>
    static void Interleave<TTranspose>(float* planes, int planeStride, int pixels, int count, int lanes, int* offsets, float* padded) where TTranspose : struct, ISquareTranspose
    {
        if (pixels < lanes)
        {
            for (int p = 0; p < pixels; p++)
                for (int lane = 0; lane < count; lane++) padded[offsets[p] + lane] = planes[(long)lane * planeStride + p];
            return;
        }
        for (int p = 0; ; p += lanes)
        {
            if (p > pixels - lanes) p = pixels - lanes;
            TTranspose.Transpose(planes + p, planeStride, count, new ScatteredRows(padded, offsets + p));
            if (p == pixels - lanes) break;
        }
    }

    /// <summary>
    /// The 3×3 case (MobileNet's and DS-CNN's): the nine tap vectors stay in registers and the clamp comes before the
    /// store. Four neighbouring outputs of a row go together (the rest of the row one at a time): at stride 1 they read
    /// six input columns per kernel row, 18 loads for 36 fused multiply-adds where one output at a time loads once per
    /// multiply-add (loads, not multiply-adds, bound that loop); at stride 2 nine columns, 27 loads instead of 36. No call inside the loops, so nothing is spilled around one.
    /// </summary>
    static void Convolve3x3<TLanes, TVector>(float* padded, float* filter, float* start, int* offsets, in Window2D window, long rowFloats, int height, Bounds bounds, float* outputs)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int lanes = TLanes.Count;
        TVector w0 = TLanes.Load(filter), w1 = TLanes.Load(filter + lanes), w2 = TLanes.Load(filter + 2 * lanes);
        TVector w3 = TLanes.Load(filter + 3 * lanes), w4 = TLanes.Load(filter + 4 * lanes), w5 = TLanes.Load(filter + 5 * lanes);
        TVector w6 = TLanes.Load(filter + 6 * lanes), w7 = TLanes.Load(filter + 7 * lanes), w8 = TLanes.Load(filter + 8 * lanes);
        TVector bias = TLanes.Load(start), floor = TLanes.Broadcast(bounds.Low), ceiling = TLanes.Broadcast(bounds.High);
        nint o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5], o6 = offsets[6], o7 = offsets[7], o8 = offsets[8];
        nint rowStep = (nint)(window.StrideHeight * rowFloats), columnStep = (nint)window.StrideWidth * lanes;
        int width = window.OutputWidth;
        // Groups of four need no dilation (the columns one pixel apart) and stride 1 or 2 (their columns shared).
        bool fours = window.DilationWidth == 1 && window.StrideWidth <= 2, stride2 = window.StrideWidth == 2;
        for (int oh = 0; oh < height; oh++)
        {
            float* row = padded + oh * rowStep, target = outputs + (nint)oh * width * lanes;
            int ow = 0;
            for (; fours && ow <= width - 4; ow += 4)
            {
                float* p = row + ow * columnStep, q = target + ow * lanes;
                TVector a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                if (stride2)
                {
                    RowStride2(ref a0, ref a1, ref a2, ref a3, p, lanes, w0, w1, w2);
                    RowStride2(ref a0, ref a1, ref a2, ref a3, p + o3, lanes, w3, w4, w5);
                    RowStride2(ref a0, ref a1, ref a2, ref a3, p + o6, lanes, w6, w7, w8);
                }
                else
                {
                    Row(ref a0, ref a1, ref a2, ref a3, p, lanes, w0, w1, w2);
                    Row(ref a0, ref a1, ref a2, ref a3, p + o3, lanes, w3, w4, w5);
                    Row(ref a0, ref a1, ref a2, ref a3, p + o6, lanes, w6, w7, w8);
                }
                TLanes.Store(TLanes.Clamp(a0, floor, ceiling), q);
                TLanes.Store(TLanes.Clamp(a1, floor, ceiling), q + lanes);
                TLanes.Store(TLanes.Clamp(a2, floor, ceiling), q + 2 * lanes);
                TLanes.Store(TLanes.Clamp(a3, floor, ceiling), q + 3 * lanes);
            }
            for (; ow < width; ow++)
            {
                float* p = row + ow * columnStep;
                var top = TLanes.MultiplyAdd(w2, TLanes.Load(p + o2), TLanes.MultiplyAdd(w1, TLanes.Load(p + o1), TLanes.Multiply(w0, TLanes.Load(p))));
                var middle = TLanes.MultiplyAdd(w5, TLanes.Load(p + o5), TLanes.MultiplyAdd(w4, TLanes.Load(p + o4), TLanes.MultiplyAdd(w3, TLanes.Load(p + o3), bias)));
                var bottom = TLanes.MultiplyAdd(w8, TLanes.Load(p + o8), TLanes.MultiplyAdd(w7, TLanes.Load(p + o7), TLanes.Multiply(w6, TLanes.Load(p + o6))));
                TLanes.Store(TLanes.Clamp(TLanes.Add(TLanes.Add(top, middle), bottom), floor, ceiling), target + ow * lanes);
            }
        }

        // One kernel row of four neighbouring outputs: input columns 0–5 of the row at p, each loaded once.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Row(ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3, float* p, int lanes, TVector left, TVector middle, TVector right)
        {
            TVector x0 = TLanes.Load(p), x1 = TLanes.Load(p + lanes), x2 = TLanes.Load(p + 2 * lanes);
            TVector x3 = TLanes.Load(p + 3 * lanes), x4 = TLanes.Load(p + 4 * lanes), x5 = TLanes.Load(p + 5 * lanes);
            a0 = TLanes.MultiplyAdd(right, x2, TLanes.MultiplyAdd(middle, x1, TLanes.MultiplyAdd(left, x0, a0)));
            a1 = TLanes.MultiplyAdd(right, x3, TLanes.MultiplyAdd(middle, x2, TLanes.MultiplyAdd(left, x1, a1)));
            a2 = TLanes.MultiplyAdd(right, x4, TLanes.MultiplyAdd(middle, x3, TLanes.MultiplyAdd(left, x2, a2)));
            a3 = TLanes.MultiplyAdd(right, x5, TLanes.MultiplyAdd(middle, x4, TLanes.MultiplyAdd(left, x3, a3)));
        }

        // The same at stride 2: input columns 0–8, neighbours sharing one, 9 loads where one output at a time makes 12.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void RowStride2(ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3, float* p, int lanes, TVector left, TVector middle, TVector right)
        {
            TVector x0 = TLanes.Load(p), x1 = TLanes.Load(p + lanes), x2 = TLanes.Load(p + 2 * lanes);
            TVector x3 = TLanes.Load(p + 3 * lanes), x4 = TLanes.Load(p + 4 * lanes), x5 = TLanes.Load(p + 5 * lanes);
            TVector x6 = TLanes.Load(p + 6 * lanes), x7 = TLanes.Load(p + 7 * lanes), x8 = TLanes.Load(p + 8 * lanes);
            a0 = TLanes.MultiplyAdd(right, x2, TLanes.MultiplyAdd(middle, x1, TLanes.MultiplyAdd(left, x0, a0)));
            a1 = TLanes.MultiplyAdd(right, x4, TLanes.MultiplyAdd(middle, x3, TLanes.MultiplyAdd(left, x2, a1)));
            a2 = TLanes.MultiplyAdd(right, x6, TLanes.MultiplyAdd(middle, x5, TLanes.MultiplyAdd(left, x4, a2)));
            a3 = TLanes.MultiplyAdd(right, x8, TLanes.MultiplyAdd(middle, x7, TLanes.MultiplyAdd(left, x6, a3)));
        }
    }

    /// <summary>Any kernel: the tap vectors are read from <paramref name="filter"/> (L1) at every pixel.</summary>
    static void Convolve<TLanes, TVector>(float* padded, float* filter, float* start, int* offsets, int taps, in Window2D window, long rowFloats, int height, Bounds bounds, float* outputs)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int lanes = TLanes.Count;
        TVector bias = TLanes.Load(start), floor = TLanes.Broadcast(bounds.Low), ceiling = TLanes.Broadcast(bounds.High);
        nint rowStep = (nint)(window.StrideHeight * rowFloats), columnStep = (nint)window.StrideWidth * lanes;
        int width = window.OutputWidth;
        float* target = outputs;
        for (int oh = 0; oh < height; oh++)
        {
            float* p = padded + oh * rowStep;
            for (int ow = 0; ow < width; ow++, p += columnStep, target += lanes)
            {
                var sum = bias;
                for (int t = 0; t < taps; t++) sum = TLanes.MultiplyAdd(TLanes.Load(filter + t * lanes), TLanes.Load(p + offsets[t]), sum);
                TLanes.Store(TLanes.Clamp(sum, floor, ceiling), target);
            }
        }
    }

    /// <summary>
    /// y[lane·planeStride + q] = outputs[q][lane] for the first <paramref name="count"/> lanes and <paramref name="pixels"/>
    /// pixels: L pixels at a time through one transpose, the last group overlapping the one before; fewer than L pixels one
    /// float at a time.
    /// </summary>
    static void Deinterleave<TTranspose>(float* outputs, int lanes, int pixels, float* y, int planeStride, int count) where TTranspose : struct, ISquareTranspose
    {
        if (pixels < lanes)
        {
            for (int lane = 0; lane < count; lane++)
                for (int q = 0; q < pixels; q++) y[(long)lane * planeStride + q] = outputs[q * lanes + lane];
            return;
        }
        for (int q = 0; ; q += lanes)
        {
            if (q > pixels - lanes) q = pixels - lanes;
            TTranspose.Transpose(outputs + (long)q * lanes, lanes, lanes, new StridedRows(y + q, planeStride, count));
            if (q == pixels - lanes) break;
        }
    }
}
