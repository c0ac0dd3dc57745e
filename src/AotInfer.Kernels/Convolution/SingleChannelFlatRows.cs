using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A 2-D convolution of a one-channel image at stride 1 without dilation into many output channels (fashion_lenet5's
/// first layer: 1→20, 5×5 at 24×24), vectorised along the output rows laid end to end at the padded image's pitch:
/// output pixel (oh, ow) is "flat" position oh·pitch + ow, and the input of tap (kh, kw) for it is padded image element
/// flat + kh·pitch + kw, so any 16 consecutive flat positions read one contiguous vector per tap whatever row they
/// fall on. A 24-wide row at pitch 28 then wastes 4 lanes in 28, where the row-vectorised
/// <see cref="FewChannelConvolution"/> covers it with two 16-lane vectors (8 lanes in 32 wasted) and the
/// channel-vectorised kernels pad 20 channels to 32. Each step is four flat vectors × four output channels (sixteen
/// accumulators: four image loads and four broadcast weights per sixteen multiply-adds); the lanes past a row's end are
/// dropped by two masked stores per vector (the part on the row it starts on, the part on the next row).
/// AVX-512 only (the masked stores); other tiers, and planes this does not cover, take <see cref="FewChannelConvolution"/>.
/// Weights stay in ONNX layout <c>[M, 1, KH, KW]</c>; an empty bias means none. A following 2×2 stride-2 MaxPool can be
/// fused (LeNet's c1 → MaxPool): each pass of four channels then stores its flat vectors whole into scratch, and pools
/// them from there while they are in L1, instead of masked stores of the full planes and a pass of their own over them.
/// </summary>
public static unsafe class SingleChannelFlatRows
{
    /// <summary>Output channels sharing each image vector load.</summary>
    const int ChannelsPerPass = 4;

    /// <summary>Flat vectors sharing each broadcast weight.</summary>
    const int VectorsPerStep = 4;

    /// <summary>
    /// True when the geometry is one the flat-row path computes: 2-D, stride 1, no dilation, output rows at least 16
    /// wide (a vector then crosses at most one row end) and at least four vectors of flat positions.
    /// </summary>
    public static bool Supports(int[] geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var plain = new Window(geometry);
        if (plain.Rank != 2 || plain.Stride(0) != 1 || plain.Stride(1) != 1 || plain.Dilation(0) != 1 || plain.Dilation(1) != 1) return false;
        var window = new Window2D(plain);
        return window.OutputWidth >= 16 && FlatCount(window) >= VectorsPerStep * 16;
    }

    /// <summary>
    /// Floats of the <c>padded</c> scratch <see cref="Convolve"/> needs: the zero-bordered image (the few-channel kernel's
    /// at one channel); with a fused max pool of <paramref name="pooledChannels"/> output channels, then room for one
    /// pass's unpooled flat planes, or for the whole unpooled output where the tier or plane takes the few-channel kernel.
    /// </summary>
    public static int ScratchSize(int[] geometry, int pooledChannels = 0)
    {
        int size = FewChannelConvolution.ScratchSize(1, geometry);
        if (pooledChannels <= 0) return size;
        var window = new Window2D(new Window(geometry));
        return size + Math.Max(ChannelsPerPass * PassPlane(window), pooledChannels * window.OutputHeight * window.OutputWidth);
    }

    /// <summary>Floats per channel of a pass's unpooled flat output: OH rows of the pitch, and the 32 that the last pool step reads on.</summary>
    static int PassPlane(in Window2D window) => window.OutputHeight * window.PaddedWidth + 32;

    /// <summary>Lane i holds i (the masks of partial stores).</summary>
    static readonly Vector512<float> LaneIndex = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    /// <summary>Flat positions from the first output pixel to the last: (OH − 1)·pitch + OW.</summary>
    static int FlatCount(in Window2D window) => (window.OutputHeight - 1) * window.PaddedWidth + window.OutputWidth;

    /// <summary>
    /// y = act(W ⊛ x + b) for <paramref name="batch"/> one-channel images; <paramref name="padded"/> holds
    /// <see cref="ScratchSize(int[], int)"/> floats. With <paramref name="maxPool2x2"/>, y receives instead the 2×2 stride-2
    /// max pool of that (floor mode, no padding: ⌊OH / 2⌋ × ⌊OW / 2⌋ per channel), which needs a clamp activation (Relu,
    /// Clip or none: they commute with the max) and the scratch of <c>ScratchSize(geometry, outChannels)</c>.
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> padded,
        int batch, int outChannels, int[] geometry, FusedActivation activation = default, bool maxPool2x2 = false)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        bool flat = MatrixMultiply.Tier == GemmTier.Avx512 && Avx512F.IsSupported && Supports(geometry);
        if (!flat && !maxPool2x2)
        {
            FewChannelConvolution.Convolve(x, weights, bias, y, padded, batch, 1, outChannels, geometry, activation);
            return;
        }
        var window = new Window2D(new Window(geometry));
        int inputSize = window.InputHeight * window.InputWidth, taps = window.Taps;
        int outputSize = maxPool2x2 ? window.OutputHeight / 2 * (window.OutputWidth / 2) : window.OutputHeight * window.OutputWidth;
        int scratchSize = ScratchSize(geometry, maxPool2x2 ? outChannels : 0);
        if (x.Length < batch * inputSize) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inputSize}", nameof(x));
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{outputSize}", nameof(y));
        if (weights.Length != outChannels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {outChannels}×{taps}", nameof(weights));
        if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException($"bias has {bias.Length} elements, expected {outChannels}", nameof(bias));
        if (padded.Length < scratchSize) throw new ArgumentException($"padded has {padded.Length} elements, fewer than {scratchSize}", nameof(padded));
        // Relu, Clip or no activation are a clamp applied in registers; the others run over the finished planes.
        bool clamp = activation.IsClamp(out float low, out float high);
        if (maxPool2x2 && !clamp)
            throw new ArgumentException($"a pooled output takes Relu, Clip or no activation (those commute with the max), not {activation.Kind}", nameof(activation));
        if (!flat)
        {
            PoolAfterFewChannel(x, weights, bias, y, padded, batch, outChannels, geometry, activation, window);
            return;
        }
        if (!clamp) (low, high) = (float.NegativeInfinity, float.PositiveInfinity);
        int passes = (outChannels + ChannelsPerPass - 1) / ChannelsPerPass;
        float* blocks = stackalloc float[passes * ChannelsPerPass * taps];
        float* biases = stackalloc float[passes * ChannelsPerPass];
        int* offsets = stackalloc int[taps];
        for (int t = 0; t < taps; t++) offsets[t] = t / window.KernelWidth * window.PaddedWidth + t % window.KernelWidth;
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* py = y)
        fixed (float* pp = padded)
        {
            FewChannelConvolution.PackPasses(pw, bias, outChannels, taps, ChannelsPerPass, blocks, biases);
            // The pooled run's flat planes come after the image in the scratch.
            float* unpooled = maxPool2x2 ? pp + FewChannelConvolution.ScratchSize(1, geometry) : null;
            for (int n = 0; n < batch; n++)
            {
                window.Pad(px + (long)n * inputSize, 1, pp);
                Passes(pp, window, offsets, blocks, biases, outChannels, low, high, py + (long)n * outChannels * outputSize, unpooled);
            }
        }
        if (!clamp) activation.Apply(y[..(batch * outChannels * outputSize)]);
    }

    /// <summary>
    /// The pooled output where the flat path does not apply (other tiers, narrow planes): each image through
    /// <see cref="FewChannelConvolution"/> into the scratch after its image, then <see cref="Pooling.MaxPool2D"/>.
    /// </summary>
    static void PoolAfterFewChannel(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> padded,
        int batch, int outChannels, int[] geometry, FusedActivation activation, in Window2D window)
    {
        int inputSize = window.InputHeight * window.InputWidth, height = window.OutputHeight, width = window.OutputWidth;
        int pooledSize = height / 2 * (width / 2), image = FewChannelConvolution.ScratchSize(1, geometry);
        int[] pool = { 2, height, width, height / 2, width / 2, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0 };
        var full = padded.Slice(image, outChannels * height * width);
        for (int n = 0; n < batch; n++)
        {
            FewChannelConvolution.Convolve(x.Slice(n * inputSize, inputSize), weights, bias, full, padded[..image], 1, 1, outChannels, geometry, activation);
            Pooling.MaxPool2D.Max(full, y.Slice(n * outChannels * pooledSize, outChannels * pooledSize), outChannels, pool);
        }
    }

    /// <summary>
    /// Every pass of four channels over every step of four flat vectors (the last step overlapping the one before
    /// rather than running past the last output pixel).
    /// </summary>
    static void Passes(float* image, in Window2D window, int* offsets, float* blocks, float* biases, int outChannels, float low, float high, float* y,
        float* unpooled)
    {
        const int lanes = 16, span = VectorsPerStep * lanes;
        int taps = window.Taps, flat = FlatCount(window), outputSize = window.OutputHeight * window.OutputWidth;
        int plane = PassPlane(window), pooledSize = window.OutputHeight / 2 * (window.OutputWidth / 2);
        var floor = Vector512.Create(low);
        var ceiling = Vector512.Create(high);
        var rows = new RowGeometry(window.PaddedWidth, window.OutputWidth);
        for (int first = 0; first < outChannels; first += ChannelsPerPass)
        {
            int count = Math.Min(ChannelsPerPass, outChannels - first);
            float* block = blocks + (long)first * taps, bias = biases + first;
            for (int start = 0; ; start += span)
            {
                if (start > flat - span) start = flat - span;
                Vector512<float> b0 = Vector512.Create(bias[0]), b1 = Vector512.Create(bias[1]), b2 = Vector512.Create(bias[2]), b3 = Vector512.Create(bias[3]);
                Vector512<float> a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
                Vector512<float> a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
                float* source = image + start, w = block;
                for (int t = 0; t < taps; t++, w += ChannelsPerPass)
                {
                    float* at = source + offsets[t];
                    Vector512<float> x0 = Vector512.Load(at), x1 = Vector512.Load(at + lanes), x2 = Vector512.Load(at + 2 * lanes), x3 = Vector512.Load(at + 3 * lanes);
                    var weight = Vector512.Create(w[0]);
                    a00 = Avx512F.FusedMultiplyAdd(weight, x0, a00); a10 = Avx512F.FusedMultiplyAdd(weight, x1, a10);
                    a20 = Avx512F.FusedMultiplyAdd(weight, x2, a20); a30 = Avx512F.FusedMultiplyAdd(weight, x3, a30);
                    weight = Vector512.Create(w[1]);
                    a01 = Avx512F.FusedMultiplyAdd(weight, x0, a01); a11 = Avx512F.FusedMultiplyAdd(weight, x1, a11);
                    a21 = Avx512F.FusedMultiplyAdd(weight, x2, a21); a31 = Avx512F.FusedMultiplyAdd(weight, x3, a31);
                    weight = Vector512.Create(w[2]);
                    a02 = Avx512F.FusedMultiplyAdd(weight, x0, a02); a12 = Avx512F.FusedMultiplyAdd(weight, x1, a12);
                    a22 = Avx512F.FusedMultiplyAdd(weight, x2, a22); a32 = Avx512F.FusedMultiplyAdd(weight, x3, a32);
                    weight = Vector512.Create(w[3]);
                    a03 = Avx512F.FusedMultiplyAdd(weight, x0, a03); a13 = Avx512F.FusedMultiplyAdd(weight, x1, a13);
                    a23 = Avx512F.FusedMultiplyAdd(weight, x2, a23); a33 = Avx512F.FusedMultiplyAdd(weight, x3, a33);
                }
                if (unpooled != null)
                {
                    // Pooled: whole vectors at their flat positions, one plane per channel of the pass.
                    float* at = unpooled + start;
                    StoreFlat(at, plane, count, a00, a01, a02, a03, floor, ceiling);
                    StoreFlat(at + lanes, plane, count, a10, a11, a12, a13, floor, ceiling);
                    StoreFlat(at + 2 * lanes, plane, count, a20, a21, a22, a23, floor, ceiling);
                    StoreFlat(at + 3 * lanes, plane, count, a30, a31, a32, a33, floor, ceiling);
                }
                else
                {
                    float* target = y + (long)first * outputSize;
                    rows.Store(start, target, outputSize, count, a00, a01, a02, a03, floor, ceiling);
                    rows.Store(start + lanes, target, outputSize, count, a10, a11, a12, a13, floor, ceiling);
                    rows.Store(start + 2 * lanes, target, outputSize, count, a20, a21, a22, a23, floor, ceiling);
                    rows.Store(start + 3 * lanes, target, outputSize, count, a30, a31, a32, a33, floor, ceiling);
                }
                if (start == flat - span) break;
            }
            if (unpooled != null) Pool(unpooled, plane, count, window, y + (long)first * pooledSize);
        }
    }

    /// <summary>The clamped vectors of up to four channels at one flat position of their planes, <paramref name="plane"/> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreFlat(float* at, int plane, int count, Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3,
        Vector512<float> floor, Vector512<float> ceiling)
    {
        Vector512.Min(Vector512.Max(c0, floor), ceiling).Store(at);
        if (count > 1) Vector512.Min(Vector512.Max(c1, floor), ceiling).Store(at + plane);
        if (count > 2) Vector512.Min(Vector512.Max(c2, floor), ceiling).Store(at + 2 * plane);
        if (count > 3) Vector512.Min(Vector512.Max(c3, floor), ceiling).Store(at + 3 * plane);
    }

    /// <summary>
    /// The 2×2 stride-2 max pool of a pass's flat planes into <paramref name="count"/> pooled NCHW planes: per pooled row
    /// and 16 outputs, the max of the two flat rows (32 columns as two vectors each), then of the even and odd lanes
    /// (vpermt2ps), stored under a mask of the row's outputs. Reads stay within <see cref="PassPlane"/>: the columns past
    /// the output's only reach lanes that are not stored.
    /// </summary>
    static void Pool(float* flat, int plane, int count, in Window2D window, float* y)
    {
        int pitch = window.PaddedWidth, height = window.OutputHeight / 2, width = window.OutputWidth / 2, size = height * width;
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        for (int c = 0; c < count; c++)
            for (int i = 0; i < height; i++)
            {
                float* top = flat + (long)c * plane + 2 * i * pitch, bottom = top + pitch, target = y + (long)c * size + i * width;
                for (int j = 0; j < width; j += 16)
                {
                    var left = Vector512.Max(Vector512.Load(top + 2 * j), Vector512.Load(bottom + 2 * j));
                    var right = Vector512.Max(Vector512.Load(top + 2 * j + 16), Vector512.Load(bottom + 2 * j + 16));
                    var best = Vector512.Max(Avx512F.PermuteVar16x32x2(left, evens, right), Avx512F.PermuteVar16x32x2(left, odds, right));
                    Avx512F.MaskStore(target + j, Vector512.LessThan(LaneIndex, Vector512.Create((float)(width - j))), best);
                }
            }
    }

    /// <summary>Where the lanes of a flat vector go in the NCHW output: the pitch and the output width.</summary>
    readonly struct RowGeometry(int pitch, int width)
    {
        /// <summary>
        /// The clamped vectors of up to four channels at flat position <paramref name="start"/>: lanes before the row
        /// end (column &lt; width) to that row, lanes past the padded row's end (column ≥ pitch) to the next row's
        /// first columns; the lanes between fall on padding columns and are dropped.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int start, float* y, int outputSize, int count, Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3,
            Vector512<float> floor, Vector512<float> ceiling)
        {
            int row = start / pitch, column = start - row * pitch;
            // This row: lanes j < width − column, at y[row·width + column + j].
            var here = Vector512.LessThan(LaneIndex, Vector512.Create((float)(width - column)));
            // The next row: lanes j ≥ pitch − column, at y[(row + 1)·width + column + j − pitch].
            var next = Vector512.GreaterThanOrEqual(LaneIndex, Vector512.Create((float)(pitch - column)));
            float* first = y + row * width + column, second = first + width - pitch;
            // Most vectors stay on one row (at pitch 28, those starting at columns 0 to 12): one masked store each.
            bool crosses = column > pitch - 16;
            StoreOne(first, second, here, next, crosses, c0, floor, ceiling);
            if (count > 1) StoreOne(first + outputSize, second + outputSize, here, next, crosses, c1, floor, ceiling);
            if (count > 2) StoreOne(first + 2 * outputSize, second + 2 * outputSize, here, next, crosses, c2, floor, ceiling);
            if (count > 3) StoreOne(first + 3 * outputSize, second + 3 * outputSize, here, next, crosses, c3, floor, ceiling);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void StoreOne(float* first, float* second, Vector512<float> here, Vector512<float> next, bool crosses, Vector512<float> value,
            Vector512<float> floor, Vector512<float> ceiling)
        {
            value = Vector512.Min(Vector512.Max(value, floor), ceiling);
            Avx512F.MaskStore(first, here, value);
            if (crosses) Avx512F.MaskStore(second, next, value);
        }
    }
}
