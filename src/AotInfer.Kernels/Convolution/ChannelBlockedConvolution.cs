using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Direct 2-D convolution vectorised over output channels, for ungrouped convolutions with constant weights on small
/// planes. A tile is a run of up to 8 output pixels along one row (or two rows) × one or two blocks of L output channels
/// (L = 16 with AVX-512, 8 with AVX2), 16 accumulators in registers: per tap (c, kh, kw) the kernel loads one L-channel
/// weight vector per block and broadcasts each pixel's input value into it. The bias starts the accumulators; the store
/// transposes each pixel's L channels back to the L NCHW planes in registers and adds the fused residual and clamps
/// (Relu, Clip) on the way, so the output is written once.
/// </summary>
/// <remarks>
/// Why: the GEMM formulation (<see cref="Convolution.PackedGemm"/>) vectorises over pixels, so on 8×8 or 4×4 outputs its
/// 32-wide column tiles are mostly empty and the im2col gather costs as much as the product. Vectorising over channels
/// keeps every lane busy whatever the plane, like ONNX Runtime's NCHWc kernels, without changing the tensor layout.
/// The image is read from a zero-bordered copy (<see cref="Window2D.Pad"/>), so the inner loop has no bounds tests;
/// windows that need no padding read the image in place.
/// </remarks>
public static unsafe class ChannelBlockedConvolution
{
    /// <summary>Floats of the <c>padded</c> scratch <see cref="Convolve"/> needs (0 when it reads the image in place).</summary>
    public static int ScratchSize(int inChannels, int[] geometry)
    {
        var window = new Window2D(new Window(geometry));
        return ReadsInPlace(window) ? 0 : Window2D.PaddedSize(inChannels, window.PaddedHeight, window.PaddedWidth);
    }

