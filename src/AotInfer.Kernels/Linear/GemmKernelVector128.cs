using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// Portable 128-bit micro-kernel (SSE, NEON): a 6×8 tile in twelve accumulators. Multiply-add is fused where the
/// hardware has it and a multiply then an add elsewhere.
/// </summary>
internal unsafe struct GemmKernelVector128 : IGemmMicroKernel
{
    public static int Rows => 6;
    public static int Columns => 8;
    public static int DepthBlock => 256;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);

    public static void ShortTile(int rows, float* a, float* b, int depth, float* c, int ldc, bool accumulate) =>
        GemmMicroKernels.EdgeTileThroughScratch<GemmKernelVector128>(a, b, depth, c, ldc, rows, Columns, accumulate);

    public static void NarrowTile(float* a, float* b, int depth, float* c, int ldc, int height, int width, bool accumulate) =>
        GemmMicroKernels.EdgeTileThroughScratch<GemmKernelVector128>(a, b, depth, c, ldc, height, width, accumulate);

    public static void Tile(float* a, float* b, int depth, float* c, int ldc, bool accumulate)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var a0 = Vector128.Create(a[0]);
            c00 = Fma(a0, b0, c00); c01 = Fma(a0, b1, c01);
            var a1 = Vector128.Create(a[1]);
            c10 = Fma(a1, b0, c10); c11 = Fma(a1, b1, c11);
            var a2 = Vector128.Create(a[2]);
            c20 = Fma(a2, b0, c20); c21 = Fma(a2, b1, c21);
            var a3 = Vector128.Create(a[3]);
            c30 = Fma(a3, b0, c30); c31 = Fma(a3, b1, c31);
            var a4 = Vector128.Create(a[4]);
            c40 = Fma(a4, b0, c40); c41 = Fma(a4, b1, c41);
            var a5 = Vector128.Create(a[5]);
            c50 = Fma(a5, b0, c50); c51 = Fma(a5, b1, c51);
            a += 6;
            b += 8;
        }
        StoreRow(c, c00, c01, accumulate); c += ldc;
        StoreRow(c, c10, c11, accumulate); c += ldc;
        StoreRow(c, c20, c21, accumulate); c += ldc;
        StoreRow(c, c30, c31, accumulate); c += ldc;
        StoreRow(c, c40, c41, accumulate); c += ldc;
        StoreRow(c, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(float* c, Vector128<float> v0, Vector128<float> v1, bool accumulate)
    {
        if (accumulate)
        {
            v0 += Vector128.Load(c);
            v1 += Vector128.Load(c + 4);
        }
        Vector128.Store(v0, c);
        Vector128.Store(v1, c + 4);
    }

    public static void Row(float* a, int aStride, float* b, int bStride, int depth, float* c, bool accumulate)
    {
        Vector128<float> v0 = default, v1 = default;
        for (int p = 0; p < depth; p++)
        {
            var x = Vector128.Create(a[0]);
            v0 = Fma(x, Vector128.Load(b), v0);
            v1 = Fma(x, Vector128.Load(b + 4), v1);
            a += aStride;
            b += bStride;
        }
        StoreRow(c, v0, v1, accumulate);
    }
}
