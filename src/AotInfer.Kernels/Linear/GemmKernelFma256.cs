using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Linear;

/// <summary>AVX2+FMA micro-kernel: a 6×16 tile in twelve 256-bit accumulators (of the 16 ymm registers).</summary>
internal unsafe struct GemmKernelFma256 : IGemmMicroKernel
{
    public static int Rows => 6;
    public static int Columns => 16;
    // 6×256 A + 256×16 B = 22 KB: fits a 32 KB L1D.
    public static int DepthBlock => 256;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    public static void Tile(float* a, float* b, int depth, float* c, int ldc, bool accumulate) =>
        TileOf<SixRows>(a, b, depth, c, ldc, accumulate);

    public static void NarrowTile(float* a, float* b, int depth, float* c, int ldc, int height, int width, bool accumulate) =>
        GemmMicroKernels.EdgeTileThroughScratch<GemmKernelFma256>(a, b, depth, c, ldc, height, width, accumulate);

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
    /// The first <typeparamref name="TRows"/> rows of the 6×16 tile: each specialisation keeps only its rows'
    /// accumulators and broadcasts (the row count is a JIT-time constant), reading the 6-wide packed A sliver.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TileOf<TRows>(float* a, float* b, int depth, float* c, int ldc, bool accumulate) where TRows : struct, ITileRows
    {
        int rows = TRows.Count;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
            if (rows > 1) { var a1 = Vector256.Create(a[1]); c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11); }
            if (rows > 2) { var a2 = Vector256.Create(a[2]); c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21); }
            if (rows > 3) { var a3 = Vector256.Create(a[3]); c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31); }
            if (rows > 4) { var a4 = Vector256.Create(a[4]); c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41); }
            if (rows > 5) { var a5 = Vector256.Create(a[5]); c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51); }
            a += 6;
            b += 16;
        }
        StoreRow(c, c00, c01, accumulate);
        if (rows > 1) StoreRow(c + ldc, c10, c11, accumulate);
        if (rows > 2) StoreRow(c + 2 * ldc, c20, c21, accumulate);
        if (rows > 3) StoreRow(c + 3 * ldc, c30, c31, accumulate);
        if (rows > 4) StoreRow(c + 4 * ldc, c40, c41, accumulate);
        if (rows > 5) StoreRow(c + 5 * ldc, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(float* c, Vector256<float> v0, Vector256<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

    public static void Row(float* a, int aStride, float* b, int bStride, int depth, float* c, bool accumulate)
    {
        Vector256<float> e0 = default, e1 = default, o0 = default, o1 = default;
        int p = 0;
        for (; p + 1 < depth; p += 2)
        {
            var x = Vector256.Create(a[0]);
            e0 = Fma(x, Vector256.Load(b), e0);
            e1 = Fma(x, Vector256.Load(b + 8), e1);
            var y = Vector256.Create(a[aStride]);
            o0 = Fma(y, Vector256.Load(b + bStride), o0);
            o1 = Fma(y, Vector256.Load(b + bStride + 8), o1);
            a += 2 * aStride;
            b += 2 * bStride;
        }
        if (p < depth)
        {
            var x = Vector256.Create(a[0]);
            e0 = Fma(x, Vector256.Load(b), e0);
            e1 = Fma(x, Vector256.Load(b + 8), e1);
        }
        StoreRow(c, e0 + o0, e1 + o1, accumulate);
    }
}
