using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Winograd F(4×4, 5×5) vectorised over output channels, for 5×5, stride-1, dilation-1, ungrouped 2-D convolutions with
/// few channels on small planes (LeNet's and MNIST's 5×5 layers): each 4×4 output tile costs 64 multiplies per (input,
/// output) channel pair instead of 400, 6.25 times less arithmetic than the direct kernel. y = Aᵀ [ U ⊙ (Bᵀ d B) ] A per
/// tile of 8×8 inputs, with U = G g Gᵀ transformed at type initialisation (<see cref="WinogradF4x5Filter"/>).
/// </summary>
/// <remarks>
/// Laid out like <see cref="WinogradBlocked"/>'s F(4×4, 3×3), whose 4×4 tiles step the image by 4 pixels too: the
/// zero-padded image split into its 16 phases (<see cref="FourPhaseImage"/>), tile t = ty·(TW + 1) + tx (one dummy tile
/// per row), so the 64 inputs of consecutive tiles are 64 contiguous vectors. Per image: (1) the input transform
/// V = Bᵀ d B of every tile and input channel, a vector of tiles at a time. (2) For each group of up to 8 tiles (up
/// to 4 columns of one or more tile rows) × 1 or 2 blocks of L output channels (or 4 tiles × up to 4 blocks), the 64 position products over input
/// channels, with the transformed weights of L output channels as one vector and each tile's transformed input
/// broadcast into it, all accumulators in registers.
/// (3) The output transform Aᵀ M A on those output-channel vectors, plus the bias, then the transposed store back to
/// NCHW of <see cref="ChannelBlockedConvolution"/>, with the residual and clamp (Relu, Clip) fused, or first a 2×2
/// stride-2 max pool of the tiles (a following MaxPool fused: each 4×4 tile pools to 2×2 on its own).
/// Aᵀ's largest coefficient is 8, Bᵀ's 21/4 and G's smallest 1/90, yet on the kernel tests the worst error is
/// 1e-6·(Σ|w·x| + 1), no more than F(4×4, 3×3)'s (2.5e-6).
/// </remarks>
public static unsafe class WinogradF4x5
{
    const int MaxLanes = 16;
    const int Positions = WinogradF4x5Filter.Positions;
    /// <summary>Accumulators of a group at most: 8 tiles × 2 blocks or 4 tiles × 4 blocks.</summary>
    const int MaxAccumulators = 16;
    /// <summary>Floats from one position's products to the next: a vector more than the accumulators, so that the 64 products the output transform reads for a tile do not all fall in the same L1 sets.</summary>
    const int ProductsStride = (MaxAccumulators + 1) * MaxLanes;
    /// <summary>
    /// Output tiles of one group before the transposed store: B blocks × R tile rows of 4 pixel rows × 4K pixels rounded
    /// up to 8, for R·K ≤ 8 tiles × 2 blocks or 4 tiles × 4 blocks (at most 512 pixels, for one-tile-wide planes) × lanes.
    /// </summary>
    const int OutputTilesSize = 4 * 4 * 4 * 8 * MaxLanes;

    /// <summary>Floats of the <c>scratch</c> <see cref="Convolve"/> needs (the same on every tier).</summary>
    public static int ScratchSize(int inChannels, int[] geometry)
    {
        var tiling = new Tiling(new Window2D(new Window(geometry)));
        return inChannels * 16 * tiling.PhaseSize + FourPhaseImage.RowSize(tiling.Pitch) + Positions * inChannels * tiling.TileStride +
               Positions * ProductsStride + OutputTilesSize;
    }

