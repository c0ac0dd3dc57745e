using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// C[m×n] = act(A[m×k] · B + bias) with B a constant <see cref="BandSparseMatrix"/> (pruned weights): the work is one
/// step per 16 lanes of stored weights, not per k·n. Meant for batch 1 and small m.
/// </summary>
/// <remarks>
/// Bands outside, groups inside: a band's 32 inputs stay in two registers while every group that has weights in it
/// runs its steps, and each group's 16 sums live in a buffer of lane slots (in L1) between bands, so consecutive
/// groups are independent chains of multiply-adds. The slots start as the bias (or zero when the layout permuted the
/// outputs, see <see cref="BandSparseMatrix.SlotOfOutput"/>: the bias is then added while 8-lane gathers put the sums
/// back in output order); the activation is applied once the row is complete.
/// Three tiers: AVX-512 (one <c>vpermt2ps</c> per step), AVX2 + FMA (two 8-lane gathers from the band per step) and
/// portable scalar code, which is also the reference the tests compare the others with. <see cref="Tier"/> can force
/// a lower tier. No call allocates.
/// </remarks>
public static unsafe class BandSparseMultiply
{
    const int Lanes = BandSparseMatrix.Lanes, BandWidth = BandSparseMatrix.BandWidth;

    /// <summary>The best tier this CPU supports.</summary>
    public static GemmTier BestTier => SparseTiers.Best;

    static GemmTier s_tier = BestTier;

    /// <summary>
    /// The tier in use: <see cref="GemmTier.Avx512"/>, <see cref="GemmTier.Fma256"/> or <see cref="GemmTier.Scalar"/>
    /// (a request is lowered to the best supported tier at or below it; <see cref="GemmTier.Vector128"/> runs scalar).
    /// For tests and benchmarks.
    /// </summary>
    public static GemmTier Tier
    {
        get => s_tier;
        set => s_tier = SparseTiers.Supported(value);
    }

