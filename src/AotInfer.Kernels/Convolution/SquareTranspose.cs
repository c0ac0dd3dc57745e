using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// An in-register transpose of an L×L block of floats, L being the lanes of one vector width, so that a kernel which
/// moves data between NCHW planes and channel-interleaved pixels is written once for both widths.
/// </summary>
internal unsafe interface ISquareTranspose
{
    /// <summary>
    /// target row j, lane i = source row i, lane j, each target row stored where <paramref name="target"/> puts it. Source
    /// rows from <paramref name="sourceRows"/> on are not read: they repeat the last row read, so their lanes in the
    /// target hold copies, which callers leave unused.
    /// </summary>
    static abstract void Transpose<TTarget>(float* source, nint sourceStride, int sourceRows, in TTarget target) where TTarget : struct, ITransposeTarget;
}

/// <summary>Where the rows of a transposed block go.</summary>
internal unsafe interface ITransposeTarget
{
    void Store(int row, Vector512<float> value);
    void Store(int row, Vector256<float> value);
    void Store(int row, Vector128<float> value);
}

/// <summary>The first <c>rows</c> rows, <c>stride</c> floats apart (NCHW planes).</summary>
internal readonly unsafe struct StridedRows(float* target, nint stride, int rows) : ITransposeTarget
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, Vector512<float> value)
    {
        if (row < rows) value.Store(target + row * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, Vector256<float> value)
    {
        if (row < rows) value.Store(target + row * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, Vector128<float> value)
    {
        if (row < rows) value.Store(target + row * stride);
    }
}

/// <summary>Every row, row j at <c>target + offsets[j]</c> (pixels of a padded, channel-interleaved plane).</summary>
internal readonly unsafe struct ScatteredRows(float* target, int* offsets) : ITransposeTarget
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, Vector512<float> value) => value.Store(target + offsets[row]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, Vector256<float> value) => value.Store(target + offsets[row]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, Vector128<float> value) => value.Store(target + offsets[row]);
}

/// <summary>
/// 16×16 with AVX-512F: pairs of rows interleaved (unpack), then quads (shuffle), then 128-bit blocks in two rounds
/// (shuffle4x128): 64 shuffles for 256 floats.
/// </summary>
internal unsafe struct Transpose16x16 : ISquareTranspose
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose<TTarget>(float* source, nint sourceStride, int sourceRows, in TTarget target) where TTarget : struct, ITransposeTarget
    {
        var r0 = Row(0); var r1 = Row(1); var r2 = Row(2); var r3 = Row(3);
        var r4 = Row(4); var r5 = Row(5); var r6 = Row(6); var r7 = Row(7);
        var r8 = Row(8); var r9 = Row(9); var r10 = Row(10); var r11 = Row(11);
        var r12 = Row(12); var r13 = Row(13); var r14 = Row(14); var r15 = Row(15);
        // Per 128-bit block b: t(2k) = rows 2k, 2k+1 at columns 4b, 4b+1; t(2k+1) the same at columns 4b+2, 4b+3.
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);
        // u(4k + m), block b = column 4b + m of rows 4k…4k+3.
        var u0 = Avx512F.Shuffle(t0, t2, 0x44); var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        var u2 = Avx512F.Shuffle(t1, t3, 0x44); var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        var u4 = Avx512F.Shuffle(t4, t6, 0x44); var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
        var u6 = Avx512F.Shuffle(t5, t7, 0x44); var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
        var u8 = Avx512F.Shuffle(t8, t10, 0x44); var u9 = Avx512F.Shuffle(t8, t10, 0xEE);
        var u10 = Avx512F.Shuffle(t9, t11, 0x44); var u11 = Avx512F.Shuffle(t9, t11, 0xEE);
        var u12 = Avx512F.Shuffle(t12, t14, 0x44); var u13 = Avx512F.Shuffle(t12, t14, 0xEE);
        var u14 = Avx512F.Shuffle(t13, t15, 0x44); var u15 = Avx512F.Shuffle(t13, t15, 0xEE);
        // Rows 0–7 (from u m and u 4+m) and 8–15 (u 8+m, u 12+m): blocks 0, 2 (0x88) give columns m and 8+m, blocks
        // 1, 3 (0xDD) columns 4+m and 12+m, each as [column c rows 0–3, column c+8 rows 0–3, c rows 4–7, c+8 rows 4–7].
        var a0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var a1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        var a2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var a3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        var a4 = Avx512F.Shuffle4x128(u0, u4, 0xDD); var a5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var a6 = Avx512F.Shuffle4x128(u2, u6, 0xDD); var a7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var b0 = Avx512F.Shuffle4x128(u8, u12, 0x88); var b1 = Avx512F.Shuffle4x128(u9, u13, 0x88);
        var b2 = Avx512F.Shuffle4x128(u10, u14, 0x88); var b3 = Avx512F.Shuffle4x128(u11, u15, 0x88);
        var b4 = Avx512F.Shuffle4x128(u8, u12, 0xDD); var b5 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var b6 = Avx512F.Shuffle4x128(u10, u14, 0xDD); var b7 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        // The last round joins rows 0–7 and 8–15: column c from the even blocks, column c + 8 from the odd ones.
        target.Store(0, Avx512F.Shuffle4x128(a0, b0, 0x88)); target.Store(8, Avx512F.Shuffle4x128(a0, b0, 0xDD));
        target.Store(1, Avx512F.Shuffle4x128(a1, b1, 0x88)); target.Store(9, Avx512F.Shuffle4x128(a1, b1, 0xDD));
        target.Store(2, Avx512F.Shuffle4x128(a2, b2, 0x88)); target.Store(10, Avx512F.Shuffle4x128(a2, b2, 0xDD));
        target.Store(3, Avx512F.Shuffle4x128(a3, b3, 0x88)); target.Store(11, Avx512F.Shuffle4x128(a3, b3, 0xDD));
        target.Store(4, Avx512F.Shuffle4x128(a4, b4, 0x88)); target.Store(12, Avx512F.Shuffle4x128(a4, b4, 0xDD));
        target.Store(5, Avx512F.Shuffle4x128(a5, b5, 0x88)); target.Store(13, Avx512F.Shuffle4x128(a5, b5, 0xDD));
        target.Store(6, Avx512F.Shuffle4x128(a6, b6, 0x88)); target.Store(14, Avx512F.Shuffle4x128(a6, b6, 0xDD));
        target.Store(7, Avx512F.Shuffle4x128(a7, b7, 0x88)); target.Store(15, Avx512F.Shuffle4x128(a7, b7, 0xDD));

        Vector512<float> Row(int i) => Vector512.Load(source + (i < sourceRows ? i : sourceRows - 1) * sourceStride);
    }
}

