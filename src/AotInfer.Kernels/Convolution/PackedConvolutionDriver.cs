using System;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A 2-D convolution as one GEMM per group, y[M, P] = W[M, C·K] · columns[C·K, P], without an im2col buffer: the
/// weights come pre-packed (<see cref="PackedFilter"/>) and the column matrix is gathered from the image straight
/// into the micro-kernel's B slivers, one cache block at a time. Compared with im2col followed by a generic GEMM this
/// saves the weight packing on every call and one full write + read of the column matrix.
/// </summary>
internal static unsafe class PackedConvolutionDriver<TKernel> where TKernel : struct, IGemmMicroKernel
{
    /// <summary>NC: window positions gathered per panel; the panel (KC × NC floats) fits the GEMM's B scratch.</summary>
    const int ColumnBlock = GemmDriver<TKernel>.ColumnBlock;

    /// <summary>
    /// y[outChannels, P] = filter · columns(image) for one group; <paramref name="image"/> holds
    /// <paramref name="channels"/> planes (zero-bordered, see <see cref="Window2D.Pad"/>), <paramref name="panel"/> is
    /// scratch of KC × NC floats plus one sliver.
    /// </summary>
    public static void Multiply(float* image, int channels, in Window2D window, float* filter, int outChannels, int paddedRows,
        float* y, float* panel)
    {
        int nr = TKernel.Columns, depth = channels * window.Taps, positions = window.OutputHeight * window.OutputWidth;
        int kc = PackedFilter.DepthBlock(depth);
        float* tile = stackalloc float[TKernel.Rows * nr];
        for (int jc = 0; jc < positions; jc += ColumnBlock)
        {
            int nb = Math.Min(ColumnBlock, positions - jc);
            for (int pc = 0; pc < depth; pc += kc)
            {
                int kb = Math.Min(kc, depth - pc);
                window.GatherPanel(image, pc, kb, jc, nb, nr, panel);
                MultiplyBlock(filter + (long)pc * paddedRows, outChannels, panel, kb, nb, y + jc, positions, pc > 0, tile);
            }
        }
    }

    /// <summary>
    /// C[rows × columns] = packed A · packed B where both come pre-packed whole: A as a <see cref="PackedFilter"/> group,
    /// B depth block after depth block (the same blocks), each block ⌈columns/NR⌉ slivers of kb × NR starting at
    /// pc × <paramref name="paddedColumns"/>.
    /// </summary>
    public static void MultiplyPrepacked(float* filter, int rows, int paddedRows, int depth, float* packedB, int columns, int paddedColumns,
        float* c, int ldc)
    {
        int kc = PackedFilter.DepthBlock(depth);
        float* tile = stackalloc float[TKernel.Rows * TKernel.Columns];
        for (int pc = 0; pc < depth; pc += kc)
            MultiplyBlock(filter + (long)pc * paddedRows, rows, packedB + (long)pc * paddedColumns, Math.Min(kc, depth - pc), columns, c, ldc, pc > 0, tile);
    }

    /// <summary>C[rows × nb] (+)= one depth block of packed A · one panel of packed B slivers, tile by tile.</summary>
    static void MultiplyBlock(float* aBlock, int rows, float* panel, int kb, int nb, float* c, int ldc, bool accumulate, float* tile)
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        for (int jr = 0; jr < nb; jr += nr)
        {
            int width = Math.Min(nr, nb - jr);
            float* bSliver = panel + (long)jr * kb;
            for (int ir = 0; ir < rows; ir += mr)
            {
                int height = Math.Min(mr, rows - ir);
                float* cTile = c + (long)ir * ldc + jr;
                if (height == mr && width == nr)
                {
                    TKernel.Tile(aBlock + (long)ir * kb, bSliver, kb, cTile, ldc, accumulate);
                }
                else if (width == nr)
                {
                    TKernel.ShortTile(height, aBlock + (long)ir * kb, bSliver, kb, cTile, ldc, accumulate);
                }
                else
                {
                    TKernel.Tile(aBlock + (long)ir * kb, bSliver, kb, tile, nr, false);
                    GemmMicroKernels.CopyTile(tile, nr, cTile, ldc, height, width, accumulate);
                }
            }
        }
    }
}