    /// <summary>
    /// C[m×n] = act(A[m×k] · B + bias), overwriting C; <paramref name="lda"/> and <paramref name="ldc"/> are row
    /// strides; <paramref name="bias"/> is empty or holds one value per output.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, BandSparseMatrix b, ReadOnlySpan<float> bias, FusedActivation activation,
        Span<float> c, int ldc, int m)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.Columns, k = b.Rows;
        MatrixMultiply.CheckOperands(a.Length, lda, false, m, k, "a");
        MatrixMultiply.CheckOperands(c.Length, ldc, false, m, n, "c");
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"bias has {bias.Length} elements but B has {n} columns", nameof(bias));
        if (m == 0 || n == 0) return;
        var tier = s_tier;
        int slots = b.Groups * Lanes;
        // The sums of every lane slot (whole groups; in slot order, see BandSparseMatrix.SlotOfOutput), and the partial
        // last band of the row of A zero padded, so that the kernels read and write whole vectors.
        Span<float> scratch = slots <= MaxStackSlots ? stackalloc float[slots] : LargeScratch(slots);
        float* lastBand = stackalloc float[BandWidth];
        ReadOnlySpan<int> slotOfOutput = b.SlotOfOutput;
        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (float* pbias = bias)
        fixed (float* sums = scratch)
        fixed (int* slotOf = slotOfOutput)
        {
            for (int i = 0; i < m; i++)
            {
                float* x = pa + (long)i * lda, output = pc + (long)i * ldc;
                // With natural lanes the sums start as the bias; with permuted lanes the bias is added on the way out.
                scratch.Clear();
                if (!bias.IsEmpty && slotOfOutput.IsEmpty) bias.CopyTo(scratch);
                int lastStart = Math.Max(0, b.Bands - 1) * BandWidth;
                new Span<float>(lastBand, BandWidth).Clear();
                new ReadOnlySpan<float>(x + lastStart, k - lastStart).CopyTo(new Span<float>(lastBand, BandWidth));

                switch (tier)
                {
                    case GemmTier.Avx512: Avx512(x, lastBand, b, sums); break;
                    case GemmTier.Fma256: Fma256(x, lastBand, b, sums); break;
                    default: Scalar(x, lastBand, b, sums); break;
                }
                if (slotOfOutput.IsEmpty) new ReadOnlySpan<float>(sums, n).CopyTo(new Span<float>(output, n));
                else GatherOutputs(sums, slotOf, bias.IsEmpty ? null : pbias, output, n, tier);
                activation.Apply(new Span<float>(output, n));
            }
        }
    }

    /// <summary>output[j] = sums[slotOf[j]] + bias[j] (bias may be null): 8-lane gathers where AVX2 is in use.</summary>
    static void GatherOutputs(float* sums, int* slotOf, float* bias, float* output, int n, GemmTier tier)
    {
        int j = 0;
        if (tier >= GemmTier.Fma256)
            for (; j + 8 <= n; j += 8)
            {
                var value = Avx2.GatherVector256(sums, Avx.LoadVector256(slotOf + j), 4);
                Avx.Store(output + j, bias == null ? value : value + Avx.LoadVector256(bias + j));
            }
        for (; j < n; j++) output[j] = sums[slotOf[j]] + (bias == null ? 0f : bias[j]);
    }

    /// <summary>Sums of up to this many slots live on the stack (16 KB); larger layers use a per-thread buffer.</summary>
    const int MaxStackSlots = 4096;

    [ThreadStatic] static float[]? t_scratch;

    /// <summary>The calling thread's buffer of at least <paramref name="slots"/> floats (allocated once per thread and size).</summary>
    static Span<float> LargeScratch(int slots)
    {
        if (t_scratch is null || t_scratch.Length < slots) t_scratch = new float[slots];
        return t_scratch.AsSpan(0, slots);
    }

    static void Scalar(float* x, float* lastBand, BandSparseMatrix b, float* slots)
    {
        int groups = b.Groups, bands = b.Bands;
        byte* counts = b.StepCounts, position = b.Positions;
        float* weight = b.Weights;
        for (int band = 0; band < bands; band++)
        {
            float* inputs = band == bands - 1 ? lastBand : x + band * BandWidth;
            for (int g = 0; g < groups; g++)
            {
                float* sums = slots + g * Lanes;
                for (int step = counts[band * groups + g]; step > 0; step--, position += Lanes, weight += Lanes)
                    for (int lane = 0; lane < Lanes; lane++) sums[lane] += inputs[position[lane]] * weight[lane];
            }
        }
    }

    static void Avx512(float* x, float* lastBand, BandSparseMatrix b, float* slots)
    {
        int groups = b.Groups, bands = b.Bands;
        byte* counts = b.StepCounts, position = b.Positions;
        float* weight = b.Weights;
        for (int band = 0; band < bands; band++)
        {
            float* inputs = band == bands - 1 ? lastBand : x + band * BandWidth;
            Vector512<float> low = Avx512F.LoadVector512(inputs), high = Avx512F.LoadVector512(inputs + Lanes);
            for (int g = 0; g < groups; g++)
            {
                int steps = counts[band * groups + g];
                if (steps == 0) continue;
                float* sums = slots + g * Lanes;
                // Two chains of multiply-adds, so that a group's steps overlap within the FMA latency.
                Vector512<float> sum0 = Avx512F.LoadVector512(sums), sum1 = Vector512<float>.Zero;
                for (; steps >= 2; steps -= 2, position += 2 * Lanes, weight += 2 * Lanes)
                {
                    sum0 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32x2(low, Positions(position), high), Avx512F.LoadAlignedVector512(weight), sum0);
                    sum1 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32x2(low, Positions(position + Lanes), high), Avx512F.LoadAlignedVector512(weight + Lanes), sum1);
                }
                if (steps != 0)
                {
                    sum0 = Avx512F.FusedMultiplyAdd(Avx512F.PermuteVar16x32x2(low, Positions(position), high), Avx512F.LoadAlignedVector512(weight), sum0);
                    position += Lanes;
                    weight += Lanes;
                }
                Avx512F.Store(sums, sum0 + sum1);
            }
        }
    }

    /// <summary>A step's 16 positions widened to the permute's 32-bit indices (one <c>vpmovzxbd</c> from memory).</summary>
    static Vector512<int> Positions(byte* position) => Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(position));

    static void Fma256(float* x, float* lastBand, BandSparseMatrix b, float* slots)
    {
        int groups = b.Groups, bands = b.Bands;
        byte* counts = b.StepCounts, position = b.Positions;
        float* weight = b.Weights;
        for (int band = 0; band < bands; band++)
        {
            float* inputs = band == bands - 1 ? lastBand : x + band * BandWidth;
            for (int g = 0; g < groups; g++)
            {
                int steps = counts[band * groups + g];
                if (steps == 0) continue;
                float* sums = slots + g * Lanes;
                Vector256<float> sum0 = Avx.LoadVector256(sums), sum1 = Avx.LoadVector256(sums + 8);
                for (; steps > 0; steps--, position += Lanes, weight += Lanes)
                {
                    sum0 = Fma.MultiplyAdd(Avx2.GatherVector256(inputs, Avx2.ConvertToVector256Int32(position), 4), Avx.LoadAlignedVector256(weight), sum0);
                    sum1 = Fma.MultiplyAdd(Avx2.GatherVector256(inputs, Avx2.ConvertToVector256Int32(position + 8), 4), Avx.LoadAlignedVector256(weight + 8), sum1);
                }
                Avx.Store(sums, sum0);
                Avx.Store(sums + 8, sum1);
            }
        }
    }
}