    /// <summary>
    /// y = W ⊛ x + b (+ the fused residual, then the fused activation) for an ungrouped 2-D convolution with the packed
    /// filter <paramref name="filter"/> (<see cref="ChannelBlockedFilter.Pack"/>, for this <paramref name="geometry"/>).
    /// <paramref name="padded"/> is scratch of <see cref="ScratchSize"/> floats.
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, ChannelBlockedFilter filter, ReadOnlySpan<float> bias, Span<float> y, Span<float> padded,
        int batch, int inChannels, int[] geometry, FusedActivation activation = default, ReadOnlySpan<float> residual = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(geometry);
        if (!geometry.AsSpan().SequenceEqual(filter.Geometry))
            throw new ArgumentException("the filter was packed for another window geometry", nameof(filter));
        if (filter.InChannels != inChannels)
            throw new ArgumentException($"the filter has {filter.InChannels} input channels, the input {inChannels}", nameof(filter));
        var window = new Window2D(new Window(geometry));
        int outChannels = filter.OutChannels, inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth;
        ChannelBlockArguments.CheckLengths(x, y, bias, residual, batch, inChannels, inputSize, outChannels, outputSize);
        bool inPlace = ReadsInPlace(window);
        if (padded.Length < ScratchSize(inChannels, geometry))
            throw new ArgumentException($"padded scratch has {padded.Length} elements, fewer than {ScratchSize(inChannels, geometry)}", nameof(padded));
        // The residual, then Relu, Clip or no activation (a clamp), are applied as each tile is stored.
        bool clamps = ChannelBlockArguments.Clamps(activation, out float low, out float high);
        int lanes = filter.Lanes, blocks = filter.Blocks;
        float* blockBias = stackalloc float[2 * 16];
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pp = padded)
        fixed (float* pr = residual)
        {
            for (int n = 0; n < batch; n++)
            {
                float* image = px + (long)n * inChannels * inputSize;
                if (!inPlace)
                {
                    window.Pad(image, inChannels, pp);
                    image = pp;
                }
                for (int block = 0; block < blocks; block += 2)
                {
                    var (pair, first, channels) = ChannelBlockArguments.Pair(block, blocks, lanes, outChannels, bias, blockBias);
                    var tiles = new TileArguments(image, filter, block, pair, channels, blockBias, low, high,
                        py + ((long)n * outChannels + first) * outputSize, pr == null ? null : pr + ((long)n * outChannels + first) * outputSize);
                    switch (filter.Tier)
                    {
                        case GemmTier.Avx512: Rows<ChannelVector512, Vector512<float>>(window, tiles); break;
                        case GemmTier.Fma256: Rows<ChannelVector256, Vector256<float>>(window, tiles); break;
                        case GemmTier.Vector128: Rows<ChannelVector128, Vector128<float>>(window, tiles); break;
                        default: Rows<ChannelScalar, float>(window, tiles); break;
                    }
                    if (!clamps) activation.Apply(y.Slice((n * outChannels + first) * outputSize, channels * outputSize));
                }
            }
        }
    }

    /// <summary>No padding and every tap inside the image: the kernel reads the image itself, no copy.</summary>
    static bool ReadsInPlace(in Window2D window) => window.PadTop == 0 && window.PadLeft == 0 &&
                                                  window.PaddedHeight <= window.InputHeight && window.PaddedWidth <= window.InputWidth;

    /// <summary>The row pitch and plane size of the image the kernel reads (the padded copy or the image).</summary>
    internal static void Source(in Window2D window, out int pitch, out int planeSize)
    {
        bool inPlace = ReadsInPlace(window);
        pitch = inPlace ? window.InputWidth : window.PaddedWidth;
        planeSize = inPlace ? window.InputHeight * window.InputWidth : window.PaddedHeight * window.PaddedWidth;
    }

    /// <summary>What every tile of one pair of channel blocks shares.</summary>
    readonly struct TileArguments
    {
        public readonly float* Image, Weights0, Weights1, Bias;
        public readonly int* Taps;
        public readonly int Depth, Pair, Channels;
        public readonly float Low, High;
        public readonly float* Output, Residual;

        public TileArguments(float* image, ChannelBlockedFilter filter, int block, int pair, int channels, float* bias, float low, float high, float* output, float* residual)
        {
            Image = image;
            Weights0 = filter.Block(block);
            Weights1 = pair == 2 ? filter.Block(block + 1) : null;
            Taps = filter.TapOffsets;
            Depth = filter.Depth;
            Pair = pair;
            Channels = channels;
            Bias = bias;
            Low = low;
            High = high;
            Output = output;
            Residual = residual;
        }
    }

    /// <summary>
    /// Every output row of one pair of channel blocks, each row split into equal runs of at most
    /// <see cref="IChannelVector{TVector}.MaxPixels"/> pixels (a 28-wide row is 4 runs of 7, not 3 of 8 and one of 4).
    /// A single block (16 channels or fewer), or a pair on rows of 4 pixels or fewer, takes two rows per tile, so that
    /// a tile still has 16 independent accumulators to cover the multiply-add latency.
    /// </summary>
    static void Rows<TOps, TVector>(in Window2D window, in TileArguments tiles)
        where TOps : IChannelVector<TVector> where TVector : struct
    {
        int lanes = TOps.Lanes, width = window.OutputWidth, height = window.OutputHeight, outputSize = height * width;
        int runs = (width + TOps.MaxPixels - 1) / TOps.MaxPixels, run = (width + runs - 1) / runs;
        Source(window, out int pitch, out _);
        int step = window.StrideWidth, rowStep = window.StrideHeight * pitch;
        float* tile = stackalloc float[4 * 8 * lanes];
        TVector bias0 = TOps.Load(tiles.Bias), bias1 = TOps.Load(tiles.Bias + (tiles.Pair == 2 ? lanes : 0));
        bool pairOfBlocks = tiles.Pair == 2, shortRows = width <= TOps.MaxPixels / 2;
        for (int oh = 0; oh < height; oh++)
        {
            float* row = tiles.Image + (long)oh * rowStep;
            bool twoRows = (!pairOfBlocks || shortRows) && oh + 1 < height;
            // The lower row's tile: set 1 for one block over two rows, sets 2 and 3 for a pair of blocks.
            float* lower = tile + (pairOfBlocks ? 16 : 8) * lanes;
            for (int ow = 0; ow < width; ow += run)
            {
                int pixels = Math.Min(run, width - ow);
                float* input = row + (long)ow * step;
                if (pairOfBlocks && twoRows) Tile<TOps, TVector, TwoBlocksTwoRows>(pixels, input, step, rowStep, tiles, bias0, bias1, tile);
                else if (pairOfBlocks) Tile<TOps, TVector, TwoBlocks>(pixels, input, step, rowStep, tiles, bias0, bias1, tile);
                else if (twoRows) Tile<TOps, TVector, TwoRows>(pixels, input, step, rowStep, tiles, bias0, bias1, tile);
                else Tile<TOps, TVector, OneBlock>(pixels, input, step, rowStep, tiles, bias0, bias1, tile);
                // The upper row may spill into the lower one only when the lower row is one run, stored right after;
                // otherwise the lower row's earlier runs are already stored there.
                StoreTransposed(tile, lanes, pixels, tiles, oh * width + ow, twoRows && runs > 1 ? (oh + 1) * width : outputSize, outputSize);
                if (twoRows) StoreTransposed(lower, lanes, pixels, tiles, (oh + 1) * width + ow, outputSize, outputSize);
            }
            if (twoRows) oh++;
        }
    }

    /// <summary>Picks the tile instantiation for the run length (each keeps its accumulators in registers).</summary>
    static void Tile<TOps, TVector, TShape>(int pixels, float* input, int step, int rowStep, in TileArguments tiles, TVector bias0, TVector bias1, float* tile)
        where TOps : IChannelVector<TVector> where TVector : struct where TShape : ITileShape
    {
        switch (pixels)
        {
            case 1: Tile<TOps, TVector, TShape, Pixels1>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            case 2: Tile<TOps, TVector, TShape, Pixels2>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            case 3: Tile<TOps, TVector, TShape, Pixels3>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            case 4: Tile<TOps, TVector, TShape, Pixels4>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            case 5 when TShape.Kind != TileKind.TwoBlocksTwoRows: Tile<TOps, TVector, TShape, Pixels5>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            case 6 when TShape.Kind != TileKind.TwoBlocksTwoRows: Tile<TOps, TVector, TShape, Pixels6>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            case 7 when TShape.Kind != TileKind.TwoBlocksTwoRows: Tile<TOps, TVector, TShape, Pixels7>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            case 8 when TShape.Kind != TileKind.TwoBlocksTwoRows: Tile<TOps, TVector, TShape, Pixels8>(input, step, rowStep, tiles, bias0, bias1, tile); break;
            default: throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "more pixels than the tile holds");
        }
    }

    /// <summary>
    /// One tile: P pixels (input values <paramref name="step"/> apart) × one channel block, two channel blocks, one
    /// block over two rows (the second row's inputs <paramref name="rowStep"/> on) or two blocks over two rows (P ≤ 4),
    /// accumulated over every tap and stored as <c>tile[set][pixel][lane]</c> (set stride 8 pixels; sets: row 0 block 0,
    /// then row 0 block 1 or row 1 block 0, then row 1 blocks 0 and 1).
    /// </summary>
    static void Tile<TOps, TVector, TShape, TPixels>(float* input, int step, int rowStep, in TileArguments tiles, TVector bias0, TVector bias1, float* tile)
        where TOps : IChannelVector<TVector> where TVector : struct where TShape : ITileShape where TPixels : IPixelCount
    {
        int pixels = TPixels.Count, lanes = TOps.Lanes, depth = tiles.Depth;
        bool blocks = TShape.Kind is TileKind.TwoBlocks or TileKind.TwoBlocksTwoRows;
        int* taps = tiles.Taps;
        float* w0 = tiles.Weights0, w1 = tiles.Weights1;
        TVector a0 = bias0, a1 = bias0, a2 = bias0, a3 = bias0, a4 = bias0, a5 = bias0, a6 = bias0, a7 = bias0;
        TVector b0 = bias1, b1 = bias1, b2 = bias1, b3 = bias1, b4 = bias1, b5 = bias1, b6 = bias1, b7 = bias1;
        // The lower row of a pair of blocks (at most 4 pixels): block 0 in c, block 1 in d.
        TVector c0 = bias0, c1 = bias0, c2 = bias0, c3 = bias0, d0 = bias1, d1 = bias1, d2 = bias1, d3 = bias1;
        for (int t = 0; t < depth; t++)
        {
            float* p = input + taps[t], q = p + rowStep;
            TVector wa = TOps.Load(w0 + (long)t * lanes), wb = blocks ? TOps.Load(w1 + (long)t * lanes) : wa;
            Step<TOps, TVector, TShape>(ref a0, ref b0, ref c0, ref d0, p, q, 0, wa, wb);
            if (pixels > 1) Step<TOps, TVector, TShape>(ref a1, ref b1, ref c1, ref d1, p, q, step, wa, wb);
            if (pixels > 2) Step<TOps, TVector, TShape>(ref a2, ref b2, ref c2, ref d2, p, q, 2 * step, wa, wb);
            if (pixels > 3) Step<TOps, TVector, TShape>(ref a3, ref b3, ref c3, ref d3, p, q, 3 * step, wa, wb);
            if (pixels > 4) Step<TOps, TVector, TShape>(ref a4, ref b4, ref c0, ref d0, p, q, 4 * step, wa, wb);
            if (pixels > 5) Step<TOps, TVector, TShape>(ref a5, ref b5, ref c0, ref d0, p, q, 5 * step, wa, wb);
            if (pixels > 6) Step<TOps, TVector, TShape>(ref a6, ref b6, ref c0, ref d0, p, q, 6 * step, wa, wb);
            if (pixels > 7) Step<TOps, TVector, TShape>(ref a7, ref b7, ref c0, ref d0, p, q, 7 * step, wa, wb);
        }
        Store<TOps, TVector, TShape>(a0, b0, c0, d0, tile);
        if (pixels > 1) Store<TOps, TVector, TShape>(a1, b1, c1, d1, tile + lanes);
        if (pixels > 2) Store<TOps, TVector, TShape>(a2, b2, c2, d2, tile + 2 * lanes);
        if (pixels > 3) Store<TOps, TVector, TShape>(a3, b3, c3, d3, tile + 3 * lanes);
        if (pixels > 4) Store<TOps, TVector, TShape>(a4, b4, c0, d0, tile + 4 * lanes);
        if (pixels > 5) Store<TOps, TVector, TShape>(a5, b5, c0, d0, tile + 5 * lanes);
        if (pixels > 6) Store<TOps, TVector, TShape>(a6, b6, c0, d0, tile + 6 * lanes);
        if (pixels > 7) Store<TOps, TVector, TShape>(a7, b7, c0, d0, tile + 7 * lanes);
    }

    /// <summary>
    /// One tap for one pixel: its input times block 0 (and block 1), or its input and the one a row below times block 0,
    /// or both inputs times both blocks (c, d: the lower row; untouched by the other shapes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step<TOps, TVector, TShape>(ref TVector a, ref TVector b, ref TVector c, ref TVector d, float* p, float* q, int offset, TVector wa, TVector wb)
        where TOps : IChannelVector<TVector> where TVector : struct where TShape : ITileShape
    {
        TVector v = TOps.Broadcast(p[offset]);
        a = TOps.MultiplyAdd(v, wa, a);
        if (TShape.Kind is TileKind.TwoBlocks or TileKind.TwoBlocksTwoRows) b = TOps.MultiplyAdd(v, wb, b);
        if (TShape.Kind == TileKind.TwoRows) b = TOps.MultiplyAdd(TOps.Broadcast(q[offset]), wb, b);
        if (TShape.Kind == TileKind.TwoBlocksTwoRows)
        {
            TVector below = TOps.Broadcast(q[offset]);
            c = TOps.MultiplyAdd(below, wa, c);
            d = TOps.MultiplyAdd(below, wb, d);
        }
    }

    /// <summary>One pixel's accumulators into the tile: set s (a, b, c, d) 8·s pixels on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<TOps, TVector, TShape>(TVector a, TVector b, TVector c, TVector d, float* tile)
        where TOps : IChannelVector<TVector> where TVector : struct where TShape : ITileShape
    {
        TOps.Store(a, tile);
        if (TShape.Kind != TileKind.OneBlock) TOps.Store(b, tile + 8 * TOps.Lanes);
        if (TShape.Kind == TileKind.TwoBlocksTwoRows)
        {
            TOps.Store(c, tile + 16 * TOps.Lanes);
            TOps.Store(d, tile + 24 * TOps.Lanes);
        }
    }

    /// <summary>
    /// y[m, position + r] = clamp(tile[m / L][r][m % L] (+ residual[m, position + r])) for the block pair's channels, planes
    /// <paramref name="outputSize"/> apart: the epilogue, on the way from the tile's pixel-major layout back to NCHW.
    /// Plane positions from <paramref name="limit"/> on hold finished outputs.
    /// </summary>
    static void StoreTransposed(float* tile, int lanes, int pixels, in TileArguments tiles, int position, int limit, int outputSize)
    {
        int channels = tiles.Channels;
        float* y = tiles.Output + position, residual = tiles.Residual == null ? null : tiles.Residual + position;
        float low = tiles.Low, high = tiles.High;
        // A whole 8-pixel row per channel even for shorter runs: the extra values land on later pixels of the same
        // plane, which later runs or rows overwrite; never past limit, where stored pixels begin.
        if (lanes == 16 && position + 8 <= limit && Avx512F.IsSupported)
        {
            var bounds = (Low: Vector256.Create(low), High: Vector256.Create(high));
            for (int first = 0; first < channels; first += 16)
                Transpose8x16(tile + first / 16 * 8 * 16, Math.Min(16, channels - first), y + (long)first * outputSize,
                    residual == null ? null : residual + (long)first * outputSize, outputSize, bounds.Low, bounds.High);
            return;
        }
        if (lanes == 8 && position + 8 <= limit && Avx.IsSupported)
        {
            var bounds = (Low: Vector256.Create(low), High: Vector256.Create(high));
            for (int first = 0; first < channels; first += 8)
                Transpose8x8(tile + first * 8, Math.Min(8, channels - first), y + (long)first * outputSize,
                    residual == null ? null : residual + (long)first * outputSize, outputSize, bounds.Low, bounds.High);
            return;
        }
        for (int m = 0; m < channels; m++)
        {
            float* source = tile + (m / lanes) * 8 * lanes + m % lanes, target = y + (long)m * outputSize;
            for (int r = 0; r < pixels; r++)
            {
                float value = source[r * lanes] + (residual == null ? 0f : residual[(long)m * outputSize + r]);
                target[r] = Math.Min(Math.Max(value, low), high);
            }
        }
    }

    /// <summary>
    /// 8 pixels × 16 channels (8 zmm) to 16 channels × 8 pixels in three rounds of two-source permutes, each swapping
    /// one pixel bit of the vector index with one channel bit of the position: 24 permutes instead of 128 scalar moves.
    /// </summary>
    internal static void Transpose8x16(float* tile, int channels, float* y, float* residual, int outputSize, Vector256<float> low, Vector256<float> high)
    {
        var r0 = Vector512.Load(tile); var r1 = Vector512.Load(tile + 16); var r2 = Vector512.Load(tile + 32); var r3 = Vector512.Load(tile + 48);
        var r4 = Vector512.Load(tile + 64); var r5 = Vector512.Load(tile + 80); var r6 = Vector512.Load(tile + 96); var r7 = Vector512.Load(tile + 112);
        // Round 1, pixels r and r + 4: vector (c3, r1, r0), position (r2, c2, c1, c0).
        Swap(ref r0, ref r4, TransposeIndices.Round1Low, TransposeIndices.Round1High);
        Swap(ref r1, ref r5, TransposeIndices.Round1Low, TransposeIndices.Round1High);
        Swap(ref r2, ref r6, TransposeIndices.Round1Low, TransposeIndices.Round1High);
        Swap(ref r3, ref r7, TransposeIndices.Round1Low, TransposeIndices.Round1High);
        // Round 2, vectors differing in r1: vector (c3, c2, r0), position (r2, r1, c1, c0).
        Swap(ref r0, ref r2, TransposeIndices.Round2Low, TransposeIndices.Round2High);
        Swap(ref r1, ref r3, TransposeIndices.Round2Low, TransposeIndices.Round2High);
        Swap(ref r4, ref r6, TransposeIndices.Round2Low, TransposeIndices.Round2High);
        Swap(ref r5, ref r7, TransposeIndices.Round2Low, TransposeIndices.Round2High);
        // Round 3, vectors differing in r0: vector (c3, c2, c1), position (c0, r2, r1, r0): channel 2k then 2k + 1.
        Swap(ref r0, ref r1, TransposeIndices.Round3Low, TransposeIndices.Round3High);
        Swap(ref r2, ref r3, TransposeIndices.Round3Low, TransposeIndices.Round3High);
        Swap(ref r4, ref r5, TransposeIndices.Round3Low, TransposeIndices.Round3High);
        Swap(ref r6, ref r7, TransposeIndices.Round3Low, TransposeIndices.Round3High);
        // Vector index (c3, c2, c1) after the rounds: r0, r1 hold channels 0–3, r2, r3 4–7, r4, r5 8–11, r6, r7 12–15.
        StorePair(r0, 0); StorePair(r1, 2); StorePair(r2, 4); StorePair(r3, 6);
        StorePair(r4, 8); StorePair(r5, 10); StorePair(r6, 12); StorePair(r7, 14);

        void StorePair(Vector512<float> pair, int channel)
        {
            if (channel < channels) StoreRow(pair.GetLower(), channel, y, residual, outputSize, low, high);
            if (channel + 1 < channels) StoreRow(pair.GetUpper(), channel + 1, y, residual, outputSize, low, high);
        }
    }

    /// <summary>
    /// 8 pixels × 8 channels (8 ymm) to 8 channels × 8 pixels: the classic unpack, shuffle, 128-bit permute rounds
    /// (24 instructions instead of 64 scalar moves).
    /// </summary>
    internal static void Transpose8x8(float* tile, int channels, float* y, float* residual, int outputSize, Vector256<float> low, Vector256<float> high)
    {
        var r0 = Vector256.Load(tile); var r1 = Vector256.Load(tile + 8); var r2 = Vector256.Load(tile + 16); var r3 = Vector256.Load(tile + 24);
        var r4 = Vector256.Load(tile + 32); var r5 = Vector256.Load(tile + 40); var r6 = Vector256.Load(tile + 48); var r7 = Vector256.Load(tile + 56);
        // Pairs of pixels interleaved per 128-bit lane, then quads, then the lanes swapped.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1); var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5); var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE); var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE); var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        StoreRow(Avx.Permute2x128(u0, u4, 0x20), 0);
        StoreRow(Avx.Permute2x128(u1, u5, 0x20), 1);
        StoreRow(Avx.Permute2x128(u2, u6, 0x20), 2);
        StoreRow(Avx.Permute2x128(u3, u7, 0x20), 3);
        StoreRow(Avx.Permute2x128(u0, u4, 0x31), 4);
        StoreRow(Avx.Permute2x128(u1, u5, 0x31), 5);
        StoreRow(Avx.Permute2x128(u2, u6, 0x31), 6);
        StoreRow(Avx.Permute2x128(u3, u7, 0x31), 7);

        void StoreRow(Vector256<float> row, int channel)
        {
            if (channel < channels) ChannelBlockedConvolution.StoreRow(row, channel, y, residual, outputSize, low, high);
        }
    }

    /// <summary>y[channel, 0..8) = clamp(row (+ residual[channel, 0..8))).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(Vector256<float> row, int channel, float* y, float* residual, int outputSize, Vector256<float> low, Vector256<float> high)
    {
        long offset = (long)channel * outputSize;
        if (residual != null) row += Vector256.Load(residual + offset);
        // maxps/minps return the second operand when either is NaN: bounds first, so a NaN passes through as
        // Relu and Clip pass it; Vector256.Max/Min would cost seven instructions each for IEEE signed zeros.
        Vector256.Store(Vector256.MinNative(high, Vector256.MaxNative(low, row)), y + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Swap(ref Vector512<float> low, ref Vector512<float> high, Vector512<int> lowIndices, Vector512<int> highIndices)
    {
        var first = Avx512F.PermuteVar16x32x2(low, lowIndices, high);
        high = Avx512F.PermuteVar16x32x2(low, highIndices, high);
        low = first;
    }

    /// <summary>The permute controls of <see cref="Transpose8x16"/> (index ≥ 16 picks the second source).</summary>
    static class TransposeIndices
    {
        // Round 1 moves pixel bit r2 to position bit 3, channel bit c3 to the vector index: the 256-bit halves.
        public static readonly Vector512<int> Round1Low = Indices(i => i < 8 ? i : i + 8);
        public static readonly Vector512<int> Round1High = Indices(i => i < 8 ? i + 8 : i + 16);
        // Round 2: position (r2, r1, c1, c0) takes source (r1 ? B : A)[r2·8 + c2·4 + c1c0].
        public static readonly Vector512<int> Round2Low = Indices(i => (i >> 2 & 1) * 16 + (i >> 3) * 8 + (i & 3));
        public static readonly Vector512<int> Round2High = Indices(i => (i >> 2 & 1) * 16 + (i >> 3) * 8 + 4 + (i & 3));
        // Round 3: position (c0, r2, r1, r0) takes source (r0 ? B : A)[r2·8 + r1·4 + c1·2 + c0].
        public static readonly Vector512<int> Round3Low = Indices(i => (i & 1) * 16 + (i >> 2 & 1) * 8 + (i >> 1 & 1) * 4 + (i >> 3));
        public static readonly Vector512<int> Round3High = Indices(i => (i & 1) * 16 + (i >> 2 & 1) * 8 + (i >> 1 & 1) * 4 + 2 + (i >> 3));

        static Vector512<int> Indices(Func<int, int> index)
        {
            Span<int> values = stackalloc int[16];
            for (int i = 0; i < 16; i++) values[i] = index(i);
            return Vector512.Create((ReadOnlySpan<int>)values);
        }
    }

    enum TileKind { OneBlock, TwoBlocks, TwoRows, TwoBlocksTwoRows }
    interface ITileShape { static abstract TileKind Kind { get; } }
    readonly struct OneBlock : ITileShape { public static TileKind Kind => TileKind.OneBlock; }
    readonly struct TwoBlocks : ITileShape { public static TileKind Kind => TileKind.TwoBlocks; }
    readonly struct TwoRows : ITileShape { public static TileKind Kind => TileKind.TwoRows; }
    readonly struct TwoBlocksTwoRows : ITileShape { public static TileKind Kind => TileKind.TwoBlocksTwoRows; }
}
