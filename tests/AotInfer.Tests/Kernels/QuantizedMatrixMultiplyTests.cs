using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The int8 GEMM tiers against a plain reference computed from the raw operands (not from the packed layout), over
/// shape sweeps (every m, n in 1…17, odd and even depths, powers of two, M=1), every zero-point class (none,
/// per-tensor, per-row A, per-column B, extreme values) and every operand signedness. Results must be exact. Forcing a
/// tier is global, so every test that forces one is in the <see cref="QuantizedTierCollection"/> (run one at a time)
/// and restores the best tier.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class QuantizedMatrixMultiplyTests
{
    public static IEnumerable<object[]> TiersAndTypes() =>
        from tier in Enum.GetValues<QuantizedGemmTier>().Where(t => t <= QuantizedMatrixMultiply.BestTier)
        from types in new[] { "u8s8", "u8u8", "s8s8" }
        select new object[] { tier, types };

    static int[] RandomValues(int seed, int count, bool signed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => signed ? random.Next(-128, 128) : random.Next(0, 256)).ToArray();
    }

    static T[] As<T>(int[] values) where T : System.Numerics.IBinaryInteger<T> => values.Select(T.CreateTruncating).ToArray();

    /// <summary>Σ (a[m,k] − za[m])·(b[k,n] − zb[n]) in 64-bit, straight from the definition.</summary>
    static int[] Reference(int[] a, int[] za, int[] b, int[] zb, int m, int n, int k)
    {
        var c = new int[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (long)(a[i * k + p] - (za.Length == 0 ? 0 : za[za.Length == 1 ? 0 : i])) * (b[p * n + j] - (zb.Length == 0 ? 0 : zb[zb.Length == 1 ? 0 : j]));
                c[i * n + j] = checked((int)sum);
            }
        return c;
    }

    static void Check(QuantizedGemmTier tier, string types, int m, int n, int k, string zeroClass, bool prepacked = false, int fill = 0)
    {
        bool aSigned = types[0] == 's', bSigned = types[2] == 's';
        int[] a = fill != 0 ? Enumerable.Repeat(aSigned ? -128 : 255, m * k).ToArray() : RandomValues(m * 131 + k, m * k, aSigned);
        int[] b = fill != 0 ? Enumerable.Repeat(bSigned ? -128 : 0, k * n).ToArray() : RandomValues(n * 71 + k * 3, k * n, bSigned);
        var random = new Random(m * 1000 + n * 10 + k);
        int Zero(bool signed) => signed ? random.Next(-128, 128) : random.Next(0, 256);
        int[] za = zeroClass switch
        {
            "none" => Array.Empty<int>(),
            "tensor" => new[] { aSigned ? -3 : 128 },
            "extreme" => new[] { aSigned ? 127 : 0 },
            _ => Enumerable.Range(0, m).Select(_ => Zero(aSigned)).ToArray(),
        };
        int[] zb = zeroClass switch
        {
            "none" => Array.Empty<int>(),
            "tensor" => new[] { bSigned ? 5 : 7 },
            "extreme" => new[] { bSigned ? 127 : 255 },
            _ => Enumerable.Range(0, n).Select(_ => Zero(bSigned)).ToArray(),
        };
        int[] expected = Reference(a, za, b, zb, m, n, k);
        int[] actual = Enumerable.Repeat(int.MinValue, m * n).ToArray();
        try
        {
            QuantizedMatrixMultiply.Tier = tier;
            switch (types)
            {
                case "u8s8": Run<byte, sbyte>(a, za, b, zb, actual, m, n, k, prepacked); break;
                case "u8u8": Run<byte, byte>(a, za, b, zb, actual, m, n, k, prepacked); break;
                default: Run<sbyte, sbyte>(a, za, b, zb, actual, m, n, k, prepacked); break;
            }
        }
        finally
        {
            QuantizedMatrixMultiply.Tier = QuantizedMatrixMultiply.BestTier;
        }
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i], $"tier {tier} {types} m={m} n={n} k={k} zero points {zeroClass} prepacked={prepacked}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    static void Run<TA, TB>(int[] a, int[] za, int[] b, int[] zb, int[] c, int m, int n, int k, bool prepacked)
        where TA : System.Numerics.IBinaryInteger<TA> where TB : System.Numerics.IBinaryInteger<TB>
    {
        var packedA = new int[Math.Max(1, QuantizedMatrixMultiply.PackedALength(m, k))];
        if (prepacked)
        {
            QuantizedMatrixMultiply.Multiply<TA>(As<TA>(a), As<TA>(za), QuantizedMatrixMultiply.PackB(As<TB>(b), As<TB>(zb), k, n), c, m, n, k, packedA);
            return;
        }
        var packedB = new short[Math.Max(1, QuantizedMatrixMultiply.PackedBLength(k, n))];
        QuantizedMatrixMultiply.Multiply<TA, TB>(As<TA>(a), As<TA>(za), As<TB>(b), As<TB>(zb), c, m, n, k, packedA, packedB);
    }

    [Theory]
    [MemberData(nameof(TiersAndTypes))]
    public void EveryShapeUpTo17MatchesReference(QuantizedGemmTier tier, string types)
    {
        foreach (int k in new[] { 1, 2, 3, 7, 16, 33 })
            for (int m = 1; m <= 17; m++)
                for (int n = 1; n <= 17; n++)
                    Check(tier, types, m, n, k, (m + n) % 3 == 0 ? "none" : (m + n) % 3 == 1 ? "tensor" : "per-channel");
    }

    [Theory]
    [MemberData(nameof(TiersAndTypes))]
    public void PowersOfTwoOddSizesAndGemvMatchReference(QuantizedGemmTier tier, string types)
    {
        foreach (var (m, n, k) in new[] { (1, 64, 64), (1, 100, 257), (64, 64, 64), (4, 128, 256), (33, 65, 127), (5, 31, 1000), (16, 16, 2) })
            foreach (var zeros in new[] { "none", "tensor", "per-channel" })
            {
                Check(tier, types, m, n, k, zeros);
                Check(tier, types, m, n, k, zeros, prepacked: true);
            }
    }

    [Theory]
    [MemberData(nameof(TiersAndTypes))]
    public void ExtremeValuesAndZeroPointsDoNotSaturate(QuantizedGemmTier tier, string types)
    {
        // 255·(−128) style products at every k with the farthest zero points: a saturating int16 pair sum would show.
        foreach (var (m, n, k) in new[] { (4, 16, 512), (3, 17, 4097) })
        {
            Check(tier, types, m, n, k, "extreme", fill: 1);
            Check(tier, types, m, n, k, "extreme");
        }
    }

    [Fact]
    public void TransposedPackingMatchesRowMajor()
    {
        int k = 13, n = 19;
        sbyte[] b = RandomValues(5, k * n, true).Select(v => (sbyte)v).ToArray();
        sbyte[] transposed = new sbyte[k * n];
        for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) transposed[j * k + i] = b[i * n + j];
        sbyte[] zeros = { 3 };
        Assert.Equal(QuantizedMatrixMultiply.PackB(b, zeros, k, n), QuantizedMatrixMultiply.PackB(transposed, zeros, k, n, transposed: true));
    }
}
