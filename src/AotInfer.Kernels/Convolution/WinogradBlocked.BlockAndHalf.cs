using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

public static unsafe partial class WinogradBlocked
{
    /// <summary>
    /// A pair of channel blocks whose second block is at most half full (24 output channels: 16 + 8), with AVX-512: the
    /// second block's 8 channels of two neighbouring tiles share one vector, lanes 0–7 the left tile's and 8–15 the right
    /// tile's, so a pair of tiles costs three multiply-adds per input channel instead of four, and its output transform
    /// one vector instead of two.
    /// </summary>
    /// <remarks>
    /// The two tiles' broadcasts are made anyway for the first block; the shared vector is their lower halves joined
    /// (one insert), multiplied by the second block's 8 weights repeated in both halves (one 256-bit broadcast load; the
    /// filter keeps its 16-lane layout, lanes 8–15 zero). The output transform works lane by lane, so it runs on the
    /// joined vector as on any other; its pixels are then split into an 8-channel tile buffer and stored through the
    /// 8×8 transpose. A run with an odd tile count pairs its last tile with itself. Two tile rows at a time (runs of up to
    /// 6 tiles) give 18 accumulators, enough to hide the multiply-add latency with 16 input channels. Measured with
    /// <c>dotnet run -c Release --project examples/GemmBench -- conv Avx512 burn</c> (µs, thread CPU time): burn-mnist's
    /// conv3 16→24 at 22×22 12.5–12.8 → 11.2–11.3; in the model (<c>bench --profile</c>) 12.9–13.4 → 10.3. Timed
    /// against the previous kernel in one process (µs, wall clock, best of many runs): 13.9 → 12.2 with one tile row and
    /// the 8 weights repeated by two inserts, 11.4 with one 256-bit broadcast load instead, 11.0 with two tile rows.
    /// </remarks>
    static class BlockAndHalf
    {
        /// <summary>Whether a pair of blocks runs this way: AVX-512, two blocks, the second at most half full, no fused pool.</summary>
        public static bool Applies(in Images images, in BlockPair blocks) =>
            blocks.Filter.Tier == GemmTier.Avx512 && Avx512DQ.IsSupported && blocks.Pair == 2 && blocks.Channels <= MaxLanes + MaxLanes / 2 && !images.Pooled;

        /// <summary>
        /// Tile rows band … band + rows − 1 in runs of at most 8 tiles (a row split into equal runs when longer), two rows
        /// at a time where runs are at most 6 tiles (18 accumulators), else one.
        /// </summary>
        public static void Groups(in Images images, in BlockPair blocks, int band, int bandRows)
        {
            var s = images.Tiling;
            int parts = (s.TileColumns + 7) / 8, run = (s.TileColumns + parts - 1) / parts;
            for (int ty = band; ty < band + bandRows;)
            {
                int rows = run <= MaxTwoRowTiles && ty + 1 < band + bandRows ? 2 : 1;
                for (int tx = 0; tx < s.TileColumns; tx += run)
                    Group(images, blocks, band, ty, rows, tx, Math.Min(run, s.TileColumns - tx));
                ty += rows;
            }
        }

        /// <summary>Tiles per row of a two-row group: 6 + 3 accumulators per row.</summary>
        const int MaxTwoRowTiles = 6;

