using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// The register-blocked inner kernel of the GEMM driver for one instruction set: it multiplies a packed sliver of A
/// (<see cref="Rows"/> rows, stored depth-major: for each p the <see cref="Rows"/> values of column p) by a packed
/// sliver of B (<see cref="Columns"/> columns, stored depth-major: for each p the <see cref="Columns"/> values of row
/// p) and writes or adds the full Rows×Columns tile. Implementations are structs so that the generic driver is
/// specialised per instruction set by the JIT (the MLAS "one driver, per-ISA traits" shape).
/// </summary>
internal unsafe interface IGemmMicroKernel
{
    /// <summary>Rows of C computed per call (MR).</summary>
    static abstract int Rows { get; }

    /// <summary>Columns of C computed per call (NR); packed B slivers are this wide.</summary>
    static abstract int Columns { get; }

    /// <summary>Depth of one cache block (KC): a B sliver of DepthBlock×Columns floats should stay in L1.</summary>
    static abstract int DepthBlock { get; }

    /// <summary>
    /// C[Rows×Columns] (+)= A-sliver · B-sliver over <paramref name="depth"/>; <paramref name="c"/> has row stride
    /// <paramref name="ldc"/>; with <paramref name="accumulate"/> false the tile is overwritten.
    /// </summary>
    static abstract void Tile(float* packedA, float* packedB, int depth, float* c, int ldc, bool accumulate);

    /// <summary>
    /// The first <paramref name="rows"/> (fewer than <see cref="Rows"/>) rows of a tile, written straight to C: the
    /// last row block of a layer whose row count is not a multiple of <see cref="Rows"/> (the packed A sliver is
    /// still <see cref="Rows"/> wide, zero padded).
    /// </summary>
    static abstract void ShortTile(int rows, float* packedA, float* packedB, int depth, float* c, int ldc, bool accumulate);

    /// <summary>
    /// Rows [0, <paramref name="height"/>) × columns [0, <paramref name="width"/>) of a tile whose B sliver holds data in
    /// at most its first <see cref="Columns"/> / 2 columns (the last sliver of a row), written or added to C.
    /// </summary>
    static abstract void NarrowTile(float* packedA, float* packedB, int depth, float* c, int ldc, int height, int width, bool accumulate);

    /// <summary>
    /// One row: c[0..Columns) (+)= Σp a[p·aStride] · b[p·bStride + 0..Columns). Used for M = 1 (GEMV), reading B
    /// either packed (bStride = Columns) or in place (bStride = the row stride of B).
    /// </summary>
    static abstract void Row(float* a, int aStride, float* b, int bStride, int depth, float* c, bool accumulate);
}

/// <summary>Shared pieces of the micro-kernels.</summary>
internal static unsafe class GemmMicroKernels
{
    /// <summary>
    /// <see cref="IGemmMicroKernel.ShortTile"/> or <see cref="IGemmMicroKernel.NarrowTile"/> for kernels without a
    /// specialised one: the full tile into scratch, then its <paramref name="height"/> × <paramref name="width"/> corner
    /// written or added to C.
    /// </summary>
    public static void EdgeTileThroughScratch<TKernel>(float* packedA, float* packedB, int depth, float* c, int ldc, int height, int width, bool accumulate)
        where TKernel : IGemmMicroKernel
    {
        int columns = TKernel.Columns;
        float* tile = stackalloc float[TKernel.Rows * columns];
        TKernel.Tile(packedA, packedB, depth, tile, columns, false);
        CopyTile(tile, columns, c, ldc, height, width, accumulate);
    }

    /// <summary>
    /// Writes or adds the height × width corner of an edge tile computed into <paramref name="tile"/> (row stride
    /// <paramref name="tileStride"/>) to C; the one copy every GEMM and convolution driver uses for tiles the
    /// micro-kernel cannot write in place.
    /// </summary>
    /// <remarks>
    /// With AVX-512, 16 columns at a time through masked loads and stores: DS-CNN's 125-position rows end in a 29-wide
    /// tile on every row block, where a float at a time cost about a sixth of the layer.
    /// </remarks>
    public static void CopyTile(float* tile, int tileStride, float* c, int ldc, int height, int width, bool accumulate)
    {
        if (Avx512F.IsSupported)
        {
            for (int i = 0; i < height; i++, tile += tileStride, c += ldc)
            {
                for (int j = 0; j < width; j += 16)
                {
                    var mask = Convolution.TileEpilogue.FirstLanes(width - j);
                    // Masked on both sides: the tile rows of the narrower kernels are shorter than 16 floats.
                    var value = Avx512F.MaskLoad(tile + j, mask, Vector512<float>.Zero);
                    if (accumulate) value += Avx512F.MaskLoad(c + j, mask, Vector512<float>.Zero);
                    Avx512F.MaskStore(c + j, mask, value);
                }
            }
            return;
        }
        for (int i = 0; i < height; i++, tile += tileStride, c += ldc)
            for (int j = 0; j < width; j++) c[j] = accumulate ? c[j] + tile[j] : tile[j];
    }
}
