using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Kernels.Linear;
using AotInfer.Kernels.Sparse;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The band layout's tiers against the dense scalar reference: shape sweeps around the 16-output groups and 32-input
/// bands (partial last group and band, k = 1, n = 1), M = 1 and small M with row strides, random sparsity from 0 to
/// 100 %, whole zero outputs and inputs, bias and activations. Forcing a tier is global, so every test that forces one
/// lives in this class and restores the best tier.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class BandSparseMultiplyTests
{
    public static IEnumerable<object[]> Tiers() =>
        new[] { GemmTier.Scalar, GemmTier.Fma256, GemmTier.Avx512 }.Where(t => t <= BandSparseMultiply.BestTier).Select(t => new object[] { t });

    /// <summary>The CSR arrays of Bᵀ the compiler emits, from a dense row-major k×n matrix.</summary>
    static BandSparseMatrix Compress(float[] b, int k, int n, int[]? outputOfSlot = null)
    {
        var start = new List<int> { 0 };
        var columns = new List<ushort>();
        var values = new List<float>();
        for (int j = 0; j < n; j++)
        {
            for (int p = 0; p < k; p++)
                if (b[p * n + j] != 0)
                {
                    columns.Add((ushort)p);
                    values.Add(b[p * n + j]);
                }
            start.Add(columns.Count);
        }
        return outputOfSlot is null ? BandSparseMatrix.Create(k, n, start.ToArray(), columns.ToArray(), values.ToArray())
            : BandSparseMatrix.Create(k, n, start.ToArray(), columns.ToArray(), values.ToArray(), outputOfSlot);
    }

    /// <summary>Runs the kernel on <paramref name="tier"/> and compares with reference product + bias + activation.</summary>
    static void AssertMatches(GemmTier tier, float[] b, int m, int k, int n, Random random, bool bias, FusedActivation activation, string label,
        int[]? outputOfSlot = null)
    {
        int lda = k + 2, ldc = n + 3;
        var a = Enumerable.Range(0, m * lda).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var biasValues = bias ? Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray() : Array.Empty<float>();
        var expected = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
        var actual = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
        MatrixMultiply.Reference(a, lda, false, b, n, false, expected, ldc, m, n, k);
        for (int i = 0; i < m; i++) activation.ApplyRows(expected.AsSpan(i * ldc, n), 1, n, biasValues, 0, 1);
        var matrix = Compress(b, k, n, outputOfSlot);
        BandSparseMultiply.Tier = tier;
        BandSparseMultiply.Multiply(a, lda, matrix, biasValues, activation, actual, ldc, m);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
                Assert.True(Math.Abs(expected[i * ldc + j] - actual[i * ldc + j]) <= 1e-5 * Math.Max(1, k),
                    $"{tier} {label} m={m} n={n} k={k}: C[{i},{j}] is {actual[i * ldc + j]}, expected {expected[i * ldc + j]}");
            // Padding between rows of C is never written.
            for (int j = n; j < ldc; j++) Assert.True(float.IsNaN(actual[i * ldc + j]), $"{tier} {label}: C[{i},{j}] past n was written");
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void ShapeSweepMatchesReference(GemmTier tier)
    {
        var random = new Random(7);
        try
        {
            foreach (int m in new[] { 1, 3 })
                foreach (int n in new[] { 1, 5, 15, 16, 17, 33, 100 })
                    foreach (int k in new[] { 1, 2, 16, 17, 31, 32, 33, 64, 100, 300 })
                        foreach (double sparsity in new[] { 0, 0.5, 0.9, 0.95, 0.99, 1 })
                        {
                            var b = Enumerable.Range(0, k * n).Select(_ => random.NextDouble() < sparsity ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
                            bool bias = (n + k) % 2 == 0;
                            AssertMatches(tier, b, m, k, n, random, bias, new FusedActivation(ActivationKind.None), $"sparsity={sparsity} bias={bias}");
                        }
        }
        finally
        {
            BandSparseMultiply.Tier = BandSparseMultiply.BestTier;
        }
    }

    /// <summary>Whole outputs and whole inputs pruned away, a band with one output holding all 32 of its weights, and fused activations.</summary>
    [Theory]
    [MemberData(nameof(Tiers))]
    public void ZeroRowsColumnsDenseBandsAndActivations(GemmTier tier)
    {
        var random = new Random(11);
        try
        {
            int k = 300, n = 45;
            var b = new float[k * n];
            // Every third output and every fourth input pruned away, one output holding all of its first 64 weights,
            // and the others alternately dense and sparse: the layout permutes the lanes, the kernel writes the sums back.
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++)
                    if ((j % 3 != 0 && p % 4 != 1 && random.NextDouble() < (j % 2 == 0 ? 0.9 : 0.05)) || (j == 20 && p < 64))
                        b[p * n + j] = (float)(random.NextDouble() * 2 - 1);
            Assert.Equal(n, Compress(b, k, n).SlotOfOutput.Length);
            foreach (var activation in new[] { new FusedActivation(ActivationKind.Relu), new FusedActivation(ActivationKind.Clip, -0.5f, 0.5f), new FusedActivation(ActivationKind.Sigmoid) })
                foreach (bool bias in new[] { true, false })
                    AssertMatches(tier, b, 2, k, n, random, bias, activation, $"{activation.Kind} bias={bias}");
        }
        finally
        {
            BandSparseMultiply.Tier = BandSparseMultiply.BestTier;
        }
    }

    /// <summary>
    /// The layout stores every non-zero once, pads each (band, group) to its busiest output, and moves the densest
    /// outputs to the first lanes when that saves more than two steps per output.
    /// </summary>
    [Fact]
    public void LayoutCountsStepsAndNonZeros()
    {
        // Output 0 has three weights in band 0 and one in band 1; output 17 one in band 1: 3 + 1 + 1 steps. Sorting
        // would save one step, not worth the permutation.
        var matrix = BandSparseMatrix.Create(40, 18,
            new[] { 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5 },
            new ushort[] { 0, 5, 31, 32, 39 }, new[] { 1f, 2f, 3f, 4f, 5f });
        Assert.Equal(5, matrix.NonZeros);
        Assert.Equal(2, matrix.Groups);
        Assert.Equal(2, matrix.Bands);
        Assert.Equal(3 + 1 + 1, matrix.Steps);
        Assert.True(matrix.SlotOfOutput.IsEmpty);

        // 32 outputs over 10 bands, the even ones with all 320 weights, the odd ones with one: in natural order both
        // groups take 32 steps per band; densest first, group 0 takes 320 steps and group 1 one per band it touches.
        int k = 320, n = 32;
        var start = new List<int> { 0 };
        var columns = new List<ushort>();
        for (int j = 0; j < n; j++)
        {
            columns.AddRange(j % 2 == 0 ? Enumerable.Range(0, k).Select(p => (ushort)p) : new[] { (ushort)(j * 7) });
            start.Add(columns.Count);
        }
        var sorted = BandSparseMatrix.Create(k, n, start.ToArray(), columns.ToArray(), Enumerable.Repeat(1f, columns.Count).ToArray());
        Assert.Equal(16 * k + 16, sorted.NonZeros);
        Assert.Equal(320 + Enumerable.Range(0, 16).Select(i => (2 * i + 1) * 7 / 32).Distinct().Count(), sorted.Steps);
        Assert.Equal(0, sorted.SlotOfOutput[0]);
        Assert.Equal(1, sorted.SlotOfOutput[2]);
        Assert.Equal(16, sorted.SlotOfOutput[1]);
    }

    /// <summary>
    /// A lane order chosen by the caller (the compiler's lane search): random permutations and the natural order
    /// (empty) over partial groups and bands, against the reference, with the steps that order implies.
    /// </summary>
    [Theory]
    [MemberData(nameof(Tiers))]
    public void CallerLaneOrderMatchesReference(GemmTier tier)
    {
        var random = new Random(13);
        try
        {
            foreach (int n in new[] { 1, 17, 40, 100 })
                foreach (int k in new[] { 5, 33, 300 })
                {
                    var b = Enumerable.Range(0, k * n).Select(_ => random.NextDouble() < 0.9 ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
                    int[] order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
                    foreach (var lanes in new[] { order, Array.Empty<int>() })
                        foreach (bool bias in new[] { true, false })
                            AssertMatches(tier, b, 2, k, n, random, bias, new FusedActivation(ActivationKind.Relu), $"lanes={lanes.Length} bias={bias}", lanes);

                    // Steps: per (band, group), the most non-zeros any of the group's slots has in the band.
                    int expectedSteps = 0;
                    for (int band = 0; band < k; band += 32)
                        for (int group = 0; group < n; group += 16)
                            expectedSteps += Enumerable.Range(group, Math.Min(16, n - group))
                                .Max(slot => Enumerable.Range(band, Math.Min(32, k - band)).Count(p => b[p * n + order[slot]] != 0));
                    var matrix = Compress(b, k, n, order);
                    Assert.Equal(expectedSteps, matrix.Steps);
                    Assert.True(order.Select((j, slot) => matrix.SlotOfOutput.IsEmpty ? j == slot : matrix.SlotOfOutput[j] == slot).All(x => x), "slot of each output");
                }
        }
        finally
        {
            BandSparseMultiply.Tier = BandSparseMultiply.BestTier;
        }
    }

    [Fact]
    public void InvalidLaneOrdersAreRejected()
    {
        int[] start = { 0, 1, 1, 2 };
        ushort[] columns = { 3, 0 };
        float[] values = { 1f, 2f };
        Assert.Throws<ArgumentException>(() => BandSparseMatrix.Create(4, 3, start, columns, values, new[] { 0, 1 }));
        Assert.Throws<ArgumentException>(() => BandSparseMatrix.Create(4, 3, start, columns, values, new[] { 0, 1, 1 }));
        Assert.Throws<ArgumentException>(() => BandSparseMatrix.Create(4, 3, start, columns, values, new[] { 0, 1, 3 }));
        Assert.Equal(2, BandSparseMatrix.Create(4, 3, start, columns, values, new[] { 2, 0, 1 }).SlotOfOutput[1]);
    }

    [Fact]
    public void InvalidArraysAreRejected()
    {
        Assert.Throws<ArgumentException>(() => BandSparseMatrix.Create(4, 2, new[] { 0, 1, 1 }, new ushort[] { 4 }, new[] { 1f }));
        Assert.Throws<ArgumentException>(() => BandSparseMatrix.Create(4, 2, new[] { 0, 1 }, new ushort[] { 0 }, new[] { 1f }));
        Assert.Throws<ArgumentException>(() => BandSparseMatrix.Create(4, 2, new[] { 0, 1, 1 }, new ushort[] { 0 }, Array.Empty<float>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => BandSparseMatrix.Create(70000, 2, new[] { 0, 0, 0 }, Array.Empty<ushort>(), Array.Empty<float>()));
        var matrix = BandSparseMatrix.Create(4, 2, new[] { 0, 1, 1 }, new ushort[] { 3 }, new[] { 1f });
        Assert.Throws<ArgumentException>(() => BandSparseMultiply.Multiply(new float[3], 4, matrix, ReadOnlySpan<float>.Empty, default, new float[2], 2, 1));
        Assert.Throws<ArgumentException>(() => BandSparseMultiply.Multiply(new float[4], 4, matrix, new float[3], default, new float[2], 2, 1));
    }
}