        /// <summary>
        /// Tile rows ty0 … ty0 + rows − 1 (one or two), tile columns tx0 … tx0 + columns − 1: the 36 products (per tile at
        /// <c>(row·8 + tile)·2L</c>, the first block's channels, and per pair of tiles at the left tile's <c>… + L</c>, the
        /// joined vector), the output transforms, the stores.
        /// </summary>
        static void Group(in Images images, in BlockPair blocks, int band, int ty0, int rows, int tx0, int columns)
        {
            var s = images.Tiling;
            var filter = blocks.Filter;
            long first = images.Interleaved ? 16L * (ty0 * s.TileColumns + tx0) : (ty0 - band) * s.Pitch + tx0;
            float* weights0 = filter.Weights(0, blocks.Block), weights1 = filter.Weights(0, blocks.Block + 1);
            for (int xi = 0; xi < Positions; xi++)
            {
                long weights = (long)xi * filter.PositionStride;
                var product = new ProductArguments(images.V + xi * images.PositionStride + first, images.ChannelStride, images.RowStride, images.Channels,
                    weights0 + weights, weights1 + weights, images.Products + (long)xi * ProductsStride);
                if (images.Interleaved) Product<InterleavedChannels>(rows, columns, product);
                else Product<ContiguousTiles>(rows, columns, product);
            }
            // The first block's tiles as usual (16 lanes, 4·rows rows of pitch pixels); the second block's after them, 8 lanes.
            int pitch = (4 * columns + 7) / 8 * 8;
            float* halfTiles = images.OutputTiles + 4L * rows * pitch * MaxLanes;
            var bias = Vector512.Load(blocks.Bias);
            var halfBias = Vector512.Create(Vector256.Load(blocks.Bias + MaxLanes));
            for (int r = 0; r < rows; r++)
            {
                float* products = images.Products + 8L * r * 2 * MaxLanes;
                for (int i = 0; i < columns; i++)
                    FourOfSix.Tile<ChannelVector512, Vector512<float>, PixelVectors<ChannelVector512, Vector512<float>>>(products + (long)i * 2 * MaxLanes,
                        ProductsStride, bias, new(images.OutputTiles + (4L * r * pitch + 4 * i) * MaxLanes, pitch * MaxLanes));
                // A pair's joined vectors: lanes 0–7 to the left tile's 8-channel pixels, 8–15 to the right tile's (4 pixels on).
                for (int i = 0; i < columns; i += 2)
                    FourOfSix.Tile<ChannelVector512, Vector512<float>, SplitPixels>(products + (long)i * 2 * MaxLanes + MaxLanes, ProductsStride, halfBias,
                        new(halfTiles + (4L * r * pitch + 4 * i) * 8, pitch * 8, i + 1 < columns));
            }
            var block = new BlockPair(filter, blocks.Block, 1, MaxLanes, blocks.Bias, blocks.Output, blocks.Residual);
            int outputSize = images.OutputHeight * images.OutputWidth;
            var half = new BlockPair(filter, blocks.Block + 1, 1, blocks.Channels - MaxLanes, blocks.Bias + MaxLanes, blocks.Output + (long)MaxLanes * outputSize,
                blocks.Residual == null ? null : blocks.Residual + (long)MaxLanes * outputSize);
            Store(images, block, images.OutputTiles, MaxLanes, ty0, rows, tx0, columns, pitch);
            Store(images, half, halfTiles, 8, ty0, rows, tx0, columns, pitch);
        }

        /// <summary>
        /// A pair of tiles' output pixels from their joined vectors: lanes 0–7 to the left tile's pixel at
        /// <paramref name="y"/> (8 floats per pixel, rows <paramref name="rowStride"/> floats apart), lanes 8–15 to the
        /// right tile's, 4 pixels on, when there is one.
        /// </summary>
        readonly struct SplitPixels(float* y, int rowStride, bool right) : ITileTarget<Vector512<float>>
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Store(int row, int column, Vector512<float> value)
            {
                float* pixel = y + (long)row * rowStride + column * 8;
                value.GetLower().Store(pixel);
                if (right) value.GetUpper().Store(pixel + 4 * 8);
            }
        }

        /// <summary>Picks the instantiation for the register tile's shape (rows × tiles; each keeps its accumulators in registers).</summary>
        static void Product<TLayout>(int rows, int tiles, in ProductArguments arguments) where TLayout : IInputLayout
        {
            switch (tiles)
            {
                case 1 when rows == 2: Product<Pixels2, Pixels1, TLayout>(arguments); break;
                case 2 when rows == 2: Product<Pixels2, Pixels2, TLayout>(arguments); break;
                case 3 when rows == 2: Product<Pixels2, Pixels3, TLayout>(arguments); break;
                case 4 when rows == 2: Product<Pixels2, Pixels4, TLayout>(arguments); break;
                case 5 when rows == 2: Product<Pixels2, Pixels5, TLayout>(arguments); break;
                case 6 when rows == 2: Product<Pixels2, Pixels6, TLayout>(arguments); break;
                case 1: Product<Pixels1, Pixels1, TLayout>(arguments); break;
                case 2: Product<Pixels1, Pixels2, TLayout>(arguments); break;
                case 3: Product<Pixels1, Pixels3, TLayout>(arguments); break;
                case 4: Product<Pixels1, Pixels4, TLayout>(arguments); break;
                case 5: Product<Pixels1, Pixels5, TLayout>(arguments); break;
                case 6: Product<Pixels1, Pixels6, TLayout>(arguments); break;
                case 7 when rows == 1: Product<Pixels1, Pixels7, TLayout>(arguments); break;
                case 8 when rows == 1: Product<Pixels1, Pixels8, TLayout>(arguments); break;
                default: throw new ArgumentOutOfRangeException(nameof(tiles), tiles, "more tiles than the register tile holds");
            }
        }

