using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Winograd F(4×4, 3×3) vectorised over output channels, for 3×3, stride-1, dilation-1, ungrouped 2-D convolutions
/// with few channels on small planes: each 4×4 output tile costs 36 multiplies per (input, output) channel pair
/// instead of 144, four times less arithmetic than the direct kernel (Lavin &amp; Gray 2015, points 0, ±1, ±2, ∞).
/// y = Aᵀ [ U ⊙ (Bᵀ d B) ] A per tile, with U = G g Gᵀ transformed at type initialisation
/// (<see cref="WinogradBlockedFilter"/>).
/// </summary>
/// <remarks>
/// With AVX-512 and whole blocks of 16 input channels the input transform runs over channels instead
/// (<see cref="ChannelInterleavedInput"/>), and a pair of channel blocks whose second is at most half full (24 output
/// channels) shares that block's vectors between two tiles (<see cref="BlockAndHalf"/>); otherwise, as follows.
/// The zero-padded image is first split into its 16 phases (<see cref="FourPhaseImage"/>), so that the 36 inputs of
/// consecutive tiles are 36 contiguous vectors (tile t = ty·(TW + 1) + tx, one dummy tile per row). Then three steps
/// per image, or per band of two tile rows on large planes: (1) the input transform V = Bᵀ d B of every tile and input
/// channel in one vector loop.
/// (2) For each of the 36 positions, the "GEMM" over input channels like <see cref="ChannelBlockedConvolution"/>'s:
/// the transformed weights of L output channels are one vector, each tile's transformed input is broadcast into it,
/// up to 16 accumulators (up to 8 tiles of one or two tile rows × one or two channel blocks) in registers. (3) The output transform Aᵀ M A on those output-channel vectors, plus the bias, then the same
/// in-register transposed store back to NCHW as the direct kernel, with the residual and clamp (Relu, Clip) fused.
/// The error grows with the transform's coefficients (up to 8 in A, 5 in B): about ten times the direct kernel's
/// rounding, still some 1e-6 relative to the output's magnitude on unit-scale data.
/// </remarks>
public static unsafe partial class WinogradBlocked
{
    const int MaxLanes = 16;
    const int Positions = WinogradBlockedFilter.Positions;
    /// <summary>
    /// Floats from one position's products to the next: at most 16 tiles × two blocks of lanes, plus one vector, so that
    /// the 36 products the output transform reads for a tile do not all fall in the same two L1 sets (2 KB apart).
    /// </summary>
    const int ProductsStride = 16 * 2 * MaxLanes + MaxLanes;
    /// <summary>Products of one tile group: 36 positions.</summary>
    const int ProductsSize = Positions * ProductsStride;
    /// <summary>
    /// Output tiles of one group before the transposed store: two blocks of 4 rows per tile row (at most 2) × 4n pixels
    /// rounded up to 8 (n ≤ 8 tiles) × lanes.
    /// </summary>
    const int OutputTilesSize = 2 * 8 * 32 * MaxLanes;

    /// <summary>Floats of the <c>scratch</c> <see cref="Convolve"/> needs (the same on every tier).</summary>
    public static int ScratchSize(int inChannels, int[] geometry)
    {
        var tiling = new Tiling(new Window2D(new Window(geometry)), inChannels);
        return inChannels * 16 * tiling.PhaseSize + FourPhaseImage.RowSize(tiling.Pitch) + Positions * inChannels * tiling.BandStride +
               ProductsSize + OutputTilesSize;
    }

