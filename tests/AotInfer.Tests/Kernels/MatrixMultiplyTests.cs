using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Kernels.Linear;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The SGEMM tiers against the scalar reference over shape sweeps (every m, n in 1…17, several depths, powers of two,
/// sizes that cross the cache blocks), transposes, strides and pre-packed B. Forcing a tier is global, so every test
/// that forces one lives in this class (xunit runs a class's tests one at a time) and restores the best tier.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class MatrixMultiplyTests
{
    public static IEnumerable<object[]> Tiers() => Enum.GetValues<GemmTier>().Where(t => t <= MatrixMultiply.BestTier).Select(t => new object[] { t });

    static float[] Random(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    static void AssertClose(float[] expected, float[] actual, int k, string what)
    {
        // Sums of k products of values in [-1, 1): the error grows with k.
        double tolerance = 1e-5 * Math.Max(1, k);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    /// <summary>Runs one product through the tier and the reference; C starts as garbage to prove it is overwritten.</summary>
    static void Check(GemmTier tier, int m, int n, int k, bool transposeA, bool transposeB, bool packed, int pad = 0)
    {
        int lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad, ldc = n + pad;
        float[] a = Random(m * 31 + k, (transposeA ? k : m) * lda);
        float[] b = Random(n * 17 + k, (transposeB ? n : k) * ldb);
        float[] expected = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
        float[] actual = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
        MatrixMultiply.Reference(a, lda, transposeA, b, ldb, transposeB, expected, ldc, m, n, k);
        try
        {
            MatrixMultiply.Tier = tier;
            if (packed) MatrixMultiply.Multiply(a, lda, transposeA, PackedMatrix.Pack(b, ldb, transposeB, k, n), actual, ldc, m);
            else MatrixMultiply.Multiply(a, lda, transposeA, b, ldb, transposeB, actual, ldc, m, n, k);
        }
        finally
        {
            MatrixMultiply.Tier = MatrixMultiply.BestTier;
        }
        // Padding columns of C must stay untouched (NaN in both).
        for (int i = 0; i < expected.Length; i++) if (float.IsNaN(expected[i])) Assert.True(float.IsNaN(actual[i]), $"padding element {i} was written");
        AssertClose(expected.Select(v => float.IsNaN(v) ? 0 : v).ToArray(), actual.Select(v => float.IsNaN(v) ? 0 : v).ToArray(), k,
            $"tier {tier} m={m} n={n} k={k} transA={transposeA} transB={transposeB} packed={packed} pad={pad}");
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void EveryShapeUpTo17MatchesReference(GemmTier tier)
    {
        foreach (int k in new[] { 1, 2, 3, 8, 17 })
            for (int m = 1; m <= 17; m++)
                for (int n = 1; n <= 17; n++)
                    Check(tier, m, n, k, false, false, packed: false);
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void PrePackedEveryShapeUpTo17MatchesReference(GemmTier tier)
    {
        foreach (int k in new[] { 1, 5, 16 })
            for (int m = 1; m <= 17; m++)
                for (int n = 1; n <= 17; n++)
                    Check(tier, m, n, k, false, false, packed: true);
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void TransposesAndStridesMatchReference(GemmTier tier)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (bool packed in new[] { false, true })
                    foreach (var (m, n, k) in new[] { (1, 7, 9), (1, 33, 40), (7, 5, 3), (13, 35, 19), (6, 32, 64) })
                        Check(tier, m, n, k, ta, tb, packed, pad: 3);
    }

    /// <summary>Powers of two, odd sizes and sizes past MC=72, KC=128/256 and NC=512, so every block edge is crossed.</summary>
    [Theory]
    [InlineData(64, 64, 64)]
    [InlineData(128, 128, 128)]
    [InlineData(1, 1024, 300)]
    [InlineData(1, 77, 513)]
    [InlineData(75, 530, 260)]
    [InlineData(145, 67, 515)]
    [InlineData(33, 1031, 129)]
    public void LargeShapesMatchReferenceOnEveryTier(int m, int n, int k)
    {
        foreach (var tier in Tiers().Select(t => (GemmTier)t[0]))
        {
            Check(tier, m, n, k, false, false, packed: false);
            Check(tier, m, n, k, false, false, packed: true);
        }
        Check(MatrixMultiply.BestTier, m, n, k, true, true, packed: false);
        Check(MatrixMultiply.BestTier, m, n, k, true, true, packed: true);
    }

    [Fact]
    public void ZeroDepthClearsTheOutput()
    {
        float[] c = { 5, 5, 5, 5, 5, 5 };
        MatrixMultiply.Multiply(Array.Empty<float>(), 0, Array.Empty<float>(), 3, c, 3, 2, 3, 0);
        Assert.All(c, v => Assert.Equal(0f, v));
        c = new float[] { 5, 5, 5 };
        MatrixMultiply.Multiply(Array.Empty<float>(), 0, PackedMatrix.Pack(Array.Empty<float>(), 3, false, 0, 3), c, 3, 1);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TooShortOperandsAreRejected()
    {
        var c = new float[4];
        Assert.Throws<ArgumentException>(() => MatrixMultiply.Multiply(new float[3], 2, new float[4], 2, c, 2, 2, 2, 2));
        Assert.Throws<ArgumentException>(() => MatrixMultiply.Multiply(new float[4], 2, new float[3], 2, c, 2, 2, 2, 2));
        Assert.Throws<ArgumentException>(() => MatrixMultiply.Multiply(new float[4], 2, new float[4], 2, new float[3], 2, 2, 2, 2));
    }

    [Fact]
    public void CallsDoNotAllocateAfterTheFirst()
    {
        float[] a = Random(1, 100 * 300), b = Random(2, 300 * 50), c = new float[100 * 50];
        var packed = PackedMatrix.Pack(b, 50, false, 300, 50);
        MatrixMultiply.Multiply(a, 300, b, 50, c, 50, 100, 50, 300);
        MatrixMultiply.Multiply(a, 300, packed, c, 50, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            MatrixMultiply.Multiply(a, 300, b, 50, c, 50, 100, 50, 300);
            MatrixMultiply.Multiply(a, 300, packed, c, 50, 100);
            MatrixMultiply.Multiply(a, 300, packed, c, 50, 1);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 9, 5)]
    [InlineData(17, 2, 33)]
    public void GenericMultiplyMatchesReferenceForDoubleAndIntegers(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                float[] af = Random(3, m * k), bf = Random(4, k * n);
                int[] ai = af.Select(v => (int)(v * 100)).ToArray(), bi = bf.Select(v => (int)(v * 100)).ToArray();
                int lda = ta ? m : k, ldb = tb ? k : n;
                var expected = new long[m * n];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        for (int p = 0; p < k; p++)
                            expected[i * n + j] += (long)(ta ? ai[p * lda + i] : ai[i * lda + p]) * (tb ? bi[j * ldb + p] : bi[p * ldb + j]);
                var actualInt = new int[m * n];
                GenericMatrixMultiply.Multiply<int>(ai, lda, ta, bi, ldb, tb, actualInt, n, m, n, k);
                Assert.Equal(expected.Select(v => (int)v), actualInt);
                var actualDouble = new double[m * n];
                GenericMatrixMultiply.Multiply<double>(ai.Select(v => (double)v).ToArray(), lda, ta, bi.Select(v => (double)v).ToArray(), ldb, tb, actualDouble, n, m, n, k);
                Assert.Equal(expected.Select(v => (double)v), actualDouble);
            }
    }

    [Fact]
    public void EpilogueScalesAndAddsBroadcastBias()
    {
        float[] y = { 1, 2, 3, 4, 5, 6 };
        GemmEpilogue.Apply<float>(y, 2, 3, 2f, new float[] { 10, 20 }, 1, 0, 0.5f); // column bias [M,1]
        Assert.Equal(new float[] { 7, 9, 11, 18, 20, 22 }, y);
        GemmEpilogue.Apply<float>(y, 2, 3, 1f, new float[] { 1, 2, 3 }, 0, 1, 1f); // row bias [N]
        Assert.Equal(new float[] { 8, 11, 14, 19, 22, 25 }, y);
        GemmEpilogue.Apply<float>(y, 2, 3, -1f, ReadOnlySpan<float>.Empty, 0, 0, 1f);
        Assert.Equal(new float[] { -8, -11, -14, -19, -22, -25 }, y);
    }
}
