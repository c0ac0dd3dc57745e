using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Kernels.Linear;
using AotInfer.Kernels.Sparse;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The sparse product's tiers against the dense scalar reference: every block height, shape sweeps with odd sizes,
/// M = 1 and small M, row strides, several sparsities. Forcing a tier is global, so every test that forces one lives
/// in this class and restores the best tier.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class SparseMatrixMultiplyTests
{
    public static IEnumerable<object[]> TiersAndHeights() =>
        from tier in new[] { GemmTier.Scalar, SparseMatrixMultiply.BestTier }.Distinct()
        from height in new[] { 1, 4, 8 }
        select new object[] { tier, height };

    /// <summary>Builds the group-major arrays the compiler emits from a dense k×n matrix.</summary>
    static BlockSparseMatrix Compress(float[] b, int k, int n, int height)
    {
        int groups = (n + height - 1) / height;
        var start = new List<int> { 0 };
        var columns = new List<ushort>();
        var values = new List<float>();
        for (int g = 0; g < groups; g++)
        {
            for (int p = 0; p < k; p++)
            {
                var lanes = Enumerable.Range(g * height, height).Select(j => j < n ? b[p * n + j] : 0f).ToArray();
                if (lanes.All(v => v == 0)) continue;
                columns.Add((ushort)p);
                values.AddRange(lanes);
            }
            start.Add(columns.Count);
        }
        return BlockSparseMatrix.Create(k, n, height, start.ToArray(), columns.ToArray(), values.ToArray());
    }

    [Theory]
    [MemberData(nameof(TiersAndHeights))]
    public void ShapeSweepMatchesReference(GemmTier tier, int height)
    {
        var random = new Random(height);
        try
        {
            SparseMatrixMultiply.Tier = tier;
            foreach (int m in new[] { 1, 2, 5 })
                foreach (int n in new[] { 1, 3, 4, 7, 8, 9, 16, 17, 33 })
                    foreach (int k in new[] { 1, 2, 15, 16, 17, 64, 100 })
                        foreach (double sparsity in new[] { 0, 0.5, 0.9, 1 })
                        {
                            int lda = k + 2, ldc = n + 3;
                            var a = Enumerable.Range(0, m * lda).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
                            var b = Enumerable.Range(0, k * n).Select(_ => random.NextDouble() < sparsity ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
                            var expected = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
                            var actual = Enumerable.Repeat(float.NaN, m * ldc).ToArray();
                            MatrixMultiply.Reference(a, lda, false, b, n, false, expected, ldc, m, n, k);
                            SparseMatrixMultiply.Multiply(a, lda, Compress(b, k, n, height), actual, ldc, m);
                            for (int i = 0; i < m; i++)
                                for (int j = 0; j < n; j++)
                                    Assert.True(Math.Abs(expected[i * ldc + j] - actual[i * ldc + j]) <= 1e-5 * Math.Max(1, k),
                                        $"{tier} h={height} m={m} n={n} k={k} sparsity={sparsity}: C[{i},{j}] is {actual[i * ldc + j]}, expected {expected[i * ldc + j]}");
                            // Padding between rows of C is never written.
                            for (int i = 0; i < m; i++)
                                for (int j = n; j < ldc; j++) Assert.True(float.IsNaN(actual[i * ldc + j]), $"C[{i},{j}] past n was written");
                        }
        }
        finally
        {
            SparseMatrixMultiply.Tier = SparseMatrixMultiply.BestTier;
        }
    }

    [Fact]
    public void InvalidArraysAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockSparseMatrix.Create(4, 4, 3, new[] { 0, 0 }, Array.Empty<ushort>(), Array.Empty<float>()));
        Assert.Throws<ArgumentException>(() => BlockSparseMatrix.Create(4, 2, 1, new[] { 0, 1, 1 }, new ushort[] { 4 }, new[] { 1f }));
        Assert.Throws<ArgumentException>(() => BlockSparseMatrix.Create(4, 2, 1, new[] { 0, 1 }, new ushort[] { 0 }, new[] { 1f }));
        Assert.Throws<ArgumentException>(() => BlockSparseMatrix.Create(4, 8, 8, new[] { 0, 1 }, new ushort[] { 0 }, new[] { 1f }));
        var matrix = BlockSparseMatrix.Create(4, 2, 1, new[] { 0, 1, 1 }, new ushort[] { 3 }, new[] { 1f });
        Assert.Throws<ArgumentException>(() => SparseMatrixMultiply.Multiply(new float[3], 4, matrix, new float[2], 2, 1));
    }
}