    /// <summary>
    /// y = W ⊛ x + b (+ the fused residual, then the fused activation) for a 3×3, stride-1, dilation-1, group-1
    /// convolution with the transformed filter <paramref name="filter"/> (<see cref="WinogradBlockedFilter.Pack"/>).
    /// <paramref name="scratch"/> holds <see cref="ScratchSize"/> floats. With <paramref name="maxPool2x2"/>, y receives
    /// instead the 2×2 stride-2 max pool of that (floor mode, no padding: ⌊OH / 2⌋ × ⌊OW / 2⌋ per channel), pooled per
    /// 4×4 output tile before the store; it needs no residual and a clamp activation (Relu, Clip or none: they commute
    /// with the max).
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, WinogradBlockedFilter filter, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int inChannels, int[] geometry, FusedActivation activation = default, ReadOnlySpan<float> residual = default, bool maxPool2x2 = false)
    {
        ArgumentNullException.ThrowIfNull(geometry); // before ScratchSize reads it
        var window = ChannelBlockArguments.CheckWinograd(filter, geometry, 3, "Winograd F(4×4, 3×3)", x, y, bias, residual, scratch.Length,
            ScratchSize(inChannels, geometry), batch, inChannels, maxPool2x2);
        int outChannels = filter.OutChannels, inputSize = window.InputHeight * window.InputWidth;
        int outputSize = maxPool2x2 ? window.OutputHeight / 2 * (window.OutputWidth / 2) : window.OutputHeight * window.OutputWidth;
        // As in ChannelBlockedConvolution: the residual and a clamp (Relu, Clip or none) are applied as each run is stored.
        bool clamps = ChannelBlockArguments.Clamps(activation, out float low, out float high);
        if (maxPool2x2 && !clamps)
            throw new ArgumentException($"a pooled output takes Relu, Clip or no activation (those commute with the max), not {activation.Kind}", nameof(activation));
        var tiling = new Tiling(window, inChannels);
        float* pairBias = stackalloc float[2 * MaxLanes];
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* ps = scratch)
        fixed (float* pr = residual)
        {
            float* phases = ps, row = phases + (long)inChannels * 16 * tiling.PhaseSize, v = row + FourPhaseImage.RowSize(tiling.Pitch);
            float* products = v + (long)Positions * inChannels * tiling.BandStride, outputTiles = products + ProductsSize;
            for (int n = 0; n < batch; n++)
            {
                float* image = px + (long)n * inChannels * inputSize;
                bool interleaved = ChannelInterleavedInput.Pays(filter, tiling, inChannels);
                var images = new Images(phases, v, products, outputTiles, inChannels, tiling, window, low, high, interleaved, maxPool2x2);
                if (interleaved)
                {
                    // The padded image goes where the phases would, its transform where V would (both fit: see Pays).
                    ChannelInterleavedInput.Transform(image, inChannels, window, tiling, phases, v, images.PositionStride);
                    Groups(filter, images, bias, pairBias, py, pr, n, 0, tiling.TileRows);
                    if (!clamps) activation.Apply(y.Slice(n * outChannels * outputSize, outChannels * outputSize));
                    continue;
                }
                FourPhaseImage.Split(image, inChannels, inputSize, window.InputHeight, window.InputWidth, window.PadTop, window.PadLeft,
                    tiling.PhaseRows, tiling.Pitch, tiling.PhaseSize, phases, row, px, px + x.Length);
                // Band by band (the whole image when its transformed input fits 512 KB): large planes keep V in cache.
                for (int band = 0; band < tiling.TileRows; band += tiling.BandRows)
                {
                    int rows = Math.Min(tiling.BandRows, tiling.TileRows - band);
                    switch (filter.Tier)
                    {
                        case GemmTier.Avx512: TransformInput<ChannelVector512, Vector512<float>>(images, band, rows); break;
                        case GemmTier.Fma256: TransformInput<ChannelVector256, Vector256<float>>(images, band, rows); break;
                        case GemmTier.Vector128: TransformInput<ChannelVector128, Vector128<float>>(images, band, rows); break;
                        default: TransformInput<ChannelScalar, float>(images, band, rows); break;
                    }
                    Groups(filter, images, bias, pairBias, py, pr, n, band, rows);
                }
                if (!clamps) activation.Apply(y.Slice(n * outChannels * outputSize, outChannels * outputSize));
            }
        }
    }

    /// <summary>Products, output transform and store of tile rows band … band + rows − 1 of image n, pair of channel blocks by pair.</summary>
    static void Groups(WinogradBlockedFilter filter, in Images images, ReadOnlySpan<float> bias, float* pairBias, float* py, float* pr, int n, int band, int rows)
    {
        int lanes = filter.Lanes, outChannels = filter.OutChannels, outputSize = images.OutputHeight * images.OutputWidth;
        for (int block = 0; block < filter.Blocks; block += 2)
        {
            var (pair, first, channels) = ChannelBlockArguments.Pair(block, filter.Blocks, lanes, outChannels, bias, pairBias);
            var blocks = new BlockPair(filter, block, pair, channels, pairBias, py + ((long)n * outChannels + first) * outputSize,
                pr == null ? null : pr + ((long)n * outChannels + first) * outputSize);
            switch (filter.Tier)
            {
                case GemmTier.Avx512 when BlockAndHalf.Applies(images, blocks): BlockAndHalf.Groups(images, blocks, band, rows); break;
                case GemmTier.Avx512: Groups<ChannelVector512, Vector512<float>>(images, blocks, band, rows); break;
                case GemmTier.Fma256: Groups<ChannelVector256, Vector256<float>>(images, blocks, band, rows); break;
                case GemmTier.Vector128: Groups<ChannelVector128, Vector128<float>>(images, blocks, band, rows); break;
                default: Groups<ChannelScalar, float>(images, blocks, band, rows); break;
            }
        }
    }

    /// <summary>
    /// The tiling of one image: TH × TW output tiles of 4×4 (the last ones overhanging the output), numbered
    /// t = ty·pitch + tx with pitch = TW + 1 (a dummy tile ends each row); and the 16 phases of the zero-padded image,
    /// phase (a, b) holding padded pixel (4v + a, 4u + b) at v·pitch + u, so tile t reads phase (k mod 4, l mod 4)
    /// at t + (k / 4)·pitch + l / 4 for its input (k, l).
    /// </summary>
    readonly struct Tiling
    {
        public readonly int TileRows, TileColumns, Pitch, BandRows, BandStride, PhaseRows, PhaseSize;

        public Tiling(in Window2D window, int channels)
        {
            TileRows = (window.OutputHeight + 3) / 4;
            TileColumns = (window.OutputWidth + 3) / 4;
            Pitch = TileColumns + 1;
            // V holds a band of tile rows: all of them when that is at most 2¹⁷ floats (512 KB), else two (the products
            // take tiles from two rows at most). Rows are written a whole vector at a time: the last may run a vector on.
            BandRows = (long)Positions * channels * (TileRows * Pitch + MaxLanes) <= 1 << 17 ? TileRows : Math.Min(2, TileRows);
            BandStride = BandRows * Pitch + MaxLanes;
            // Tiles read phase rows up to TH; a vector of tiles reads up to a vector past the last tile, one phase row
            // (and column) on, into the 16 floats FourPhaseImage zeroes after the rows.
            PhaseRows = TileRows + 1;
            PhaseSize = PhaseRows * Pitch + 16;
        }
    }

    /// <summary>Where one image's intermediate results live, and what every group shares.</summary>
    readonly struct Images
    {
        public readonly float* Phases, V, Products, OutputTiles;
        public readonly int Channels;
        public readonly Tiling Tiling;
        /// <summary>The stored planes: the output's, or the pooled output's when <see cref="Pooled"/>.</summary>
        public readonly int OutputHeight, OutputWidth;
        public readonly float Low, High;
        /// <summary>Whether the output tiles are max-pooled 2×2 before the store.</summary>
        public readonly bool Pooled;
        /// <summary>Whether V is channel-interleaved (<see cref="ChannelInterleavedInput"/>) rather than tile-contiguous.</summary>
        public readonly bool Interleaved;
        /// <summary>Floats from one position's V to the next, from one input channel (interleaved: block of 16) to the next, and from one tile row to the next.</summary>
        public readonly long PositionStride;
        public readonly int ChannelStride, RowStride;

        public Images(float* phases, float* v, float* products, float* outputTiles, int channels, in Tiling tiling, in Window2D window, float low, float high,
            bool interleaved, bool pooled)
        {
            Interleaved = interleaved;
            Pooled = pooled;
            int tiles = tiling.TileRows * tiling.TileColumns;
            // One vector more than the positions' data in the interleaved layout: 16·C·T floats are often a multiple of 4 KB
            // (16 channels of 8×8 tiles), and then the 36 positions of a tile would all fall in the same L1 sets.
            PositionStride = interleaved ? (long)channels * tiles + 16 : (long)channels * tiling.BandStride;
            ChannelStride = interleaved ? 16 * tiles : tiling.BandStride;
            RowStride = interleaved ? 16 * tiling.TileColumns : tiling.Pitch;
            Phases = phases;
            V = v;
            Products = products;
            OutputTiles = outputTiles;
            Channels = channels;
            Tiling = tiling;
            OutputHeight = pooled ? window.OutputHeight / 2 : window.OutputHeight;
            OutputWidth = pooled ? window.OutputWidth / 2 : window.OutputWidth;
            Low = low;
            High = high;
        }
    }

    /// <summary>One or two blocks of output channels: their weights, bias and output planes.</summary>
    readonly struct BlockPair
    {
        public readonly WinogradBlockedFilter Filter;
        public readonly int Block, Pair, Channels;
        public readonly float* Bias, Output, Residual;

        public BlockPair(WinogradBlockedFilter filter, int block, int pair, int channels, float* bias, float* output, float* residual)
        {
            Filter = filter;
            Block = block;
            Pair = pair;
            Channels = channels;
            Bias = bias;
            Output = output;
            Residual = residual;
        }
    }

    /// <summary>
    /// V[ξ][c][t − band·pitch] = (Bᵀ d_t B)[ξ] for every input channel c and tile t of tile rows band … band + rows − 1,
    /// L tiles at a time.
    /// </summary>
    static void TransformInput<TOps, TVector>(in Images images, int band, int bandRows) where TOps : IChannelVector<TVector> where TVector : struct
    {
        var s = images.Tiling;
        int lanes = TOps.Lanes, size = s.PhaseSize, pitch = s.Pitch, start = band * pitch, end = (band + bandRows) * pitch;
        long positionStride = (long)images.Channels * s.BandStride;
        // The rows of Bᵀ-transformed columns, d B, 6 × 6 vectors.
        float* rows = stackalloc float[Positions * MaxLanes];
        for (int c = 0; c < images.Channels; c++)
        {
            float* phases = images.Phases + (long)c * 16 * size, target = images.V + (long)c * s.BandStride - start;
            for (int t = start; t < end; t += lanes)
            {
                for (int k = 0; k < 6; k++)
                {
                    // d[k][l] is phase (k mod 4, l mod 4) at t + (k / 4)·pitch + l / 4.
                    float* row = phases + (long)(k % 4) * 4 * size + k / 4 * pitch + t;
                    Transform6<TOps, TVector>(TOps.Load(row), TOps.Load(row + size), TOps.Load(row + 2 * size),
                        TOps.Load(row + 3 * size), TOps.Load(row + 1), TOps.Load(row + size + 1), rows + 6 * k * lanes, lanes);
                }
                // The columns of d B, each through Bᵀ: position 6i + j.
                for (int j = 0; j < 6; j++)
                {
                    float* column = rows + j * lanes;
                    Transform6<TOps, TVector>(TOps.Load(column), TOps.Load(column + 6 * lanes), TOps.Load(column + 12 * lanes),
                        TOps.Load(column + 18 * lanes), TOps.Load(column + 24 * lanes), TOps.Load(column + 30 * lanes), target + t + j * positionStride,
                        6 * positionStride);
                }
            }
        }
    }

    /// <summary>
    /// z = Bᵀ d for six values, z[i] stored at <paramref name="z"/> + i·<paramref name="stride"/> (Bᵀ rows: 4 0 −5 0 1 0;
    /// 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transform6<TOps, TVector>(TVector d0, TVector d1, TVector d2, TVector d3, TVector d4, TVector d5, float* z, long stride)
        where TOps : IChannelVector<TVector> where TVector : struct
    {
        TVector four = TOps.Broadcast(4f), minusFour = TOps.Broadcast(-4f), minusFive = TOps.Broadcast(-5f);
        TVector two = TOps.Broadcast(2f), minusTwo = TOps.Broadcast(-2f);
        TVector d4MinusD2 = TOps.Subtract(d4, d2), d3MinusD1 = TOps.Subtract(d3, d1);
        TOps.Store(TOps.MultiplyAdd(four, d0, TOps.MultiplyAdd(minusFive, d2, d4)), z);
        TOps.Store(TOps.MultiplyAdd(minusFour, TOps.Add(d1, d2), TOps.Add(d3, d4)), z + stride);
        TOps.Store(TOps.MultiplyAdd(four, TOps.Subtract(d1, d2), TOps.Subtract(d4, d3)), z + 2 * stride);
        TOps.Store(TOps.MultiplyAdd(two, d3MinusD1, d4MinusD2), z + 3 * stride);
        TOps.Store(TOps.MultiplyAdd(minusTwo, d3MinusD1, d4MinusD2), z + 4 * stride);
        TOps.Store(TOps.MultiplyAdd(four, d1, TOps.MultiplyAdd(minusFive, d3, d5)), z + 5 * stride);
    }

    /// <summary>
    /// Every group of tiles for one pair of channel blocks: runs of at most <see cref="IChannelVector{TVector}.MaxPixels"/>
    /// tiles (a tile row split into equal runs when longer) of one tile row, or of two when the register tile has room
    /// (one block, or two blocks on runs of half that), so that a group has up to 16 accumulators. Per group: the 36
    /// products, the output transform, the transposed store.
    /// </summary>
    static void Groups<TOps, TVector>(in Images images, in BlockPair blocks, int band, int bandRows) where TOps : IChannelVector<TVector> where TVector : struct
    {
        var s = images.Tiling;
        int parts = (s.TileColumns + TOps.MaxPixels - 1) / TOps.MaxPixels, run = (s.TileColumns + parts - 1) / parts;
        bool twoRows = blocks.Pair == 1 || run <= TOps.MaxPixels / 2;
        for (int ty = band; ty < band + bandRows;)
        {
            int rows = twoRows && ty + 1 < band + bandRows ? 2 : 1;
            for (int tx = 0; tx < s.TileColumns; tx += run)
                Group<TOps, TVector>(images, blocks, band, ty, rows, tx, Math.Min(run, s.TileColumns - tx));
            ty += rows;
        }
    }

    /// <summary>
    /// Tile rows ty0 … ty0 + rows − 1 (one or two), tile columns tx0 … tx0 + columns − 1. Products are stored per tile
    /// at (row·8 + column)·2L.
    /// </summary>
    static void Group<TOps, TVector>(in Images images, in BlockPair blocks, int band, int ty0, int rows, int tx0, int columns)
        where TOps : IChannelVector<TVector> where TVector : struct
    {
        var s = images.Tiling;
        int lanes = TOps.Lanes;
        long first = images.Interleaved ? 16L * (ty0 * s.TileColumns + tx0) : (ty0 - band) * s.Pitch + tx0;
        float* weights0 = blocks.Filter.Weights(0, blocks.Block), weights1 = blocks.Pair == 2 ? blocks.Filter.Weights(0, blocks.Block + 1) : weights0;
        for (int xi = 0; xi < Positions; xi++)
        {
            long weights = (long)xi * blocks.Filter.PositionStride;
            var product = new ProductArguments(images.V + xi * images.PositionStride + first, images.ChannelStride, images.RowStride, images.Channels,
                weights0 + weights, weights1 + weights, images.Products + (long)xi * ProductsStride);
            if (images.Interleaved) Product<TOps, TVector, InterleavedChannels>(blocks.Pair, rows, columns, product);
            else Product<TOps, TVector, ContiguousTiles>(blocks.Pair, rows, columns, product);
        }
        int pitch = (4 * columns + 7) / 8 * 8;
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < columns; i++)
            {
                for (int b = 0; b < blocks.Pair; b++)
                    FourOfSix.Tile<TOps, TVector, PixelVectors<TOps, TVector>>(images.Products + (long)(8 * r + i) * 2 * MaxLanes + b * lanes, ProductsStride,
                        TOps.Load(blocks.Bias + b * lanes),
                        new(images.OutputTiles + ((long)(b * 4 * rows + 4 * r) * pitch + 4 * i) * lanes, pitch * lanes));
            }
        }
        if (images.Pooled) WinogradOutputTransform.Pool<TOps, TVector>(images.OutputTiles, blocks.Pair, rows, columns, pitch);
        Store(images, blocks, images.OutputTiles, lanes, ty0, rows, tx0, columns, pitch);
    }

    /// <summary>What the product of one position shares.</summary>
    readonly struct ProductArguments
    {
        public readonly float* V, Weights0, Weights1, Products;
        public readonly int ChannelStride, RowStride, Depth;

        public ProductArguments(float* v, int channelStride, int rowStride, int depth, float* weights0, float* weights1, float* products)
        {
            V = v;
            ChannelStride = channelStride;
            RowStride = rowStride;
            Depth = depth;
            Weights0 = weights0;
            Weights1 = weights1;
            Products = products;
        }
    }

    /// <summary>Picks the instantiation for the register tile's shape (blocks × rows).</summary>
    static void Product<TOps, TVector, TLayout>(int pair, int rows, int tiles, in ProductArguments arguments)
        where TOps : IChannelVector<TVector> where TVector : struct where TLayout : IInputLayout
    {
        if (pair == 2 && rows == 2) Product<TOps, TVector, TwoBlocksTwoRows, TLayout>(tiles, arguments);
        else if (pair == 2) Product<TOps, TVector, TwoBlocks, TLayout>(tiles, arguments);
        else if (rows == 2) Product<TOps, TVector, TwoRows, TLayout>(tiles, arguments);
        else Product<TOps, TVector, OneBlock, TLayout>(tiles, arguments);
    }

    /// <summary>Picks the instantiation for the tile count (each keeps its accumulators in registers).</summary>
    static void Product<TOps, TVector, TShape, TLayout>(int tiles, in ProductArguments arguments)
        where TOps : IChannelVector<TVector> where TVector : struct where TShape : IProductShape where TLayout : IInputLayout
    {
        switch (tiles)
        {
            case 1: Product<TOps, TVector, TShape, Pixels1, TLayout>(arguments); break;
            case 2: Product<TOps, TVector, TShape, Pixels2, TLayout>(arguments); break;
            case 3: Product<TOps, TVector, TShape, Pixels3, TLayout>(arguments); break;
            case 4: Product<TOps, TVector, TShape, Pixels4, TLayout>(arguments); break;
            case 5 when TShape.Kind != ProductKind.TwoBlocksTwoRows: Product<TOps, TVector, TShape, Pixels5, TLayout>(arguments); break;
            case 6 when TShape.Kind != ProductKind.TwoBlocksTwoRows: Product<TOps, TVector, TShape, Pixels6, TLayout>(arguments); break;
            case 7 when TShape.Kind != ProductKind.TwoBlocksTwoRows: Product<TOps, TVector, TShape, Pixels7, TLayout>(arguments); break;
            case 8 when TShape.Kind != ProductKind.TwoBlocksTwoRows: Product<TOps, TVector, TShape, Pixels8, TLayout>(arguments); break;
            default: throw new ArgumentOutOfRangeException(nameof(tiles), tiles, "more tiles than the register tile holds");
        }
    }

    /// <summary>
    /// M[ξ] = Σ_c U[ξ][c] · V[ξ][c][t] for N tiles of one or two tile rows × one or two channel blocks (N ≤ 4 for two
    /// of each); stored as <c>products[row·8 + tile][block][lane]</c>.
    /// </summary>
    static void Product<TOps, TVector, TShape, TCount, TLayout>(in ProductArguments arguments)
        where TOps : IChannelVector<TVector> where TVector : struct where TShape : IProductShape where TCount : IPixelCount where TLayout : IInputLayout
    {
        int n = TCount.Count, lanes = TOps.Lanes, depth = arguments.Depth, stride = arguments.ChannelStride, rowStride = arguments.RowStride;
        bool twoBlocks = TShape.Kind is ProductKind.TwoBlocks or ProductKind.TwoBlocksTwoRows;
        float* w0 = arguments.Weights0, w1 = arguments.Weights1, v = arguments.V;
        TVector zero = TOps.Broadcast(0f);
        TVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        TVector b0 = zero, b1 = zero, b2 = zero, b3 = zero, b4 = zero, b5 = zero, b6 = zero, b7 = zero;
        // The second row of two blocks over two rows (at most 4 tiles): block 0 in c, block 1 in d.
        TVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, d0 = zero, d1 = zero, d2 = zero, d3 = zero;
        for (int k = 0; k < depth; k++)
        {
            float* p = v + TLayout.Channel(k, stride), q = p + rowStride;
            TVector wa = TOps.Load(w0 + (long)k * lanes), wb = twoBlocks ? TOps.Load(w1 + (long)k * lanes) : wa;
            Step<TOps, TVector, TShape>(ref a0, ref b0, ref c0, ref d0, p, q, 0 * TLayout.TileStride, wa, wb);
            if (n > 1) Step<TOps, TVector, TShape>(ref a1, ref b1, ref c1, ref d1, p, q, 1 * TLayout.TileStride, wa, wb);
            if (n > 2) Step<TOps, TVector, TShape>(ref a2, ref b2, ref c2, ref d2, p, q, 2 * TLayout.TileStride, wa, wb);
            if (n > 3) Step<TOps, TVector, TShape>(ref a3, ref b3, ref c3, ref d3, p, q, 3 * TLayout.TileStride, wa, wb);
            if (n > 4) Step<TOps, TVector, TShape>(ref a4, ref b4, ref c0, ref d0, p, q, 4 * TLayout.TileStride, wa, wb);
            if (n > 5) Step<TOps, TVector, TShape>(ref a5, ref b5, ref c0, ref d0, p, q, 5 * TLayout.TileStride, wa, wb);
            if (n > 6) Step<TOps, TVector, TShape>(ref a6, ref b6, ref c0, ref d0, p, q, 6 * TLayout.TileStride, wa, wb);
            if (n > 7) Step<TOps, TVector, TShape>(ref a7, ref b7, ref c0, ref d0, p, q, 7 * TLayout.TileStride, wa, wb);
        }
        const int tile = 2 * MaxLanes, secondRow = 8 * tile;
        float* products = arguments.Products;
        // Row 0 block 0 in a; b is row 0 block 1 (two blocks) or row 1 block 0 (one block over two rows).
        float* others = twoBlocks ? products + lanes : products + secondRow;
        Store(a0, a1, a2, a3, a4, a5, a6, a7, products);
        if (TShape.Kind != ProductKind.OneBlock) Store(b0, b1, b2, b3, b4, b5, b6, b7, others);
        if (TShape.Kind != ProductKind.TwoBlocksTwoRows) return;
        Store(c0, c1, c2, c3, zero, zero, zero, zero, products + secondRow);
        Store(d0, d1, d2, d3, zero, zero, zero, zero, products + secondRow + lanes);

        static void Store(TVector t0, TVector t1, TVector t2, TVector t3, TVector t4, TVector t5, TVector t6, TVector t7, float* target)
        {
            int n = TCount.Count;
            TOps.Store(t0, target);
            if (n > 1) TOps.Store(t1, target + tile);
            if (n > 2) TOps.Store(t2, target + 2 * tile);
            if (n > 3) TOps.Store(t3, target + 3 * tile);
            if (n > 4) TOps.Store(t4, target + 4 * tile);
            if (n > 5) TOps.Store(t5, target + 5 * tile);
            if (n > 6) TOps.Store(t6, target + 6 * tile);
            if (n > 7) TOps.Store(t7, target + 7 * tile);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step<TOps, TVector, TShape>(ref TVector a, ref TVector b, ref TVector c, ref TVector d, float* p, float* q, int tile, TVector wa, TVector wb)
        where TOps : IChannelVector<TVector> where TVector : struct where TShape : IProductShape
    {
        TVector value = TOps.Broadcast(p[tile]);
        a = TOps.MultiplyAdd(value, wa, a);
        if (TShape.Kind == ProductKind.TwoRows) b = TOps.MultiplyAdd(TOps.Broadcast(q[tile]), wa, b);
        if (TShape.Kind is ProductKind.TwoBlocks or ProductKind.TwoBlocksTwoRows) b = TOps.MultiplyAdd(value, wb, b);
        if (TShape.Kind != ProductKind.TwoBlocksTwoRows) return;
        TVector lower = TOps.Broadcast(q[tile]);
        c = TOps.MultiplyAdd(lower, wa, c);
        d = TOps.MultiplyAdd(lower, wb, d);
    }

    /// <summary>y = Aᵀ m for six values (Aᵀ rows: 1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1).</summary>
    readonly struct FourOfSix : IWinogradOutputTransform
    {
        public static int Points => 6;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Transform<TOps, TVector>(float* m, long stride, out TVector y0, out TVector y1, out TVector y2, out TVector y3)
            where TOps : IChannelVector<TVector> where TVector : struct
        {
            Transform<TOps, TVector>(TOps.Load(m), TOps.Load(m + stride), TOps.Load(m + 2 * stride), TOps.Load(m + 3 * stride), TOps.Load(m + 4 * stride),
                TOps.Load(m + 5 * stride), out y0, out y1, out y2, out y3);
        }

        /// <summary>y = Aᵀ m for six values in registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Transform<TOps, TVector>(TVector m0, TVector m1, TVector m2, TVector m3, TVector m4, TVector m5,
            out TVector y0, out TVector y1, out TVector y2, out TVector y3)
            where TOps : IChannelVector<TVector> where TVector : struct
        {
            TVector sum12 = TOps.Add(m1, m2), difference12 = TOps.Subtract(m1, m2), sum34 = TOps.Add(m3, m4), difference34 = TOps.Subtract(m3, m4);
            y0 = TOps.Add(TOps.Add(m0, sum12), sum34);
            y1 = TOps.MultiplyAdd(TOps.Broadcast(2f), difference34, difference12);
            y2 = TOps.MultiplyAdd(TOps.Broadcast(4f), sum34, sum12);
            y3 = TOps.Add(TOps.MultiplyAdd(TOps.Broadcast(8f), difference34, difference12), m5);
        }

        /// <summary>
        /// Y = Aᵀ M A + bias for one tile (M[ξ] at <paramref name="m"/> + ξ·<paramref name="stride"/>, ξ = 6i + j) in
        /// registers: Aᵀ down each of the six columns of M (24 vectors), then along each of the four rows; output pixel
        /// (r, c) to <paramref name="target"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Tile<TOps, TVector, TTarget>(float* m, long stride, TVector bias, TTarget target)
            where TOps : IChannelVector<TVector> where TVector : struct where TTarget : ITileTarget<TVector>
        {
            long column = 6 * stride;
            Transform<TOps, TVector>(m, column, out var t00, out var t10, out var t20, out var t30);
            Transform<TOps, TVector>(m + stride, column, out var t01, out var t11, out var t21, out var t31);
            Transform<TOps, TVector>(m + 2 * stride, column, out var t02, out var t12, out var t22, out var t32);
            Transform<TOps, TVector>(m + 3 * stride, column, out var t03, out var t13, out var t23, out var t33);
            Transform<TOps, TVector>(m + 4 * stride, column, out var t04, out var t14, out var t24, out var t34);
            Transform<TOps, TVector>(m + 5 * stride, column, out var t05, out var t15, out var t25, out var t35);
            Row(0, t00, t01, t02, t03, t04, t05, bias, target);
            Row(1, t10, t11, t12, t13, t14, t15, bias, target);
            Row(2, t20, t21, t22, t23, t24, t25, bias, target);
            Row(3, t30, t31, t32, t33, t34, t35, bias, target);

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static void Row(int r, TVector m0, TVector m1, TVector m2, TVector m3, TVector m4, TVector m5, TVector bias, TTarget target)
            {
                Transform<TOps, TVector>(m0, m1, m2, m3, m4, m5, out var y0, out var y1, out var y2, out var y3);
                target.Store(r, 0, TOps.Add(y0, bias));
                target.Store(r, 1, TOps.Add(y1, bias));
                target.Store(r, 2, TOps.Add(y2, bias));
                target.Store(r, 3, TOps.Add(y3, bias));
            }
        }
    }

    /// <summary>Where <see cref="FourOfSix.Tile"/> puts output pixel (row, column) of a tile.</summary>
    interface ITileTarget<TVector> where TVector : struct
    {
        void Store(int row, int column, TVector value);
    }

    /// <summary>A tile's pixels as vectors of L channels, <paramref name="rowStride"/> floats from one row to the next.</summary>
    readonly struct PixelVectors<TOps, TVector>(float* y, int rowStride) : ITileTarget<TVector> where TOps : IChannelVector<TVector> where TVector : struct
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int row, int column, TVector value) => TOps.Store(value, y + (long)row * rowStride + column * TOps.Lanes);
    }

    /// <summary>
    /// The group's output tiles (at <paramref name="outputTiles"/>, <paramref name="lanes"/> channels per pixel) back to NCHW, runs of 8 pixels per output row through the direct kernel's in-register
    /// transpose (which adds the residual and clamps). A run may write past its last valid pixel, onto pixels of the
    /// same plane that are stored later (later runs, rows or groups), as the direct kernel does; where that could hit
    /// stored pixels (the plane's end, or a row end when groups split rows) the run is stored pixel by pixel.
    /// </summary>
    static void Store(in Images images, in BlockPair blocks, float* outputTiles, int lanes, int ty0, int rows, int tx0, int columns, int pitch)
    {
        int height = images.OutputHeight, width = images.OutputWidth, outputSize = height * width;
        // Output pixels per tile side in the stored planes (pooled: the first 2×2 of each tile, see WinogradOutputTransform.Pool).
        int side = images.Pooled ? 2 : 4;
        bool wholeRows = columns == images.Tiling.TileColumns;
        var low = Vector256.Create(images.Low);
        var high = Vector256.Create(images.High);
        var low512 = Vector512.Create(images.Low);
        var high512 = Vector512.Create(images.High);
        for (int b = 0; b < blocks.Pair; b++)
        {
            int channels = Math.Min(lanes, blocks.Channels - b * lanes);
            float* y = blocks.Output + (long)b * lanes * outputSize, residual = blocks.Residual == null ? null : blocks.Residual + (long)b * lanes * outputSize;
            for (int r = 0; r < side * rows; r++)
            {
                int oh = side * ty0 + r;
                if (oh >= height) break;
                float* source = outputTiles + (long)(b * 4 * rows + r) * pitch * lanes;
                for (int col = 0; col < side * columns; col += 8)
                {
                    int ow = side * tx0 + col;
                    if (ow >= width) break;
                    int position = oh * width + ow;
                    bool spills = wholeRows ? position + 8 > outputSize : ow + 8 > width;
                    float* tile = source + (long)col * lanes;
                    float* target = y + position, added = residual == null ? null : residual + position;
                    // 16 pixels at once where they are there: each channel's row a whole 64-byte line, where two 8-pixel
                    // halves, 16 planes apart in the loop, would each miss L1 on planes a multiple of 4 KB apart.
                    if (lanes == 16 && Avx512F.IsSupported && col + 16 <= side * columns && (wholeRows ? position + 16 <= outputSize : ow + 16 <= width))
                    {
                        Transpose16x16.Transpose(tile, lanes, lanes, new ClampedRows(target, added, outputSize, channels, low512, high512));
                        col += 8;
                    }
                    else if (lanes == 16 && !spills && Avx512F.IsSupported)
                        ChannelBlockedConvolution.Transpose8x16(tile, channels, target, added, outputSize, low, high);
                    else if (lanes == 8 && !spills && Avx.IsSupported)
                        ChannelBlockedConvolution.Transpose8x8(tile, channels, target, added, outputSize, low, high);
                    else
                        StorePixels(tile, lanes, channels, Math.Min(8, width - ow), target, added, outputSize, images.Low, images.High);
                }
            }
        }
    }

    static void StorePixels(float* tile, int lanes, int channels, int pixels, float* y, float* residual, int outputSize, float low, float high)
    {
        for (int m = 0; m < channels; m++)
        {
            for (int p = 0; p < pixels; p++)
            {
                long at = (long)m * outputSize + p;
                float value = tile[p * lanes + m] + (residual == null ? 0f : residual[at]);
                y[at] = Math.Min(Math.Max(value, low), high);
            }
        }
    }

    /// <summary>The first <c>rows</c> transposed rows (channels), plus the residual, clamped, <c>stride</c> floats apart (NCHW planes).</summary>
    readonly struct ClampedRows(float* target, float* residual, nint stride, int rows, Vector512<float> low, Vector512<float> high) : ITransposeTarget
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int row, Vector512<float> value)
        {
            if (row >= rows) return;
            if (residual != null) value += Vector512.Load(residual + row * stride);
            Vector512.Min(Vector512.Max(value, low), high).Store(target + row * stride);
        }

        public void Store(int row, Vector256<float> value) => throw new NotSupportedException("16×16 blocks only");

        public void Store(int row, Vector128<float> value) => throw new NotSupportedException("16×16 blocks only");
    }

    /// <summary>How V holds input channel k and tile t of one position.</summary>
    interface IInputLayout
    {
        /// <summary>Floats from tile t to tile t + 1.</summary>
        static abstract int TileStride { get; }
        /// <summary>Where input channel k starts, channels (or blocks of 16) <paramref name="stride"/> floats apart.</summary>
        static abstract long Channel(int k, int stride);
    }

    /// <summary>V[ξ][c][t]: the tiles of a channel contiguous (<see cref="TransformInput"/>).</summary>
    readonly struct ContiguousTiles : IInputLayout
    {
        public static int TileStride => 1;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long Channel(int k, int stride) => (long)k * stride;
    }

    /// <summary>V[ξ][c / 16][t][c mod 16]: 16 channels of a tile contiguous (<see cref="ChannelInterleavedInput"/>).</summary>
    readonly struct InterleavedChannels : IInputLayout
    {
        public static int TileStride => 16;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static long Channel(int k, int stride) => (long)(k >> 4) * stride + (k & 15);
    }

    enum ProductKind { OneBlock, TwoBlocks, TwoRows, TwoBlocksTwoRows }
    interface IProductShape { static abstract ProductKind Kind { get; } }
    readonly struct OneBlock : IProductShape { public static ProductKind Kind => ProductKind.OneBlock; }
    readonly struct TwoBlocks : IProductShape { public static ProductKind Kind => ProductKind.TwoBlocks; }
    readonly struct TwoRows : IProductShape { public static ProductKind Kind => ProductKind.TwoRows; }
    readonly struct TwoBlocksTwoRows : IProductShape { public static ProductKind Kind => ProductKind.TwoBlocksTwoRows; }
}