        /// <summary>
        /// M[ξ] = Σ_c U[ξ][c] · V[ξ][c][t] for N tiles of one row (N ≤ 8) or two rows (N ≤ 6, the second row's V
        /// <see cref="ProductArguments.RowStride"/> on): per row N first-block accumulators and ⌈N / 2⌉ joined ones,
        /// stored as <c>products[row·8 + tile][block][lane]</c>, the joined ones in block 1 of each pair's left tile.
        /// </summary>
        static void Product<TRows, TCount, TLayout>(in ProductArguments arguments) where TRows : IPixelCount where TCount : IPixelCount where TLayout : IInputLayout
        {
            int n = TCount.Count, depth = arguments.Depth, stride = arguments.ChannelStride, t = TLayout.TileStride, below = arguments.RowStride;
            bool twoRows = TRows.Count == 2;
            float* w0 = arguments.Weights0, w1 = arguments.Weights1, v = arguments.V;
            var a0 = Vector512<float>.Zero; Vector512<float> a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            Vector512<float> h0 = a0, h1 = a0, h2 = a0, h3 = a0;
            // The second row (at most 6 tiles): c for the first block, d for the joined vectors.
            Vector512<float> c0 = a0, c1 = a0, c2 = a0, c3 = a0, c4 = a0, c5 = a0, d0 = a0, d1 = a0, d2 = a0;
            for (int k = 0; k < depth; k++)
            {
                float* p = v + TLayout.Channel(k, stride), q = p + below;
                var w = Vector512.Load(w0 + (long)k * MaxLanes);
                var half = Avx512DQ.BroadcastVector256ToVector512(w1 + (long)k * MaxLanes);
                Step(ref a0, ref a1, ref h0, p, 0, n > 1 ? t : 0, n > 1, w, half);
                if (n > 2) Step(ref a2, ref a3, ref h1, p, 2 * t, n > 3 ? 3 * t : 2 * t, n > 3, w, half);
                if (n > 4) Step(ref a4, ref a5, ref h2, p, 4 * t, n > 5 ? 5 * t : 4 * t, n > 5, w, half);
                if (n > 6) Step(ref a6, ref a7, ref h3, p, 6 * t, n > 7 ? 7 * t : 6 * t, n > 7, w, half);
                if (!twoRows) continue;
                Step(ref c0, ref c1, ref d0, q, 0, n > 1 ? t : 0, n > 1, w, half);
                if (n > 2) Step(ref c2, ref c3, ref d1, q, 2 * t, n > 3 ? 3 * t : 2 * t, n > 3, w, half);
                if (n > 4) Step(ref c4, ref c5, ref d2, q, 4 * t, n > 5 ? 5 * t : 4 * t, n > 5, w, half);
            }
            float* products = arguments.Products;
            Store(a0, a1, a2, a3, a4, a5, a6, a7, h0, h1, h2, h3, products);
            if (twoRows) Store(c0, c1, c2, c3, c4, c5, a0, a0, d0, d1, d2, a0, products + 8 * 2 * MaxLanes);

            static void Store(Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3, Vector512<float> t4, Vector512<float> t5,
                Vector512<float> t6, Vector512<float> t7, Vector512<float> j0, Vector512<float> j1, Vector512<float> j2, Vector512<float> j3, float* products)
            {
                const int tile = 2 * MaxLanes;
                int n = TCount.Count;
                t0.Store(products);
                if (n > 1) t1.Store(products + tile);
                if (n > 2) t2.Store(products + 2 * tile);
                if (n > 3) t3.Store(products + 3 * tile);
                if (n > 4) t4.Store(products + 4 * tile);
                if (n > 5) t5.Store(products + 5 * tile);
                if (n > 6) t6.Store(products + 6 * tile);
                if (n > 7) t7.Store(products + 7 * tile);
                j0.Store(products + MaxLanes);
                if (n > 2) j1.Store(products + 2 * tile + MaxLanes);
                if (n > 4) j2.Store(products + 4 * tile + MaxLanes);
                if (n > 6) j3.Store(products + 6 * tile + MaxLanes);
            }
        }

        /// <summary>One input channel of a pair of tiles (the right one the left itself when <paramref name="hasRight"/> is false).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Step(ref Vector512<float> left, ref Vector512<float> right, ref Vector512<float> joined, float* p, int leftTile, int rightTile, bool hasRight,
            Vector512<float> w, Vector512<float> half)
        {
            var x = Vector512.Create(p[leftTile]);
            var y = hasRight ? Vector512.Create(p[rightTile]) : x;
            left = Vector512.FusedMultiplyAdd(x, w, left);
            if (hasRight) right = Vector512.FusedMultiplyAdd(y, w, right);
            joined = Vector512.FusedMultiplyAdd(Avx512F.InsertVector256(x, y.GetLower(), 1), half, joined);
        }
    }
}
