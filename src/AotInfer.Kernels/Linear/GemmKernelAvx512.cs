using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Linear;

/// <summary>AVX-512F micro-kernel: a 6×32 tile in twelve 512-bit accumulators (of the 32 zmm registers).</summary>
internal unsafe struct GemmKernelAvx512 : IGemmMicroKernel
{
    public static int Rows => 6;
    public static int Columns => 32;
    // 6×128 A + 128×32 B = 19 KB: the B sliver and the A sliver both fit Zen 4's 32 KB L1D.
    public static int DepthBlock => 128;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    public static void Tile(float* a, float* b, int depth, float* c, int ldc, bool accumulate) =>
        TileOf<SixRows>(a, b, depth, c, ldc, accumulate);

    public static void ShortTile(int rows, float* a, float* b, int depth, float* c, int ldc, bool accumulate)
    {
        switch (rows)
        {
            case 1: TileOf<OneRow>(a, b, depth, c, ldc, accumulate); break;
            case 2: TileOf<TwoRows>(a, b, depth, c, ldc, accumulate); break;
            case 3: TileOf<ThreeRows>(a, b, depth, c, ldc, accumulate); break;
            case 4: TileOf<FourRows>(a, b, depth, c, ldc, accumulate); break;
            case 5: TileOf<FiveRows>(a, b, depth, c, ldc, accumulate); break;
            default: throw new System.ArgumentOutOfRangeException(nameof(rows), rows, "a short tile has 1 to 5 rows");
        }
    }

    /// <summary>
    /// The first <typeparamref name="TRows"/> rows of the 6×32 tile: each specialisation keeps only its rows'
    /// accumulators and broadcasts (the row count is a JIT-time constant), reading the 6-wide packed A sliver.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TileOf<TRows>(float* a, float* b, int depth, float* c, int ldc, bool accumulate) where TRows : struct, ITileRows
    {
        int rows = TRows.Count;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
            if (rows > 1) { var a1 = Vector512.Create(a[1]); c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11); }
            if (rows > 2) { var a2 = Vector512.Create(a[2]); c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21); }
            if (rows > 3) { var a3 = Vector512.Create(a[3]); c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31); }
            if (rows > 4) { var a4 = Vector512.Create(a[4]); c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41); }
            if (rows > 5) { var a5 = Vector512.Create(a[5]); c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51); }
            a += 6;
            b += 32;
        }
        StoreRow(c, c00, c01, accumulate);
        if (rows > 1) StoreRow(c + ldc, c10, c11, accumulate);
        if (rows > 2) StoreRow(c + 2 * ldc, c20, c21, accumulate);
        if (rows > 3) StoreRow(c + 3 * ldc, c30, c31, accumulate);
        if (rows > 4) StoreRow(c + 4 * ldc, c40, c41, accumulate);
        if (rows > 5) StoreRow(c + 5 * ldc, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(float* c, Vector512<float> v0, Vector512<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
    }

    /// <summary>
    /// The rows [0, <paramref name="height"/>) × columns [0, <paramref name="width"/>) (width ≤ 16) of a tile whose B
    /// sliver holds data only in its first 16 columns: six accumulators instead of twelve, and masked stores straight
    /// into C instead of a full tile computed aside and copied (a 169-position row — SqueezeNet's 13×13 layers — ends
    /// in a 9-wide sliver that cost as much as a full one).
    /// </summary>
    public static void NarrowTile(float* a, float* b, int depth, float* c, int ldc, int height, int width, bool accumulate)
    {
        // Two steps of depth in separate accumulators: six chains alone would wait on the FMA latency.
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        int p = 0;
        for (; p + 1 < depth; p += 2, a += 12, b += 64)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 32);
            c0 = Fma(Vector512.Create(a[0]), b0, c0); d0 = Fma(Vector512.Create(a[6]), b1, d0);
            c1 = Fma(Vector512.Create(a[1]), b0, c1); d1 = Fma(Vector512.Create(a[7]), b1, d1);
            c2 = Fma(Vector512.Create(a[2]), b0, c2); d2 = Fma(Vector512.Create(a[8]), b1, d2);
            c3 = Fma(Vector512.Create(a[3]), b0, c3); d3 = Fma(Vector512.Create(a[9]), b1, d3);
            c4 = Fma(Vector512.Create(a[4]), b0, c4); d4 = Fma(Vector512.Create(a[10]), b1, d4);
            c5 = Fma(Vector512.Create(a[5]), b0, c5); d5 = Fma(Vector512.Create(a[11]), b1, d5);
        }
        if (p < depth)
        {
            var b0 = Vector512.Load(b);
            c0 = Fma(Vector512.Create(a[0]), b0, c0);
            c1 = Fma(Vector512.Create(a[1]), b0, c1);
            c2 = Fma(Vector512.Create(a[2]), b0, c2);
            c3 = Fma(Vector512.Create(a[3]), b0, c3);
            c4 = Fma(Vector512.Create(a[4]), b0, c4);
            c5 = Fma(Vector512.Create(a[5]), b0, c5);
        }
        c0 += d0; c1 += d1; c2 += d2; c3 += d3; c4 += d4; c5 += d5;
        var mask = Convolution.TileEpilogue.FirstLanes(width);
        StoreMasked(c, c0, mask, accumulate);
        if (height > 1) StoreMasked(c + ldc, c1, mask, accumulate);
        if (height > 2) StoreMasked(c + 2 * ldc, c2, mask, accumulate);
        if (height > 3) StoreMasked(c + 3 * ldc, c3, mask, accumulate);
        if (height > 4) StoreMasked(c + 4 * ldc, c4, mask, accumulate);
        if (height > 5) StoreMasked(c + 5 * ldc, c5, mask, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreMasked(float* c, Vector512<float> v, Vector512<float> mask, bool accumulate)
    {
        if (accumulate) v += Avx512F.MaskLoad(c, mask, Vector512<float>.Zero);
        Avx512F.MaskStore(c, mask, v);
    }

    public static void Row(float* a, int aStride, float* b, int bStride, int depth, float* c, bool accumulate)
    {
        // Two independent chains per half hide the FMA latency (the row is memory-bound anyway).
        Vector512<float> e0 = default, e1 = default, o0 = default, o1 = default;
        int p = 0;
        for (; p + 1 < depth; p += 2)
        {
            var x = Vector512.Create(a[0]);
            e0 = Fma(x, Vector512.Load(b), e0);
            e1 = Fma(x, Vector512.Load(b + 16), e1);
            var y = Vector512.Create(a[aStride]);
            o0 = Fma(y, Vector512.Load(b + bStride), o0);
            o1 = Fma(y, Vector512.Load(b + bStride + 16), o1);
            a += 2 * aStride;
            b += 2 * bStride;
        }
        if (p < depth)
        {
            var x = Vector512.Create(a[0]);
            e0 = Fma(x, Vector512.Load(b), e0);
            e1 = Fma(x, Vector512.Load(b + 16), e1);
        }
        StoreRow(c, e0 + o0, e1 + o1, accumulate);
    }
}
