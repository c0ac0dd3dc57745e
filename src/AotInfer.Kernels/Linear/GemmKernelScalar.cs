namespace AotInfer.Kernels.Linear;

/// <summary>Portable scalar micro-kernel (4×4): the fallback when no vector unit is usable, and a tier tests can force.</summary>
internal unsafe struct GemmKernelScalar : IGemmMicroKernel
{
    public static int Rows => 4;
    public static int Columns => 4;
    public static int DepthBlock => 256;

    public static void ShortTile(int rows, float* a, float* b, int depth, float* c, int ldc, bool accumulate) =>
        GemmMicroKernels.EdgeTileThroughScratch<GemmKernelScalar>(a, b, depth, c, ldc, rows, Columns, accumulate);

    public static void NarrowTile(float* a, float* b, int depth, float* c, int ldc, int height, int width, bool accumulate) =>
        GemmMicroKernels.EdgeTileThroughScratch<GemmKernelScalar>(a, b, depth, c, ldc, height, width, accumulate);

    public static void Tile(float* a, float* b, int depth, float* c, int ldc, bool accumulate)
    {
        float* sum = stackalloc float[16];
        for (int i = 0; i < 16; i++) sum[i] = 0;
        for (int p = 0; p < depth; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                float av = a[i];
                for (int j = 0; j < 4; j++) sum[i * 4 + j] += av * b[j];
            }
            a += 4;
            b += 4;
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum[i * 4 + j] : sum[i * 4 + j];
    }

    public static void Row(float* a, int aStride, float* b, int bStride, int depth, float* c, bool accumulate)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int p = 0; p < depth; p++)
        {
            float x = *a;
            s0 += x * b[0]; s1 += x * b[1]; s2 += x * b[2]; s3 += x * b[3];
            a += aStride;
            b += bStride;
        }
        if (accumulate) { c[0] += s0; c[1] += s1; c[2] += s2; c[3] += s3; }
        else { c[0] = s0; c[1] = s1; c[2] = s2; c[3] = s3; }
    }
}
