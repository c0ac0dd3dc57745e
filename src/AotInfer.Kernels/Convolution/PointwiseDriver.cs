using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A 1×1, stride-1, unpadded convolution of one group as the GEMM y[M, P] = W[M, C] · x[C, P] with W pre-packed
/// (<see cref="PackedFilter"/>) and the bias, fused residual and activation applied to each micro-kernel tile right
/// after its last store, while the tile is in L1. A separate pass over y afterwards (what the general convolution
/// drivers do) costs a full read and write of y, which on MobileNet's and SqueezeNet's large planes no longer fits
/// in cache. The image rows are the B operand: each column block is copied into NR-wide slivers once.
/// </summary>
internal static unsafe class PointwiseDriver<TKernel> where TKernel : struct, IGemmMicroKernel
{
    /// <summary>NC: positions per panel; KC × NC floats fit the GEMM's B scratch.</summary>
    const int ColumnBlock = GemmDriver<TKernel>.ColumnBlock;

    /// <summary>
    /// y[outChannels, positions] = epilogue(filter · x[channels, positions]); <paramref name="panel"/> is scratch of
    /// KC × NC floats.
    /// </summary>
    public static void Multiply(float* x, int channels, int positions, float* filter, int outChannels, int paddedRows,
        float* y, float* panel, in TileEpilogue epilogue)
    {
        int nr = TKernel.Columns, mr = TKernel.Rows, kc = PackedFilter.DepthBlock(channels);
        float* tile = stackalloc float[mr * nr];
        for (int jc = 0; jc < positions; jc += ColumnBlock)
        {
            int nb = Math.Min(ColumnBlock, positions - jc);
            for (int pc = 0; pc < channels; pc += kc)
            {
                int kb = Math.Min(kc, channels - pc);
                bool accumulate = pc > 0, last = pc + kb == channels;
                PackColumns(x + (long)pc * positions + jc, positions, kb, nb, nr, panel);
                float* aBlock = filter + (long)pc * paddedRows;
                for (int jr = 0; jr < nb; jr += nr)
                {
                    int width = Math.Min(nr, nb - jr);
                    float* bSliver = panel + (long)jr * kb;
                    for (int ir = 0; ir < outChannels; ir += mr)
                    {
                        int height = Math.Min(mr, outChannels - ir);
                        float* cTile = y + (long)ir * positions + jc + jr;
                        if (height == mr && width == nr)
                        {
                            TKernel.Tile(aBlock + (long)ir * kb, bSliver, kb, cTile, positions, accumulate);
                        }
                        else if (width == nr)
                        {
                            TKernel.ShortTile(height, aBlock + (long)ir * kb, bSliver, kb, cTile, positions, accumulate);
                        }
                        else if (width <= nr / 2)
                        {
                            TKernel.NarrowTile(aBlock + (long)ir * kb, bSliver, kb, cTile, positions, height, width, accumulate);
                        }
                        else
                        {
                            TKernel.Tile(aBlock + (long)ir * kb, bSliver, kb, tile, nr, false);
                            GemmMicroKernels.CopyTile(tile, nr, cTile, positions, height, width, accumulate);
                        }
                    }
                    // The sliver's column of y (outChannels × NR) is still in cache: one epilogue call for all its rows.
                    if (last) epilogue.Apply(y + jc + jr, positions, outChannels, jc + jr, width);
                }
            }
        }
    }

