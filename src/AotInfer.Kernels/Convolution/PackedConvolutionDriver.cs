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
    /// <paramref name="channels"/> planes, <paramref name="panel"/> is scratch of KC × NC floats.
    /// </summary>
    public static void Multiply(float* image, int channels, in Window2D window, float* filter, int outChannels, int paddedRows,
        float* y, float* panel)
    {
        int mr = TKernel.Rows, nr = TKernel.Columns, kc = TKernel.DepthBlock;
        int depth = channels * window.Taps, positions = window.OutputHeight * window.OutputWidth;
        float* tile = stackalloc float[mr * nr];
        for (int jc = 0; jc < positions; jc += ColumnBlock)
        {
            int nb = Math.Min(ColumnBlock, positions - jc);
            for (int pc = 0; pc < depth; pc += kc)
            {
                int kb = Math.Min(kc, depth - pc);
                window.GatherPanel(image, pc, kb, jc, nb, nr, panel);
                float* aBlock = filter + (long)pc * paddedRows;
                bool accumulate = pc > 0;
                for (int jr = 0; jr < nb; jr += nr)
                {
                    int width = Math.Min(nr, nb - jr);
                    float* bSliver = panel + (long)jr * kb;
                    for (int ir = 0; ir < outChannels; ir += mr)
                    {
                        int height = Math.Min(mr, outChannels - ir);
                        float* c = y + (long)ir * positions + jc + jr;
                        if (height == mr && width == nr)
                        {
                            TKernel.Tile(aBlock + (long)ir * kb, bSliver, kb, c, positions, accumulate);
                        }
                        else
                        {
                            TKernel.Tile(aBlock + (long)ir * kb, bSliver, kb, tile, nr, false);
                            CopyTile(tile, nr, c, positions, height, width, accumulate);
                        }
                    }
                }
            }
        }
    }

    static void CopyTile(float* tile, int tileStride, float* c, int ldc, int height, int width, bool accumulate)
    {
        for (int i = 0; i < height; i++)
        {
            var source = new ReadOnlySpan<float>(tile + i * tileStride, width);
            var target = new Span<float>(c + (long)i * ldc, width);
            if (accumulate) VectorMath.Add(target, source);
            else source.CopyTo(target);
        }
    }
}
