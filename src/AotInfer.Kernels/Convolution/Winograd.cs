using System;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Winograd F(2×2, 3×3) for 3×3, stride-1, dilation-1, ungrouped 2-D convolutions: each 2×2 output tile costs 16
/// multiplies per (input, output) channel pair instead of 36, i.e. 2.25× less GEMM arithmetic (Lavin &amp; Gray 2015).
/// y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A, computed as 16 GEMMs U_ξ[M×C] · V_ξ[C×T] over the T tiles.
/// </summary>
/// <remarks>
/// Layout trick: the zero-padded input is split into four parity planes (even/odd rows × even/odd columns) of
/// (TH+1)×(TW+1); then the 16 inputs of every tile are 16 contiguous slices of those planes (tile t = ty·(TW+1)+tx,
/// one dummy tile per row), so the input and output transforms are straight vector loops over all tiles at once.
/// </remarks>
public static unsafe class Winograd
{
    const int Lanes = 8;

    /// <summary>
    /// The transformed filter U_ξ = G g Gᵀ for ONNX weights <c>[M, C, 3, 3]</c>: 16 row-major <c>[M, C]</c> matrices,
    /// ξ = 4i + j. Generated code computes it once at type initialisation.
    /// </summary>
    public static float[] TransformFilter(ReadOnlySpan<float> weights, int outChannels, int inChannels)
    {
        if (weights.Length != outChannels * inChannels * 9)
            throw new ArgumentException($"weights have {weights.Length} elements, expected {outChannels}×{inChannels}×3×3", nameof(weights));
        var u = new float[16 * outChannels * inChannels];
        Span<float> gg = stackalloc float[12];
        for (int m = 0; m < outChannels; m++)
        {
            for (int c = 0; c < inChannels; c++)
            {
                ReadOnlySpan<float> g = weights.Slice((m * inChannels + c) * 9, 9);
                // G g: 4×3, G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]].
                for (int j = 0; j < 3; j++)
                {
                    gg[j] = g[j];
                    gg[3 + j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                    gg[6 + j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                    gg[9 + j] = g[6 + j];
                }
                for (int i = 0; i < 4; i++)
                {
                    float a = gg[3 * i], b = gg[3 * i + 1], d = gg[3 * i + 2];
                    int at = m * inChannels + c, plane = outChannels * inChannels;
                    u[(4 * i + 0) * plane + at] = a;
                    u[(4 * i + 1) * plane + at] = 0.5f * (a + b + d);
                    u[(4 * i + 2) * plane + at] = 0.5f * (a - b + d);
                    u[(4 * i + 3) * plane + at] = d;
                }
            }
        }
        return u;
    }

    /// <summary>
    /// The transformed filter packed for the GEMM micro-kernel: a <see cref="PackedFilter"/> of 16 "groups" U_ξ [M, C].
    /// Generated code builds it once at type initialisation.
    /// </summary>
    public static PackedFilter PackFilter(ReadOnlySpan<float> weights, int outChannels, int inChannels) =>
        PackedFilter.Pack(TransformFilter(weights, outChannels, inChannels), 16, outChannels, inChannels);

    /// <summary>Floats of scratch <see cref="Convolve"/> needs for this geometry and channel counts.</summary>
    public static int ScratchSize(int inChannels, int outChannels, int[] geometry)
    {
        var shape = new TileShape(new Window2D(new Window(geometry)));
        return inChannels * 4 * shape.PlaneSize + Lanes + 16 * inChannels * shape.PaddedTiles + 16 * outChannels * shape.PaddedTiles + 4 * shape.PaddedTiles;
    }

    /// <summary>
    /// y = W ⊛ x + b (+ the fused residual, then the fused activation) for a 3×3, stride-1, dilation-1, group-1 convolution with the
    /// transformed filter <paramref name="filter"/> (<see cref="PackFilter"/>).
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, PackedFilter filter, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int inChannels, int[] geometry, FusedActivation activation = default, ReadOnlySpan<float> residual = default)
    {
        var window = new Window2D(new Window(geometry));
        if (window.KernelHeight != 3 || window.KernelWidth != 3 || window.StrideHeight != 1 || window.StrideWidth != 1 ||
            window.DilationHeight != 1 || window.DilationWidth != 1)
            throw new ArgumentException("Winograd F(2×2, 3×3) needs a 3×3 kernel with stride 1 and dilation 1", nameof(geometry));
        ArgumentNullException.ThrowIfNull(filter);
        int outChannels = filter.GroupOut;
        if (filter.Groups != 16 || filter.Depth != inChannels)
            throw new ArgumentException($"the filter is not a Winograd filter for {inChannels} input channels (see PackFilter)", nameof(filter));
        if (scratch.Length < ScratchSize(inChannels, outChannels, geometry))
            throw new ArgumentException($"scratch has {scratch.Length} elements, fewer than {ScratchSize(inChannels, outChannels, geometry)}", nameof(scratch));
        var shape = new TileShape(window);
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth;
        if (x.Length < batch * inChannels * inputSize || y.Length < batch * outChannels * outputSize)
            throw new ArgumentException($"x or y is too short for {batch} images of {inChannels}→{outChannels} channels");
        int tiles = shape.PaddedTiles;
        Span<float> planes = scratch.Slice(0, inChannels * 4 * shape.PlaneSize + Lanes);
        Span<float> v = scratch.Slice(planes.Length, 16 * inChannels * tiles);
        Span<float> products = scratch.Slice(planes.Length + v.Length, 16 * outChannels * tiles);
        Span<float> outputTiles = scratch.Slice(planes.Length + v.Length + products.Length, 4 * tiles);
        for (int n = 0; n < batch; n++)
        {
            fixed (float* image = x.Slice(n * inChannels * inputSize))
            fixed (float* pPlanes = planes)
            fixed (float* pv = v)
            {
                planes.Slice(planes.Length - Lanes).Clear();
                for (int c = 0; c < inChannels; c++)
                {
                    float* channelPlanes = pPlanes + (long)c * 4 * shape.PlaneSize;
                    Window2D.SplitPhases(image + (long)c * inputSize, window.InputHeight, window.InputWidth, window.PadTop, window.PadLeft, 2, 2,
                        shape.TileRows + 1, shape.Pitch, channelPlanes);
                    TransformInput(channelPlanes, shape, new PanelLayout(c, inChannels, tiles, filter.SliverWidth), pv);
                }
                fixed (float* pm = products)
                {
                    for (int xi = 0; xi < 16; xi++)
                    {
                        float* a = filter.Group(xi), b = pv + (long)xi * inChannels * tiles, product = pm + (long)xi * outChannels * tiles;
                        switch (filter.Tier)
                        {
                            case GemmTier.Avx512: PackedConvolutionDriver<GemmKernelAvx512>.MultiplyPrepacked(a, outChannels, filter.PaddedRows, inChannels, b, shape.Tiles, tiles, product, tiles); break;
                            case GemmTier.Fma256: PackedConvolutionDriver<GemmKernelFma256>.MultiplyPrepacked(a, outChannels, filter.PaddedRows, inChannels, b, shape.Tiles, tiles, product, tiles); break;
                            case GemmTier.Vector128: PackedConvolutionDriver<GemmKernelVector128>.MultiplyPrepacked(a, outChannels, filter.PaddedRows, inChannels, b, shape.Tiles, tiles, product, tiles); break;
                            default: PackedConvolutionDriver<GemmKernelScalar>.MultiplyPrepacked(a, outChannels, filter.PaddedRows, inChannels, b, shape.Tiles, tiles, product, tiles); break;
                        }
                    }
                }
            }
            fixed (float* pm = products)
            fixed (float* pq = outputTiles)
            fixed (float* py = y.Slice(n * outChannels * outputSize))
            {
                for (int m = 0; m < outChannels; m++)
                {
                    TransformOutput(pm + (long)m * tiles, outChannels * tiles, shape, pq);
                    Interleave(pq, shape, window, py + (long)m * outputSize);
                    // The epilogue per output plane, while it is still in L1: the whole output would have left it.
                    int first = (n * outChannels + m) * outputSize;
                    Convolution.AddBias(y.Slice(first, outputSize), bias, m, 1, outputSize, activation, Convolution.ResidualSlice(residual, first, outputSize));
                }
            }
        }
    }

    /// <summary>The tiling of one image: TH×TW output tiles of 2×2, one dummy tile per row.</summary>
    readonly struct TileShape
    {
        public readonly int TileRows, TileColumns, Pitch, PlaneSize, Tiles, PaddedTiles;

        public TileShape(Window2D window)
        {
            TileRows = (window.OutputHeight + 1) / 2;
            TileColumns = (window.OutputWidth + 1) / 2;
            Pitch = TileColumns + 1;
            PlaneSize = (TileRows + 1) * Pitch;
            Tiles = TileRows * Pitch;
            // A whole number of the widest B sliver (32): V is written straight in sliver layout.
            PaddedTiles = (Tiles + 31) / 32 * 32;
        }
    }

    /// <summary>
    /// Where channel c's element for tile t goes in V_ξ, which is written straight in the GEMM's packed-B layout:
    /// depth blocks of <see cref="PackedFilter.DepthBlock"/> channels, each a row of NR-wide slivers of kb × NR.
    /// </summary>
    readonly struct PanelLayout
    {
        readonly int _base, _sliverStride, _width;
        public readonly int MatrixSize;

        public PanelLayout(int channel, int channels, int paddedTiles, int sliverWidth)
        {
            int depthBlock = PackedFilter.DepthBlock(channels), blockStart = channel / depthBlock * depthBlock;
            int kb = Math.Min(depthBlock, channels - blockStart);
            _base = blockStart * paddedTiles + (channel - blockStart) * sliverWidth;
            _sliverStride = kb * sliverWidth;
            _width = sliverWidth;
            MatrixSize = channels * paddedTiles;
        }

        /// <summary>Offset of tile t (a multiple of 4, so four lanes never straddle a sliver) within V_ξ.</summary>
        public int Offset(int t) => _base + t / _width * _sliverStride + t % _width;
    }

    /// <summary>V_ξ[c, t] = (Bᵀ d_t B)[ξ] for every tile t of one channel c, from its parity planes.</summary>
    static void TransformInput(float* planes, in TileShape shape, in PanelLayout layout, float* v)
    {
        int pitch = shape.Pitch, size = shape.PlaneSize;
        // d[i][j] of tile t is planes[2(i%2) + j%2][t + (i/2)·pitch + j/2].
        float* p00 = planes, p01 = planes + size, p10 = planes + 2 * size, p11 = planes + 3 * size;
        int stride = layout.MatrixSize, end = (shape.Tiles + Lanes - 1) / Lanes * Lanes;
        for (int t = 0; t < end; t += Lanes)
        {
            float* low = v + layout.Offset(t), high = v + layout.Offset(t + 4);
            // Rows of the tile: Bᵀ d, row by row (X0 = d0 − d2, X1 = d1 + d2, X2 = d2 − d1, X3 = d1 − d3).
            Row(p00 + t, p01 + t, out var d00, out var d01, out var d02, out var d03);
            Row(p10 + t, p11 + t, out var d10, out var d11, out var d12, out var d13);
            Row(p00 + t + pitch, p01 + t + pitch, out var d20, out var d21, out var d22, out var d23);
            Row(p10 + t + pitch, p11 + t + pitch, out var d30, out var d31, out var d32, out var d33);
            StoreColumns(d00 - d20, d01 - d21, d02 - d22, d03 - d23, low, high, stride, 0);
            StoreColumns(d10 + d20, d11 + d21, d12 + d22, d13 + d23, low, high, stride, 4);
            StoreColumns(d20 - d10, d21 - d11, d22 - d12, d23 - d13, low, high, stride, 8);
            StoreColumns(d10 - d30, d11 - d31, d12 - d32, d13 - d33, low, high, stride, 12);
        }

        static void Row(float* even, float* odd, out Vector256<float> d0, out Vector256<float> d1, out Vector256<float> d2, out Vector256<float> d3)
        {
            d0 = Vector256.Load(even);
            d1 = Vector256.Load(odd);
            d2 = Vector256.Load(even + 1);
            d3 = Vector256.Load(odd + 1);
        }

        // X B, column by column: V0 = X0 − X2, V1 = X1 + X2, V2 = X2 − X1, V3 = X1 − X3.
        static void StoreColumns(Vector256<float> x0, Vector256<float> x1, Vector256<float> x2, Vector256<float> x3, float* low, float* high, int stride, int first)
        {
            Store(x0 - x2, low, high, (long)first * stride);
            Store(x1 + x2, low, high, (long)(first + 1) * stride);
            Store(x2 - x1, low, high, (long)(first + 2) * stride);
            Store(x1 - x3, low, high, (long)(first + 3) * stride);
        }

        // Eight lanes as two halves: with 4- or 8-wide slivers they land in different slivers.
        static void Store(Vector256<float> value, float* low, float* high, long offset)
        {
            Vector128.Store(value.GetLower(), low + offset);
            Vector128.Store(value.GetUpper(), high + offset);
        }
    }

    /// <summary>
    /// The four output parity planes of one output channel: q[2a + b][t] = (Aᵀ m_t A)[a, b], where m_t[ξ] is
    /// products[ξ·stride + t].
    /// </summary>
    static void TransformOutput(float* products, int stride, in TileShape shape, float* q)
    {
        int tiles = shape.PaddedTiles, end = (shape.Tiles + Lanes - 1) / Lanes * Lanes;
        for (int t = 0; t < end; t += Lanes)
        {
            float* m = products + t;
            // Aᵀ m: S0 = m0 + m1 + m2, S1 = m1 − m2 − m3 (rows of the 4×4 product).
            var s00 = Load(m, stride, 0) + Load(m, stride, 4) + Load(m, stride, 8);
            var s01 = Load(m, stride, 1) + Load(m, stride, 5) + Load(m, stride, 9);
            var s02 = Load(m, stride, 2) + Load(m, stride, 6) + Load(m, stride, 10);
            var s03 = Load(m, stride, 3) + Load(m, stride, 7) + Load(m, stride, 11);
            var s10 = Load(m, stride, 4) - Load(m, stride, 8) - Load(m, stride, 12);
            var s11 = Load(m, stride, 5) - Load(m, stride, 9) - Load(m, stride, 13);
            var s12 = Load(m, stride, 6) - Load(m, stride, 10) - Load(m, stride, 14);
            var s13 = Load(m, stride, 7) - Load(m, stride, 11) - Load(m, stride, 15);
            // S A: y0 = s0 + s1 + s2, y1 = s1 − s2 − s3.
            Vector256.Store(s00 + s01 + s02, q + t);
            Vector256.Store(s01 - s02 - s03, q + tiles + t);
            Vector256.Store(s10 + s11 + s12, q + 2 * tiles + t);
            Vector256.Store(s11 - s12 - s13, q + 3 * tiles + t);
        }

        static Vector256<float> Load(float* m, int stride, int xi) => Vector256.Load(m + (long)xi * stride);
    }

    /// <summary>y[2ty + a, 2tx + b] = q[2a + b][ty·pitch + tx], dropping the dummy tile column and odd edges.</summary>
    static void Interleave(float* q, in TileShape shape, in Window2D window, float* y)
    {
        int height = window.OutputHeight, width = window.OutputWidth, tiles = shape.PaddedTiles;
        for (int oy = 0; oy < height; oy++)
        {
            int ty = oy >> 1, a = oy & 1;
            float* even = q + 2 * a * tiles + ty * shape.Pitch, odd = even + tiles;
            float* row = y + (long)oy * width;
            int ox = 0;
            for (; ox + 1 < width; ox += 2)
            {
                row[ox] = even[ox >> 1];
                row[ox + 1] = odd[ox >> 1];
            }
            if (ox < width) row[ox] = even[ox >> 1];
        }
    }
}
