using System;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// The blocked single-precision GEMM driver (Goto/BLIS loop order), specialised per instruction set through
/// <typeparamref name="TKernel"/>: columns in blocks of <see cref="ColumnBlock"/> (NC), depth in blocks of
/// <c>TKernel.DepthBlock</c> (KC) with B packed into NR-wide slivers, rows in blocks of <see cref="RowBlock"/> (MC)
/// with A packed into MR-high slivers, then the register-blocked micro-kernel over MR×NR tiles. Edge tiles are
/// computed into a small stack tile (packing pads with zeros) and copied out, so every shape is handled.
/// </summary>
/// <remarks>
/// Matrices are addressed by element strides: A(i,p) = a[i·rowStrideA + p·columnStrideA], B(p,j) likewise, so a
/// transposed operand costs nothing beyond the packing that happens anyway.
/// </remarks>
internal static unsafe class GemmDriver<TKernel> where TKernel : struct, IGemmMicroKernel
{
    /// <summary>MC: rows of A packed at once (a multiple of every tier's MR). 72×256 floats = 72 KB stays in L2.</summary>
    internal const int RowBlock = 72;

    /// <summary>NC: columns of B packed at once (a multiple of every tier's NR). 256×512 floats = 512 KB, half of Zen 4's L2.</summary>
    internal const int ColumnBlock = 512;

    /// <summary>C[m×n] = A·B (overwrite) for m, n, k ≥ 1, packing both operands into the scratch buffers.</summary>
    public static void Multiply(float* a, int rowStrideA, int columnStrideA, float* b, int rowStrideB, int columnStrideB,
        float* c, int ldc, int m, int n, int k, float* scratchA, float* scratchB)
    {
        if (m == 1 && columnStrideB == 1)
        {
            // A GEMV reads each element of B once: packing it would cost as much as the product.
            RowTimesMatrix(a, columnStrideA, b, rowStrideB, c, n, k);
            return;
        }
        int depthBlock = TKernel.DepthBlock;
        for (int jc = 0; jc < n; jc += ColumnBlock)
        {
            int nb = Math.Min(ColumnBlock, n - jc);
            for (int pc = 0; pc < k; pc += depthBlock)
            {
                int kb = Math.Min(depthBlock, k - pc);
                PackB(b + (long)pc * rowStrideB + (long)jc * columnStrideB, rowStrideB, columnStrideB, kb, nb, scratchB);
                MultiplyPanel(a + (long)pc * columnStrideA, rowStrideA, columnStrideA, scratchB, c + jc, ldc, m, nb, kb, pc > 0, scratchA);
            }
        }
    }

    /// <summary>C[m×n] = A·B (overwrite) for B packed by <see cref="PackB"/> over its whole width, depth block after depth block.</summary>
    public static void MultiplyPacked(float* a, int rowStrideA, int columnStrideA, float* packedB, int paddedColumns,
        float* c, int ldc, int m, int n, int k, float* scratchA)
    {
        int depthBlock = TKernel.DepthBlock;
        if (m == 1)
        {
            int nr = TKernel.Columns;
            float* tile = stackalloc float[nr];
            for (int pc = 0; pc < k; pc += depthBlock)
            {
                int kb = Math.Min(depthBlock, k - pc);
                float* block = packedB + (long)pc * paddedColumns;
                float* aBlock = a + (long)pc * columnStrideA;
                for (int jr = 0; jr < n; jr += nr)
                {
                    int width = Math.Min(nr, n - jr);
                    if (width == nr)
                    {
                        TKernel.Row(aBlock, columnStrideA, block + (long)jr * kb, nr, kb, c + jr, pc > 0);
                    }
                    else
                    {
                        TKernel.Row(aBlock, columnStrideA, block + (long)jr * kb, nr, kb, tile, false);
                        GemmMicroKernels.CopyTile(tile, nr, c + jr, ldc, 1, width, pc > 0);
                    }
                }
            }
            return;
        }
        for (int jc = 0; jc < n; jc += ColumnBlock)
        {
            int nb = Math.Min(ColumnBlock, n - jc);
            for (int pc = 0; pc < k; pc += depthBlock)
            {
                int kb = Math.Min(depthBlock, k - pc);
                MultiplyPanel(a + (long)pc * columnStrideA, rowStrideA, columnStrideA, packedB + (long)pc * paddedColumns + (long)jc * kb,
                    c + jc, ldc, m, nb, kb, pc > 0, scratchA);
            }
        }
    }

