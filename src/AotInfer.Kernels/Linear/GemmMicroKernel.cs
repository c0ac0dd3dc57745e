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
    /// One row: c[0..Columns) (+)= Σp a[p·aStride] · b[p·bStride + 0..Columns). Used for M = 1 (GEMV), reading B
    /// either packed (bStride = Columns) or in place (bStride = the row stride of B).
    /// </summary>
    static abstract void Row(float* a, int aStride, float* b, int bStride, int depth, float* c, bool accumulate);
}