    /// <summary>
    /// Rows [0, count) × columns [0, width) of the row-major <paramref name="source"/> (row stride
    /// <paramref name="stride"/>) as ⌈width/nr⌉ slivers of count × nr floats, sliver s at s·count·nr, zero past the
    /// last column.
    /// </summary>
    static void PackColumns(float* source, int stride, int count, int width, int nr, float* panel)
    {
        for (int jr = 0; jr < width; jr += nr)
        {
            int lanes = Math.Min(nr, width - jr);
            float* sliver = panel + (long)jr * count, row = source + jr;
            if (lanes == 32 && Vector512.IsHardwareAccelerated)
            {
                for (int r = 0; r < count; r++, row += stride, sliver += 32)
                {
                    Vector512.Store(Vector512.Load(row), sliver);
                    Vector512.Store(Vector512.Load(row + 16), sliver + 16);
                }
                continue;
            }
            for (int r = 0; r < count; r++, row += stride, sliver += nr)
            {
                new ReadOnlySpan<float>(row, lanes).CopyTo(new Span<float>(sliver, lanes));
                if (lanes < nr) new Span<float>(sliver + lanes, nr - lanes).Clear();
            }
        }
    }

}

/// <summary>
/// What a convolution adds to a finished block of output: the per-channel bias, a fused residual laid out like y, then
/// the fused activation. Clamp activations (None, Relu, Clip) run inline with 512-bit vectors; the others go
/// through <see cref="FusedActivation.Apply"/>.
/// </summary>
internal readonly unsafe struct TileEpilogue
{
    readonly float* _bias;
    readonly float* _residual;
    readonly FusedActivation _activation;
    readonly bool _clamp;
    readonly float _low, _high;

    /// <param name="bias">Per output channel of this group, or null.</param>
    /// <param name="residual">Laid out like this group's y, or null.</param>
    /// <param name="activation">The fused activation.</param>
    public TileEpilogue(float* bias, float* residual, FusedActivation activation)
    {
        _bias = bias;
        _residual = residual;
        _activation = activation;
        _clamp = activation.IsClamp(out _low, out _high);
    }

    /// <summary>True when there is nothing to do.</summary>
    public bool IsEmpty => _bias == null && _residual == null && _activation.Kind == ActivationKind.None;

    /// <summary>
    /// Rows [0, height) × columns [column, column + width) of this group's y, where <paramref name="block"/> points at
    /// (0, column) and y's rows are <paramref name="stride"/> apart.
    /// </summary>
    public void Apply(float* block, int stride, int height, int column, int width)
    {
        if (IsEmpty) return;
        if (_clamp && Avx512F.IsSupported)
        {
            ClampRows(block, stride, height, column, width);
            return;
        }
        for (int i = 0; i < height; i++)
        {
            var row = new Span<float>(block + (long)i * stride, width);
            if (_residual != null) VectorMath.Add(row, new ReadOnlySpan<float>(_residual + (long)i * stride + column, width));
            _activation.Apply(row, _bias == null ? 0f : _bias[i]);
        }
    }

    /// <summary>row = clamp(row + bias + residual, low, high), 16 floats at a time, the last partial vector masked.</summary>
    void ClampRows(float* block, int stride, int height, int column, int width)
    {
        Vector512<float> low = Vector512.Create(_low), high = Vector512.Create(_high), tail = FirstLanes(width & 15);
        int whole = width & ~15;
        for (int i = 0; i < height; i++)
        {
            float* row = block + (long)i * stride, residual = _residual == null ? null : _residual + (long)i * stride + column;
            var bias = Vector512.Create(_bias == null ? 0f : _bias[i]);
            for (int j = 0; j < whole; j += 16)
            {
                var v = Vector512.Load(row + j) + bias;
                if (residual != null) v += Vector512.Load(residual + j);
                Vector512.Store(Lanes512.Clamp(v, low, high), row + j);
            }
            if (whole < width)
            {
                var v = Avx512F.MaskLoad(row + whole, tail, Vector512<float>.Zero) + bias;
                if (residual != null) v += Avx512F.MaskLoad(residual + whole, tail, Vector512<float>.Zero);
                Avx512F.MaskStore(row + whole, tail, Lanes512.Clamp(v, low, high));
            }
        }
    }

    /// <summary>A mask of the first min(count, 16) lanes, for masked loads and stores.</summary>
    internal static Vector512<float> FirstLanes(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();
}