    /// <summary>C[m×nb] (+)= A[m×kb] · packed B panel: packs A block by block and runs the micro-kernel over the tiles.</summary>
    static void MultiplyPanel(float* a, int rowStrideA, int columnStrideA, float* packedB, float* c, int ldc, int m, int nb, int kb,
        bool accumulate, float* scratchA)
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        float* tile = stackalloc float[mr * nr];
        for (int ic = 0; ic < m; ic += RowBlock)
        {
            int mb = Math.Min(RowBlock, m - ic);
            PackA(a + (long)ic * rowStrideA, rowStrideA, columnStrideA, mb, kb, scratchA);
            for (int jr = 0; jr < nb; jr += nr)
            {
                int width = Math.Min(nr, nb - jr);
                float* bSliver = packedB + (long)jr * kb;
                for (int ir = 0; ir < mb; ir += mr)
                {
                    int height = Math.Min(mr, mb - ir);
                    float* aSliver = scratchA + (long)ir * kb;
                    float* cTile = c + (long)(ic + ir) * ldc + jr;
                    if (height == mr && width == nr)
                    {
                        TKernel.Tile(aSliver, bSliver, kb, cTile, ldc, accumulate);
                    }
                    else if (width == nr)
                    {
                        TKernel.ShortTile(height, aSliver, bSliver, kb, cTile, ldc, accumulate);
                    }
                    else
                    {
                        TKernel.Tile(aSliver, bSliver, kb, tile, nr, false);
                        GemmMicroKernels.CopyTile(tile, nr, cTile, ldc, height, width, accumulate);
                    }
                }
            }
        }
    }

    /// <summary>c[n] = a[k] · B[k×n] with B rows contiguous: full NR-wide column blocks through the kernel's row routine.</summary>
    static void RowTimesMatrix(float* a, int strideA, float* b, int rowStrideB, float* c, int n, int k)
    {
        int nr = TKernel.Columns;
        int full = n - n % nr;
        // A few rows of B at a time, each read front to back: a handful of sequential streams the prefetcher follows,
        // while the row of C being accumulated stays in L1.
        const int depthBlock = 8;
        for (int pc = 0; pc < k; pc += depthBlock)
        {
            int kb = Math.Min(depthBlock, k - pc);
            float* aBlock = a + (long)pc * strideA;
            float* bBlock = b + (long)pc * rowStrideB;
            for (int jr = 0; jr < full; jr += nr)
                TKernel.Row(aBlock, strideA, bBlock + jr, rowStrideB, kb, c + jr, pc > 0);
        }
        for (int j = full; j < n; j++)
        {
            float sum = 0;
            for (int p = 0; p < k; p++) sum += a[(long)p * strideA] * b[(long)p * rowStrideB + j];
            c[j] = sum;
        }
    }

    /// <summary>
    /// Packs B[kb×nb] into ⌈nb/NR⌉ slivers of kb×NR floats, sliver s at s·kb·NR, each row p of a sliver holding
    /// columns s·NR … s·NR+NR−1 (zero past nb).
    /// </summary>
    internal static void PackB(float* b, int rowStride, int columnStride, int kb, int nb, float* packed)
    {
        int nr = TKernel.Columns;
        for (int jr = 0; jr < nb; jr += nr)
        {
            int width = Math.Min(nr, nb - jr);
            float* dst = packed + (long)jr * kb;
            if (width == nr && columnStride == 1)
            {
                float* src = b + jr;
                for (int p = 0; p < kb; p++)
                {
                    for (int j = 0; j < nr; j += 4) Vector128.Store(Vector128.Load(src + j), dst + j);
                    src += rowStride;
                    dst += nr;
                }
            }
            else
            {
                for (int p = 0; p < kb; p++)
                {
                    float* src = b + (long)p * rowStride + (long)jr * columnStride;
                    int j = 0;
                    for (; j < width; j++) dst[j] = src[(long)j * columnStride];
                    for (; j < nr; j++) dst[j] = 0;
                    dst += nr;
                }
            }
        }
    }

    /// <summary>Packs A[mb×kb] into ⌈mb/MR⌉ slivers of kb×MR floats (depth-major), zero past mb.</summary>
    internal static void PackA(float* a, int rowStride, int columnStride, int mb, int kb, float* packed)
    {
        int mr = TKernel.Rows;
        for (int ir = 0; ir < mb; ir += mr)
        {
            int height = Math.Min(mr, mb - ir);
            float* dst = packed + (long)ir * kb;
            for (int i = 0; i < mr; i++)
            {
                float* d = dst + i;
                if (i < height)
                {
                    float* src = a + (long)(ir + i) * rowStride;
                    if (columnStride == 1) for (int p = 0; p < kb; p++) d[p * mr] = src[p];
                    else for (int p = 0; p < kb; p++) d[p * mr] = src[(long)p * columnStride];
                }
                else
                {
                    for (int p = 0; p < kb; p++) d[p * mr] = 0;
                }
            }
        }
    }
}
