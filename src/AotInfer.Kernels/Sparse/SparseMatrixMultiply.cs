using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// C[m×n] = A[m×k] · B with B a constant sparse matrix known at build time (pruned weights): the work is proportional
/// to the stored blocks of B rather than to k·n. Meant for batch 1 and small m, where a dense product is bound by
/// streaming the weights; each row of A is read from L1 while its outputs are computed.
/// </summary>
/// <remarks>
/// Two tiers: AVX2 + FMA (8-lane gathers for CSR; one broadcast FMA per 4×1 / 8×1 block; .NET exposes no
/// 512-bit gather) and portable scalar code, which is also the reference the tests compare the fast tier with.
/// <see cref="Tier"/> can force the scalar tier. No call allocates.
/// </remarks>
public static unsafe class SparseMatrixMultiply
{
    /// <summary>The best tier this CPU supports.</summary>
    public static GemmTier BestTier { get; } = Avx2.IsSupported && Fma.IsSupported ? GemmTier.Fma256 : GemmTier.Scalar;

    static GemmTier s_tier = BestTier;

    /// <summary>The tier in use: <see cref="GemmTier.Fma256"/> or <see cref="GemmTier.Scalar"/> (others map to the nearest lower). For tests and benchmarks.</summary>
    public static GemmTier Tier
    {
        get => s_tier;
        set => s_tier = value >= GemmTier.Fma256 ? BestTier : GemmTier.Scalar;
    }

    /// <summary>C[m×n] = A[m×k] · B (overwriting C); <paramref name="lda"/> and <paramref name="ldc"/> are row strides.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, BlockSparseMatrix b, Span<float> c, int ldc, int m)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.Columns, k = b.Rows, h = b.BlockHeight;
        MatrixMultiply.CheckOperands(a.Length, lda, false, m, k, "a");
        MatrixMultiply.CheckOperands(c.Length, ldc, false, m, n, "c");
        if (m == 0 || n == 0) return;
        var tier = s_tier;
        float* lanes = stackalloc float[8];
        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (int* start = b.GroupStart)
        fixed (ushort* index = b.ColumnIndex)
        fixed (float* values = b.Values)
        {
            int groups = b.GroupStart.Length - 1;
            for (int i = 0; i < m; i++)
            {
                float* row = pa + (long)i * lda, output = pc + (long)i * ldc;
                if (h == 1)
                {
                    if (tier >= GemmTier.Fma256) RowsFma256(row, output, n, start, index, values);
                    else RowsScalar(row, output, n, start, index, values);
                    continue;
                }
                for (int g = 0; g < groups; g++)
                {
                    // The last group may stick out past n: it is computed into a lane buffer and the valid part copied.
                    int valid = Math.Min(h, n - g * h);
                    float* target = valid == h ? output + g * h : lanes;
                    if (tier >= GemmTier.Fma256 && h == 8) Block8Fma256(row, target, start[g], start[g + 1], index, values);
                    else if (tier >= GemmTier.Fma256) Block4Fma128(row, target, start[g], start[g + 1], index, values);
                    else BlockScalar(row, target, h, start[g], start[g + 1], index, values);
                    if (valid != h) new ReadOnlySpan<float>(lanes, valid).CopyTo(new Span<float>(output + g * h, valid));
                }
            }
        }
    }

    static void RowsScalar(float* row, float* output, int n, int* start, ushort* index, float* values)
    {
        for (int j = 0; j < n; j++)
        {
            float sum = 0;
            for (int e = start[j]; e < start[j + 1]; e++) sum += row[index[e]] * values[e];
            output[j] = sum;
        }
    }

    static void RowsFma256(float* row, float* output, int n, int* start, ushort* index, float* values)
    {
        for (int j = 0; j < n; j++)
        {
            int e = start[j], end = start[j + 1];
            // Rows are padded to multiples of 16: two independent 8-lane gathers per step.
            Vector256<float> sum0 = Vector256<float>.Zero, sum1 = Vector256<float>.Zero;
            for (; e < end; e += 16)
            {
                sum0 = Fma.MultiplyAdd(Avx2.GatherVector256(row, Avx2.ConvertToVector256Int32(index + e), 4), Avx.LoadVector256(values + e), sum0);
                sum1 = Fma.MultiplyAdd(Avx2.GatherVector256(row, Avx2.ConvertToVector256Int32(index + e + 8), 4), Avx.LoadVector256(values + e + 8), sum1);
            }
            output[j] = Vector256.Sum(sum0 + sum1);
        }
    }

    static void BlockScalar(float* row, float* output, int h, int from, int to, ushort* index, float* values)
    {
        for (int lane = 0; lane < h; lane++) output[lane] = 0;
        for (int block = from; block < to; block++)
        {
            float x = row[index[block]];
            for (int lane = 0; lane < h; lane++) output[lane] += x * values[block * h + lane];
        }
    }

    static void Block8Fma256(float* row, float* output, int from, int to, ushort* index, float* values)
    {
        // Four accumulators cover the FMA latency. The four 16-bit indices of a step come in one 64-bit load and are
        // split with shifts: loads, not arithmetic, bound this loop (index, broadcast and weights per block).
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int block = from;
        for (; block + 4 <= to; block += 4)
        {
            ulong four = *(ulong*)(index + block);
            float* w = values + block * 8;
            s0 = Fma.MultiplyAdd(Vector256.Create(row[(ushort)four]), Avx.LoadVector256(w), s0);
            s1 = Fma.MultiplyAdd(Vector256.Create(row[(ushort)(four >> 16)]), Avx.LoadVector256(w + 8), s1);
            s2 = Fma.MultiplyAdd(Vector256.Create(row[(ushort)(four >> 32)]), Avx.LoadVector256(w + 16), s2);
            s3 = Fma.MultiplyAdd(Vector256.Create(row[(ushort)(four >> 48)]), Avx.LoadVector256(w + 24), s3);
        }
        for (; block < to; block++)
            s0 = Fma.MultiplyAdd(Vector256.Create(row[index[block]]), Avx.LoadVector256(values + block * 8), s0);
        Avx.Store(output, (s0 + s1) + (s2 + s3));
    }

    static void Block4Fma128(float* row, float* output, int from, int to, ushort* index, float* values)
    {
        Vector128<float> s0 = Vector128<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int block = from;
        for (; block + 4 <= to; block += 4)
        {
            ulong four = *(ulong*)(index + block);
            float* w = values + block * 4;
            s0 = Fma.MultiplyAdd(Vector128.Create(row[(ushort)four]), Sse.LoadVector128(w), s0);
            s1 = Fma.MultiplyAdd(Vector128.Create(row[(ushort)(four >> 16)]), Sse.LoadVector128(w + 4), s1);
            s2 = Fma.MultiplyAdd(Vector128.Create(row[(ushort)(four >> 32)]), Sse.LoadVector128(w + 8), s2);
            s3 = Fma.MultiplyAdd(Vector128.Create(row[(ushort)(four >> 48)]), Sse.LoadVector128(w + 12), s3);
        }
        for (; block < to; block++)
            s0 = Fma.MultiplyAdd(Vector128.Create(row[index[block]]), Sse.LoadVector128(values + block * 4), s0);
        Sse.Store(output, (s0 + s1) + (s2 + s3));
    }
}