/// <summary>8×8 with AVX: the classic unpack, shuffle, 128-bit permute rounds (24 shuffles for 64 floats).</summary>
internal unsafe struct Transpose8x8 : ISquareTranspose
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose<TTarget>(float* source, nint sourceStride, int sourceRows, in TTarget target) where TTarget : struct, ITransposeTarget
    {
        var r0 = Row(0); var r1 = Row(1); var r2 = Row(2); var r3 = Row(3);
        var r4 = Row(4); var r5 = Row(5); var r6 = Row(6); var r7 = Row(7);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1); var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5); var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE); var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE); var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        target.Store(0, Avx.Permute2x128(u0, u4, 0x20)); target.Store(1, Avx.Permute2x128(u1, u5, 0x20));
        target.Store(2, Avx.Permute2x128(u2, u6, 0x20)); target.Store(3, Avx.Permute2x128(u3, u7, 0x20));
        target.Store(4, Avx.Permute2x128(u0, u4, 0x31)); target.Store(5, Avx.Permute2x128(u1, u5, 0x31));
        target.Store(6, Avx.Permute2x128(u2, u6, 0x31)); target.Store(7, Avx.Permute2x128(u3, u7, 0x31));

        Vector256<float> Row(int i) => Vector256.Load(source + (i < sourceRows ? i : sourceRows - 1) * sourceStride);
    }
}

/// <summary>
/// 4×4 with portable 128-bit vectors (SSE, NEON): each target row gathered lane by lane. Only the 128-bit tier's path
/// into and out of the NCHW16c layout uses it, where the convolution, not the transpose, dominates.
/// </summary>
internal unsafe struct Transpose4x4 : ISquareTranspose
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose<TTarget>(float* source, nint sourceStride, int sourceRows, in TTarget target) where TTarget : struct, ITransposeTarget
    {
        var r0 = Row(0); var r1 = Row(1); var r2 = Row(2); var r3 = Row(3);
        for (int j = 0; j < 4; j++) target.Store(j, Vector128.Create(r0.GetElement(j), r1.GetElement(j), r2.GetElement(j), r3.GetElement(j)));

        Vector128<float> Row(int i) => Vector128.Load(source + (i < sourceRows ? i : sourceRows - 1) * sourceStride);
    }
}