    /// <summary>
    /// y = W ⊛ x + b (+ the fused residual, then the fused activation) for a 5×5, stride-1, dilation-1, group-1
    /// convolution with the transformed filter <paramref name="filter"/> (<see cref="WinogradF4x5Filter.Pack"/>).
    /// <paramref name="scratch"/> holds <see cref="ScratchSize"/> floats. With <paramref name="maxPool2x2"/>, y receives
    /// instead the 2×2 stride-2 max pool of that (floor mode, no padding: ⌊OH / 2⌋ × ⌊OW / 2⌋ per channel), which needs no
    /// residual and a clamp activation (Relu, Clip or none: they commute with the max).
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, WinogradF4x5Filter filter, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int inChannels, int[] geometry, FusedActivation activation = default, ReadOnlySpan<float> residual = default, bool maxPool2x2 = false)
    {
        ArgumentNullException.ThrowIfNull(geometry); // before ScratchSize reads it
        var window = ChannelBlockArguments.CheckWinograd(filter, geometry, 5, "Winograd F(4×4, 5×5)", x, y, bias, residual, scratch.Length,
            ScratchSize(inChannels, geometry), batch, inChannels, maxPool2x2);
        bool clamps = ChannelBlockArguments.Clamps(activation, out float low, out float high);
        if (maxPool2x2 && !clamps)
            throw new ArgumentException($"a pooled output takes Relu, Clip or no activation (those commute with the max), not {activation.Kind}", nameof(activation));
        int outChannels = filter.OutChannels, inputSize = window.InputHeight * window.InputWidth;
        int outputSize = maxPool2x2 ? window.OutputHeight / 2 * (window.OutputWidth / 2) : window.OutputHeight * window.OutputWidth;
        var tiling = new Tiling(window);
        // Each block's bias, zero past the channels (and without bias).
        int lanes = filter.Lanes, blocks = filter.Blocks;
        float* blockBias = stackalloc float[blocks * lanes];
        for (int i = 0; i < blocks * lanes; i++) blockBias[i] = i < outChannels && !bias.IsEmpty ? bias[i] : 0f;
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* ps = scratch)
        fixed (float* pr = residual)
        {
            float* phases = ps, row = phases + (long)inChannels * 16 * tiling.PhaseSize, v = row + FourPhaseImage.RowSize(tiling.Pitch);
            float* products = v + (long)Positions * inChannels * tiling.TileStride, outputTiles = products + Positions * ProductsStride;
            for (int n = 0; n < batch; n++)
            {
                float* image = px + (long)n * inChannels * inputSize;
                FourPhaseImage.Split(image, inChannels, inputSize, window.InputHeight, window.InputWidth, window.PadTop, window.PadLeft,
                    tiling.TileRows + 1, tiling.Pitch, tiling.PhaseSize, phases, row, px, px + x.Length);
                var images = new Images(phases, v, products, outputTiles, inChannels, tiling, window, low, high,
                    py + (long)n * outChannels * outputSize, pr == null ? null : pr + (long)n * outChannels * outputSize, blockBias, maxPool2x2);
                switch (filter.Tier)
                {
                    case GemmTier.Avx512: Image<ChannelVector512, Vector512<float>>(images, filter); break;
                    case GemmTier.Fma256: Image<ChannelVector256, Vector256<float>>(images, filter); break;
                    case GemmTier.Vector128: Image<ChannelVector128, Vector128<float>>(images, filter); break;
                    default: Image<ChannelScalar, float>(images, filter); break;
                }
                if (!clamps) activation.Apply(y.Slice(n * outChannels * outputSize, outChannels * outputSize));
            }
        }
    }

    /// <summary>
    /// The tiling of one image: TH × TW output tiles of 4×4 (the last ones overhanging the output), numbered
    /// t = ty·pitch + tx with pitch = TW + 1; tile t reads its input (k, l) from phase (k mod 4, l mod 4) at
    /// t + (k / 4)·pitch + l / 4, so the phases need TH + 1 rows (and 16 floats more, for a vector of tiles read past the
    /// last one).
    /// </summary>
    readonly struct Tiling
    {
        public readonly int TileRows, TileColumns, Pitch, TileStride, PhaseSize;

        public Tiling(in Window2D window)
        {
            TileRows = (window.OutputHeight + 3) / 4;
            TileColumns = (window.OutputWidth + 3) / 4;
            Pitch = TileColumns + 1;
            // The transformed input of one position and channel: every tile, written a whole vector at a time. Not rounded
            // to a vector: the 64 positions, C·TileStride floats apart, would then fall in the same L1 sets on planes
            // like mnist-8's (GemmBench conv: its 8→16 at 14×14 took 6.6 µs instead of 5.1).
            // Planes of at most 8 tiles (with the dummy column) are transformed 8 or fewer lanes at a time, so 8 floats
            // hold them: fashion_lenet5's c2 then keeps V in 40 KB instead of 112 KB, within L1.
            TileStride = TileRows * Pitch <= 8 ? 8 : TileRows * Pitch + MaxLanes;
            PhaseSize = (TileRows + 1) * Pitch + 16;
        }
    }

    /// <summary>Where one image's intermediate results and outputs live, and what every group shares.</summary>
    readonly struct Images
    {
        public readonly float* Phases, V, Products, OutputTiles, Output, Residual, Bias;
        public readonly int Channels, OutputHeight, OutputWidth;
        public readonly Tiling Tiling;
        public readonly float Low, High;
        /// <summary>Whether Output holds the 2×2 stride-2 max pool of the convolution's output.</summary>
        public readonly bool Pooled;

        public Images(float* phases, float* v, float* products, float* outputTiles, int channels, in Tiling tiling, in Window2D window,
            float low, float high, float* output, float* residual, float* bias, bool pooled)
        {
            Pooled = pooled;
            Phases = phases;
            V = v;
            Products = products;
            OutputTiles = outputTiles;
            Output = output;
            Residual = residual;
            Bias = bias;
            (Channels, OutputHeight, OutputWidth, Tiling, Low, High) = (channels, window.OutputHeight, window.OutputWidth, tiling, low, high);
        }
    }

    /// <summary>
    /// One group: tile rows ty0 … ty0 + rows − 1 × tile columns tx0 … tx0 + columns − 1 (tile i at row i / columns and
    /// column i mod columns), × channel blocks block0 … block0 + blocks − 1.
    /// </summary>
    readonly struct Group
    {
        public readonly int Row, Rows, Column, Columns, Block, Blocks;

        public Group(int row, int rows, int column, int columns, int block, int blocks) =>
            (Row, Rows, Column, Columns, Block, Blocks) = (row, rows, column, columns, block, blocks);

        public int Tiles => Rows * Columns;
    }

    /// <summary>
    /// One image: the input transform, then the groups: up to 4 tile columns (a tile row split into equal runs when
    /// longer) and as many tile rows as make at most 8 tiles × 1 or 2 blocks, or 4 tiles × 3 or 4 blocks, within the
    /// tier's register budget (two blocks of <see cref="IChannelVector{TVector}.MaxPixels"/> accumulators): each
    /// broadcast tile value then feeds every block of the group, each weight vector every tile.
    /// </summary>
    static void Image<TOps, TVector>(in Images images, WinogradF4x5Filter filter) where TOps : IChannelVector<TVector> where TVector : struct
    {
        var s = images.Tiling;
        // The input transform is vectorised over tiles: planes of at most 8 (or 4) tiles, with the dummy column, take
        // narrower vectors instead of leaving most lanes idle (fashion_lenet5's c2 has 6 tiles: 10 of 16 lanes idle).
        int tileCount = s.TileRows * s.Pitch;
        if (TOps.Lanes > 8 && tileCount <= 8) TransformInput<ChannelVector256, Vector256<float>>(images);
        else if (TOps.Lanes > 4 && tileCount <= 4) TransformInput<ChannelVector128, Vector128<float>>(images);
        else TransformInput<TOps, TVector>(images);
        int budget = 2 * TOps.MaxPixels, blocksPerGroup = filter.Blocks <= 2 ? filter.Blocks : Math.Min(4, budget / 4);
        int tiles = Math.Min(blocksPerGroup <= 2 ? 8 : 4, budget / blocksPerGroup);
        int parts = (s.TileColumns + 3) / 4, columns = Math.Min(tiles, (s.TileColumns + parts - 1) / parts), rows = tiles / columns;
        for (int block = 0; block < filter.Blocks; block += blocksPerGroup)
            for (int ty = 0; ty < s.TileRows; ty += rows)
                for (int tx = 0; tx < s.TileColumns; tx += columns)
                    Products<TOps, TVector>(images, filter, new Group(ty, Math.Min(rows, s.TileRows - ty), tx, Math.Min(columns, s.TileColumns - tx),
                        block, Math.Min(blocksPerGroup, filter.Blocks - block)));
    }

    /// <summary>V[ξ][c][t] = (Bᵀ d_t B)[ξ] for every input channel c and tile t, L tiles at a time.</summary>
    static void TransformInput<TOps, TVector>(in Images images) where TOps : IChannelVector<TVector> where TVector : struct
    {
        var s = images.Tiling;
        int lanes = TOps.Lanes, size = s.PhaseSize, pitch = s.Pitch, tiles = s.TileRows * pitch;
        long positionStride = (long)images.Channels * s.TileStride;
        // The rows of Bᵀ-transformed rows, d B, 8 × 8 vectors.
        float* rows = stackalloc float[Positions * MaxLanes];
        for (int c = 0; c < images.Channels; c++)
        {
            float* phases = images.Phases + (long)c * 16 * size, target = images.V + (long)c * s.TileStride;
            for (int t = 0; t < tiles; t += lanes)
            {
                for (int k = 0; k < 8; k++)
                {
                    // d[k][l] is phase (k mod 4, l mod 4) at t + (k / 4)·pitch + l / 4.
                    float* row = phases + (long)(k % 4) * 4 * size + k / 4 * pitch + t;
                    Transform8<TOps, TVector>(TOps.Load(row), TOps.Load(row + size), TOps.Load(row + 2 * size), TOps.Load(row + 3 * size),
                        TOps.Load(row + 1), TOps.Load(row + size + 1), TOps.Load(row + 2 * size + 1), TOps.Load(row + 3 * size + 1),
                        rows + 8 * k * lanes, lanes);
                }
                // The columns of d B, each through Bᵀ: position 8i + j.
                for (int j = 0; j < 8; j++)
                {
                    float* column = rows + j * lanes;
                    Transform8<TOps, TVector>(TOps.Load(column), TOps.Load(column + 8 * lanes), TOps.Load(column + 16 * lanes),
                        TOps.Load(column + 24 * lanes), TOps.Load(column + 32 * lanes), TOps.Load(column + 40 * lanes),
                        TOps.Load(column + 48 * lanes), TOps.Load(column + 56 * lanes), target + t + j * positionStride, 8 * positionStride);
                }
            }
        }
    }

    /// <summary>
    /// z = Bᵀ d for eight values, z[i] stored at <paramref name="z"/> + i·<paramref name="stride"/>. Bᵀ's rows are the
    /// coefficients of Πₗ≠ⱼ (x − pₗ) for the finite points pⱼ of <see cref="WinogradF4x5Filter.Points"/>, then of Πₗ (x − pₗ):
    /// −1 0 21/4 0 −21/4 0 1 0; 0 ±1 1 ∓17/4 −17/4 ±1 1 0; 0 ±1/2 1/4 ∓5/2 −5/4 ±2 1 0; 0 ±2 4 ∓5/2 −5 ±1/2 1 0;
    /// 0 −1 0 21/4 0 −21/4 0 1. Each ± pair is an even and an odd part, added and subtracted.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transform8<TOps, TVector>(TVector d0, TVector d1, TVector d2, TVector d3, TVector d4, TVector d5, TVector d6, TVector d7, float* z, long stride)
        where TOps : IChannelVector<TVector> where TVector : struct
    {
        TVector c21 = TOps.Broadcast(5.25f), c17 = TOps.Broadcast(-4.25f);
        TOps.Store(TOps.MultiplyAdd(c21, TOps.Subtract(d2, d4), TOps.Subtract(d6, d0)), z);
        TVector even = TOps.MultiplyAdd(c17, d4, TOps.Add(d2, d6)), odd = TOps.MultiplyAdd(c17, d3, TOps.Add(d1, d5));
        TOps.Store(TOps.Add(even, odd), z + stride);
        TOps.Store(TOps.Subtract(even, odd), z + 2 * stride);
        even = TOps.MultiplyAdd(TOps.Broadcast(0.25f), d2, TOps.MultiplyAdd(TOps.Broadcast(-1.25f), d4, d6));
        odd = TOps.MultiplyAdd(TOps.Broadcast(0.5f), d1, TOps.MultiplyAdd(TOps.Broadcast(-2.5f), d3, TOps.Add(d5, d5)));
        TOps.Store(TOps.Add(even, odd), z + 3 * stride);
        TOps.Store(TOps.Subtract(even, odd), z + 4 * stride);
        even = TOps.MultiplyAdd(TOps.Broadcast(4f), d2, TOps.MultiplyAdd(TOps.Broadcast(-5f), d4, d6));
        odd = TOps.MultiplyAdd(TOps.Broadcast(0.5f), d5, TOps.MultiplyAdd(TOps.Broadcast(-2.5f), d3, TOps.Add(d1, d1)));
        TOps.Store(TOps.Add(even, odd), z + 5 * stride);
        TOps.Store(TOps.Subtract(even, odd), z + 6 * stride);
        TOps.Store(TOps.MultiplyAdd(c21, TOps.Subtract(d3, d5), TOps.Subtract(d7, d1)), z + 7 * stride);
    }

    /// <summary>The 64 position products of one group, then its output transform and store.</summary>
    static void Products<TOps, TVector>(in Images images, WinogradF4x5Filter filter, in Group group) where TOps : IChannelVector<TVector> where TVector : struct
    {
        var s = images.Tiling;
        int lanes = TOps.Lanes, blockStride = images.Channels * lanes;
        var product = new ProductArguments(images.V + group.Row * s.Pitch + group.Column, s.TileStride, (long)images.Channels * s.TileStride,
            filter.Weights(0, group.Block), filter.PositionStride, blockStride, images.Channels, group, s.Pitch, images.Products,
            group.Block + group.Blocks == filter.Blocks ? filter.TailLanes : lanes);
        switch (group.Blocks)
        {
            case 1: Product<TOps, TVector, Pixels1>(group.Tiles, product); break;
            case 2: Product<TOps, TVector, Pixels2>(group.Tiles, product); break;
            case 3: Product<TOps, TVector, Pixels3>(group.Tiles, product); break;
            default: Product<TOps, TVector, Pixels4>(group.Tiles, product); break;
        }
        float* transformRows = stackalloc float[32 * MaxLanes];
        int pitch = (4 * group.Columns + 7) / 8 * 8;
        for (int b = 0; b < group.Blocks; b++)
        {
            TVector bias = TOps.Load(images.Bias + (group.Block + b) * filter.Lanes);
            for (int i = 0; i < group.Tiles; i++)
                WinogradOutputTransform.Apply<TOps, TVector, FourOfEight>(images.Products + (long)(b * group.Tiles + i) * lanes, ProductsStride, bias,
                    images.OutputTiles + (((long)b * group.Rows + i / group.Columns) * 4 * pitch + 4 * (i % group.Columns)) * lanes, pitch * lanes, transformRows);
        }
        if (images.Pooled) WinogradOutputTransform.Pool<TOps, TVector>(images.OutputTiles, group.Blocks, group.Rows, group.Columns, pitch);
        Store(images, filter, group, lanes, pitch);
    }

    /// <summary>
    /// What the products of one group share: position ξ's tiles and weights are ξ position strides on from V and
    /// Weights; tile i is at (i / columns)·pitch + i mod columns, block b's weights b·BlockStride on. The group's last
    /// block holds LastLanes floats per input channel (fewer than L when it is the filter's compact tail).
    /// </summary>
    readonly struct ProductArguments
    {
        public readonly float* V, Weights, Products;
        public readonly long TilePositionStride, WeightPositionStride;
        public readonly int ChannelStride, BlockStride, Depth, Columns, Pitch, LastLanes;

        public ProductArguments(float* v, int channelStride, long tilePositionStride, float* weights, long weightPositionStride, int blockStride, int depth,
            in Group group, int pitch, float* products, int lastLanes)
        {
            LastLanes = lastLanes;
            V = v;
            Weights = weights;
            Products = products;
            (ChannelStride, TilePositionStride, WeightPositionStride, BlockStride, Depth, Columns, Pitch) =
                (channelStride, tilePositionStride, weightPositionStride, blockStride, depth, group.Columns, pitch);
        }

        public int Tile(int i) => i / Columns * Pitch + i % Columns;
    }

    /// <summary>Picks the instantiation for the tile count (each keeps its accumulators in registers).</summary>
    static void Product<TOps, TVector, TBlocks>(int tiles, in ProductArguments arguments)
        where TOps : IChannelVector<TVector> where TVector : struct where TBlocks : IPixelCount
    {
        switch (tiles)
        {
            case 1: Product<TOps, TVector, Pixels1, TBlocks>(arguments); break;
            case 2: Product<TOps, TVector, Pixels2, TBlocks>(arguments); break;
            case 3: Product<TOps, TVector, Pixels3, TBlocks>(arguments); break;
            case 4: Product<TOps, TVector, Pixels4, TBlocks>(arguments); break;
            case 5 when TBlocks.Count <= 2: Product<TOps, TVector, Pixels5, TBlocks>(arguments); break;
            case 6 when TBlocks.Count <= 2: Product<TOps, TVector, Pixels6, TBlocks>(arguments); break;
            case 7 when TBlocks.Count <= 2: Product<TOps, TVector, Pixels7, TBlocks>(arguments); break;
            case 8 when TBlocks.Count <= 2: Product<TOps, TVector, Pixels8, TBlocks>(arguments); break;
            default: throw new ArgumentOutOfRangeException(nameof(tiles), tiles, "more tiles × blocks than the register tile holds");
        }
    }

    /// <summary>
    /// M[ξ] = Σ_c U[ξ][c] · V[ξ][c][t] for every position ξ, N tiles × B blocks (N ≤ 8 for B ≤ 2, N ≤ 4 for B ≤ 4), all
    /// in registers: per input channel, each block's weight vector is loaded once and each tile's value broadcast once.
    /// Stored as <c>products[ξ][block·N + tile][lane]</c>.
    /// </summary>
    static void Product<TOps, TVector, TTiles, TBlocks>(in ProductArguments arguments)
        where TOps : IChannelVector<TVector> where TVector : struct where TTiles : IPixelCount where TBlocks : IPixelCount
    {
        int n = TTiles.Count, lanes = TOps.Lanes, depth = arguments.Depth, stride = arguments.ChannelStride, blocks = TBlocks.Count;
        int blockStride = arguments.BlockStride, lastLanes = arguments.LastLanes;
        int tile1 = arguments.Tile(1), tile2 = arguments.Tile(2), tile3 = arguments.Tile(3), tile4 = arguments.Tile(4), tile5 = arguments.Tile(5);
        int tile6 = arguments.Tile(6), tile7 = arguments.Tile(7);
        TVector zero = TOps.Broadcast(0f);
        for (int xi = 0; xi < Positions; xi++)
        {
            float* p = arguments.V + xi * arguments.TilePositionStride, q = arguments.Weights + xi * arguments.WeightPositionStride;
            float* last = q + (blocks - 1) * blockStride;
            // Tile i of block 0 in a[i], block 1 in b[i]; blocks 2 and 3 (at most 4 tiles) in c[i] and d[i].
            TVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
            TVector b0 = zero, b1 = zero, b2 = zero, b3 = zero, b4 = zero, b5 = zero, b6 = zero, b7 = zero;
            TVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, d0 = zero, d1 = zero, d2 = zero, d3 = zero;
            for (int k = 0; k < depth; k++, p += stride, q += lanes, last += lastLanes)
            {
                // The last block through LoadLow: it may be the filter's compact tail, lastLanes floats per channel.
                TVector wLast = TOps.LoadLow(last, lastLanes);
                TVector w0 = blocks > 1 ? TOps.Load(q) : wLast, w1 = blocks > 2 ? TOps.Load(q + blockStride) : blocks == 2 ? wLast : zero;
                TVector w2 = blocks > 3 ? TOps.Load(q + 2 * blockStride) : blocks == 3 ? wLast : zero, w3 = blocks > 3 ? wLast : zero;
                Accumulate<TOps, TVector>(ref a0, ref b0, ref c0, ref d0, TOps.Broadcast(p[0]), w0, w1, w2, w3, blocks);
                if (n > 1) Accumulate<TOps, TVector>(ref a1, ref b1, ref c1, ref d1, TOps.Broadcast(p[tile1]), w0, w1, w2, w3, blocks);
                if (n > 2) Accumulate<TOps, TVector>(ref a2, ref b2, ref c2, ref d2, TOps.Broadcast(p[tile2]), w0, w1, w2, w3, blocks);
                if (n > 3) Accumulate<TOps, TVector>(ref a3, ref b3, ref c3, ref d3, TOps.Broadcast(p[tile3]), w0, w1, w2, w3, blocks);
                if (n > 4) Accumulate<TOps, TVector>(ref a4, ref b4, ref c0, ref d0, TOps.Broadcast(p[tile4]), w0, w1, w2, w3, blocks);
                if (n > 5) Accumulate<TOps, TVector>(ref a5, ref b5, ref c0, ref d0, TOps.Broadcast(p[tile5]), w0, w1, w2, w3, blocks);
                if (n > 6) Accumulate<TOps, TVector>(ref a6, ref b6, ref c0, ref d0, TOps.Broadcast(p[tile6]), w0, w1, w2, w3, blocks);
                if (n > 7) Accumulate<TOps, TVector>(ref a7, ref b7, ref c0, ref d0, TOps.Broadcast(p[tile7]), w0, w1, w2, w3, blocks);
            }
            float* products = arguments.Products + (long)xi * ProductsStride;
            StoreBlock<TOps, TVector, TTiles>(a0, a1, a2, a3, a4, a5, a6, a7, products);
            if (blocks > 1) StoreBlock<TOps, TVector, TTiles>(b0, b1, b2, b3, b4, b5, b6, b7, products + n * lanes);
            if (blocks > 2) StoreBlock<TOps, TVector, TTiles>(c0, c1, c2, c3, zero, zero, zero, zero, products + 2 * n * lanes);
            if (blocks > 3) StoreBlock<TOps, TVector, TTiles>(d0, d1, d2, d3, zero, zero, zero, zero, products + 3 * n * lanes);
        }
    }

    /// <summary>One tile's value times each block's weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Accumulate<TOps, TVector>(ref TVector block0, ref TVector block1, ref TVector block2, ref TVector block3, TVector value,
        TVector w0, TVector w1, TVector w2, TVector w3, int blocks) where TOps : IChannelVector<TVector> where TVector : struct
    {
        block0 = TOps.MultiplyAdd(value, w0, block0);
        if (blocks > 1) block1 = TOps.MultiplyAdd(value, w1, block1);
        if (blocks > 2) block2 = TOps.MultiplyAdd(value, w2, block2);
        if (blocks > 3) block3 = TOps.MultiplyAdd(value, w3, block3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreBlock<TOps, TVector, TTiles>(TVector t0, TVector t1, TVector t2, TVector t3, TVector t4, TVector t5, TVector t6, TVector t7, float* target)
        where TOps : IChannelVector<TVector> where TVector : struct where TTiles : IPixelCount
    {
        int n = TTiles.Count, lanes = TOps.Lanes;
        TOps.Store(t0, target);
        if (n > 1) TOps.Store(t1, target + lanes);
        if (n > 2) TOps.Store(t2, target + 2 * lanes);
        if (n > 3) TOps.Store(t3, target + 3 * lanes);
        if (n > 4) TOps.Store(t4, target + 4 * lanes);
        if (n > 5) TOps.Store(t5, target + 5 * lanes);
        if (n > 6) TOps.Store(t6, target + 6 * lanes);
        if (n > 7) TOps.Store(t7, target + 7 * lanes);
    }

    /// <summary>
    /// y = Aᵀ m for eight values; Aᵀ's columns are (1, pⱼ, pⱼ², pⱼ³) for the finite points, then (0, 0, 0, 1): rows
    /// 1 1 1 1 1 1 1 0; 0 1 −1 2 −2 1/2 −1/2 0; 0 1 1 4 4 1/4 1/4 0; 0 1 −1 8 −8 1/8 −1/8 1.
    /// </summary>
    readonly struct FourOfEight : IWinogradOutputTransform
    {
        public static int Points => 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Transform<TOps, TVector>(float* m, long stride, out TVector y0, out TVector y1, out TVector y2, out TVector y3)
            where TOps : IChannelVector<TVector> where TVector : struct
        {
            TVector m0 = TOps.Load(m), m7 = TOps.Load(m + 7 * stride);
            TVector m1 = TOps.Load(m + stride), m2 = TOps.Load(m + 2 * stride), m3 = TOps.Load(m + 3 * stride), m4 = TOps.Load(m + 4 * stride);
            TVector m5 = TOps.Load(m + 5 * stride), m6 = TOps.Load(m + 6 * stride);
            TVector sum12 = TOps.Add(m1, m2), difference12 = TOps.Subtract(m1, m2), sum34 = TOps.Add(m3, m4), difference34 = TOps.Subtract(m3, m4);
            TVector sum56 = TOps.Add(m5, m6), difference56 = TOps.Subtract(m5, m6);
            y0 = TOps.Add(TOps.Add(m0, sum12), TOps.Add(sum34, sum56));
            y1 = TOps.MultiplyAdd(TOps.Broadcast(0.5f), difference56, TOps.MultiplyAdd(TOps.Broadcast(2f), difference34, difference12));
            y2 = TOps.MultiplyAdd(TOps.Broadcast(0.25f), sum56, TOps.MultiplyAdd(TOps.Broadcast(4f), sum34, sum12));
            y3 = TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(0.125f), difference56, TOps.MultiplyAdd(TOps.Broadcast(8f), difference34, difference12)), m7);
        }
    }

    /// <summary>
    /// The group's output tiles back to NCHW, runs of 8 pixels per output row through the direct kernel's in-register
    /// transpose (which adds the residual and clamps). A run may write past its last valid pixel onto pixels of the same
    /// plane that are stored later (later rows or groups); where that could hit stored pixels (the plane's end, or a row
    /// end when groups split rows) the run is stored pixel by pixel. Pooled, each tile stores 2×2 pixels of the pooled
    /// plane (from the first rows and columns of each block's tiles, <see cref="WinogradOutputTransform.Pool{TOps, TVector}"/>).
    /// </summary>
    static void Store(in Images images, WinogradF4x5Filter filter, in Group group, int lanes, int pitch)
    {
        int side = images.Pooled ? 2 : 4, height = images.OutputHeight * side / 4, width = images.OutputWidth * side / 4, outputSize = height * width;
        bool wholeRows = group.Columns == images.Tiling.TileColumns;
        var low = Vector256.Create(images.Low);
        var high = Vector256.Create(images.High);
        float* run = stackalloc float[16 * 8];
        for (int b = 0; b < group.Blocks; b++)
        {
            // The block's first channel: block·L, whatever the width of the vectors that computed it (a compact tail's are narrower).
            int block = group.Block + b, first = block * filter.Lanes, channels = Math.Min(lanes, filter.OutChannels - first);
            long plane = (long)first * outputSize;
            float* y = images.Output + plane, residual = images.Residual == null ? null : images.Residual + plane;
            for (int r = 0; r < side * group.Rows; r++)
            {
                int oh = side * group.Row + r;
                if (oh >= height) break;
                float* source = images.OutputTiles + ((long)b * 4 * group.Rows + r) * pitch * lanes;
                for (int column = 0; column < side * group.Columns; column += 8)
                {
                    int ow = side * group.Column + column;
                    if (ow >= width) break;
                    int at = oh * width + ow;
                    bool spills = wholeRows ? at + 8 > outputSize : ow + 8 > width;
                    float* tile = source + (long)column * lanes, added = residual == null ? null : residual + at;
                    if (lanes == 16 && !spills && Avx512F.IsSupported)
                        ChannelBlockedConvolution.Transpose8x16(tile, channels, y + at, added, outputSize, low, high);
                    else if (lanes == 16 && residual == null && Avx512F.IsSupported)
                    {
                        // A run that would spill: transposed into the stack, then its valid pixels copied (a pooled plane's
                        // last row, 4 pixels × 16 channels, took a quarter of fashion_lenet5's fused c2 store pixel by pixel).
                        ChannelBlockedConvolution.Transpose8x16(tile, channels, run, null, 8, low, high);
                        int count = Math.Min(8, width - ow);
                        for (int m = 0; m < channels; m++) Buffer.MemoryCopy(run + 8 * m, y + (long)m * outputSize + at, count * sizeof(float), count * sizeof(float));
                    }
                    else if (lanes == 8 && !spills && Avx.IsSupported)
                        ChannelBlockedConvolution.Transpose8x8(tile, channels, y + at, added, outputSize, low, high);
                    else
                        for (int m = 0; m < channels; m++)
                            for (int p = 0; p < Math.Min(8, width - ow); p++)
                            {
                                long index = (long)m * outputSize + at + p;
                                float value = tile[p * lanes + m] + (residual == null ? 0f : residual[index]);
                                y[index] = Math.Min(Math.Max(value, images.Low), images.High);
                            }
                }
            }
        }
    }
}
