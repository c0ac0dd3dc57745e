using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="Int8Gemm"/> (both loop shapes) on every tier this machine has, forced in turn, against Σ (a − za)·(w − zw)
/// + bias computed in 64-bit straight from the raw operands: shape sweeps (M, N in 1…17 and K in 1…17 plus powers of two
/// and odd sizes, M = 1), every zero-point class (0, 128 / −128, random, per-channel weights), both product schemes
/// (weights within ±64 and within ±127), u8 and s8 on both sides, and extreme operands (all 255 or all −128 times
/// weights all ±127 at K = 4097) that a saturating int16 pair sum would get wrong. Results must be exact. Every M = 1
/// case also runs the GEMV (<see cref="Int8VectorMatrixMultiply"/>). On a CPU with AVX-VNNI the column GEMM runs both with
/// and without <c>vpdpbusd</c>.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8GemmTests
{
    public static IEnumerable<object[]> Tiers() =>
        Enum.GetValues<QuantizedGemmTier>().Where(t => t <= QuantizedMatrixMultiply.BestTier).Select(t => new object[] { t });

    /// <summary>One case: raw activations a (m×k), weights w (rows×k, or k×rows when transposed), zero points, bias.</summary>
    sealed record Case(int M, int Rows, int K, bool ActivationsSigned, bool WeightsSigned, int[] A, int Za, int[] W, int[] Zw, int[] Bias, bool Transposed);

    static Case Make(int seed, int m, int rows, int k, bool aSigned, bool wSigned, int weightRange, string zeroClass, bool transposed = false, int fill = 0, int edgeEvery = 0)
    {
        var random = new Random(seed);
        int lowA = aSigned ? -128 : 0, lowW = wSigned ? -128 : 0;
        int za = zeroClass switch { "zero" => 0, "middle" => aSigned ? -128 : 128, _ => random.Next(lowA, lowA + 256) };
        int[] zw = zeroClass switch
        {
            "zero" => Array.Empty<int>(),
            "middle" => new[] { wSigned ? 0 : 128 },
            "random" => new[] { random.Next(lowW, lowW + 256) },
            _ => Enumerable.Range(0, rows).Select(_ => random.Next(lowW, lowW + 256)).ToArray(),
        };
        int Zw(int r) => zw.Length == 0 ? 0 : zw[zw.Length == 1 ? 0 : r];
        int[] a = fill != 0 ? Enumerable.Repeat(aSigned ? -128 : 255, m * k).ToArray() : Enumerable.Range(0, m * k).Select(_ => random.Next(lowA, lowA + 256)).ToArray();
        var w = new int[rows * k];
        for (int r = 0; r < rows; r++)
            for (int kk = 0; kk < k; kk++)
            {
                // Centred values within ±weightRange, kept inside the type (clamping only moves them towards the zero point).
                int centred = fill != 0 ? fill * weightRange : random.Next(-weightRange, weightRange + 1);
                // Every edgeEvery-th weight 128 away from its zero point (stored as ±127 plus a fixup), where the type allows.
                if (edgeEvery != 0 && (r * k + kk) % edgeEvery == 0) centred = Zw(r) - 128 >= lowW ? -128 : Zw(r) + 128 <= lowW + 255 ? 128 : centred;
                w[transposed ? kk * rows + r : r * k + kk] = Math.Clamp(Zw(r) + centred, lowW, lowW + 255);
            }
        int[] bias = random.Next(2) == 0 ? Array.Empty<int>() : Enumerable.Range(0, rows).Select(_ => random.Next(-100000, 100000)).ToArray();
        return new Case(m, rows, k, aSigned, wSigned, a, za, w, zw, bias, transposed);
    }

    /// <summary>C[i, r] = Σ_k (a[i, k] − za)·(w[r, k] − zw[r]) + bias[r], in 64-bit.</summary>
    static int[] Reference(Case t)
    {
        var c = new int[t.M * t.Rows];
        for (int i = 0; i < t.M; i++)
            for (int r = 0; r < t.Rows; r++)
            {
                long sum = t.Bias.Length == 0 ? 0 : t.Bias[r];
                int zw = t.Zw.Length == 0 ? 0 : t.Zw[t.Zw.Length == 1 ? 0 : r];
                for (int k = 0; k < t.K; k++)
                    sum += (long)(t.A[i * t.K + k] - t.Za) * (t.W[t.Transposed ? k * t.Rows + r : r * t.K + k] - zw);
                c[i * t.Rows + r] = checked((int)sum);
            }
        return c;
    }

    static T[] As<T>(int[] values) where T : IBinaryInteger<T> => values.Select(T.CreateTruncating).ToArray();

    static Int8PackedWeights Pack(Case t) => t.WeightsSigned
        ? Int8PackedWeights.Pack(As<sbyte>(t.W), As<sbyte>(t.Zw), t.Rows, t.K, t.Transposed)
        : Int8PackedWeights.Pack(As<byte>(t.W), As<byte>(t.Zw), t.Rows, t.K, t.Transposed);

    /// <summary>Through <see cref="Int8Gemm.Multiply{T}"/> (activation rows against weight rows).</summary>
    static int[] RunRows(Case t)
    {
        var weights = Pack(t);
        var c = Enumerable.Repeat(int.MinValue, t.M * t.Rows).ToArray();
        var packed = new sbyte[Int8Gemm.PackedRowsLength(t.M, t.K)];
        var offsets = new int[t.Rows];
        if (t.ActivationsSigned) Int8Gemm.Multiply<sbyte>(As<sbyte>(t.A), new[] { (sbyte)t.Za }, weights, t.Bias, c, t.M, packed, offsets);
        else Int8Gemm.Multiply<byte>(As<byte>(t.A), new[] { (byte)t.Za }, weights, t.Bias, c, t.M, packed, offsets);
        return c;
    }

    /// <summary>
    /// Through <see cref="Int8Gemm.PackColumns{T}"/> + <see cref="Int8Gemm.MultiplyColumns"/> (weight rows against
    /// columns, the convolution shape): the columns are Aᵀ and the result is transposed back.
    /// </summary>
    static int[] RunColumns(Case t)
    {
        var weights = Pack(t);
        int n = t.M, k = t.K;
        var columns = new int[k * n];
        for (int i = 0; i < n; i++) for (int kk = 0; kk < k; kk++) columns[kk * n + i] = t.A[i * k + kk];
        var packed = new sbyte[Int8Gemm.PackedColumnsLength(k, n)];
        var offsets = new int[t.Rows];
        int zero;
        if (t.ActivationsSigned)
        {
            Int8Gemm.PackColumns<sbyte>(As<sbyte>(columns), k, n, weights.Scheme, packed);
            zero = Int8Gemm.DomainZeroPoint<sbyte>(new[] { (sbyte)t.Za }, weights.Scheme);
        }
        else
        {
            Int8Gemm.PackColumns<byte>(As<byte>(columns), k, n, weights.Scheme, packed);
            zero = Int8Gemm.DomainZeroPoint<byte>(new[] { (byte)t.Za }, weights.Scheme);
        }
        weights.Offsets(zero, t.Bias, 0, offsets);
        var transposed = Enumerable.Repeat(int.MinValue, t.Rows * n).ToArray();
        Int8Gemm.MultiplyColumns(weights, 0, t.Rows, packed, n, offsets, transposed, n);
        if (t.ActivationsSigned) Int8Gemm.AddFixups<sbyte>(weights, 0, t.Rows, As<sbyte>(columns), n, new[] { (sbyte)t.Za }, transposed, n);
        else Int8Gemm.AddFixups<byte>(weights, 0, t.Rows, As<byte>(columns), n, new[] { (byte)t.Za }, transposed, n);
        var c = new int[n * t.Rows];
        for (int r = 0; r < t.Rows; r++) for (int i = 0; i < n; i++) c[i * t.Rows + r] = transposed[r * n + i];
        return c;
    }

    /// <summary>Through <see cref="Int8VectorMatrixMultiply.Multiply{T}"/> (one activation row, panel-packed weights): M = 1 only.</summary>
    static int[] RunVector(Case t)
    {
        var weights = t.WeightsSigned
            ? Int8GemvWeights.Pack(As<sbyte>(t.W), As<sbyte>(t.Zw), t.Rows, t.K, t.Transposed)
            : Int8GemvWeights.Pack(As<byte>(t.W), As<byte>(t.Zw), t.Rows, t.K, t.Transposed);
        // One spare element after C must stay untouched: the last panel's padding rows are never stored.
        var c = Enumerable.Repeat(int.MinValue, t.Rows + 1).ToArray();
        var packed = new sbyte[Int8VectorMatrixMultiply.PackedActivationsLength(t.K)];
        if (t.ActivationsSigned) Int8VectorMatrixMultiply.Multiply<sbyte>(As<sbyte>(t.A), new[] { (sbyte)t.Za }, weights, t.Bias, c.AsSpan(0, t.Rows), packed);
        else Int8VectorMatrixMultiply.Multiply<byte>(As<byte>(t.A), new[] { (byte)t.Za }, weights, t.Bias, c.AsSpan(0, t.Rows), packed);
        Assert.Equal(int.MinValue, c[t.Rows]);
        return c[..t.Rows];
    }

    static void Check(QuantizedGemmTier tier, Case t, string label)
    {
        int[] expected = Reference(t);
        try
        {
            QuantizedMatrixMultiply.Tier = tier;
            var shapes = new List<(string, int[])> { ("rows", RunRows(t)), ("columns", RunColumns(t)) };
            // On a CPU with AVX-VNNI the column GEMM runs vpdpbusd by default: the vpmaddubsw kernels of the tier too.
            if (tier >= QuantizedGemmTier.Avx2 && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                Int8Gemm.AllowVnni = false;
                try { shapes.Add(("columns without VNNI", RunColumns(t))); }
                finally { Int8Gemm.AllowVnni = true; }
            }
            if (t.M == 1) shapes.Add(("vector", RunVector(t)));
            foreach (var (shape, actual) in shapes)
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(expected[i] == actual[i], $"tier {tier} {shape} {label} m={t.M} rows={t.Rows} k={t.K}: element {i} is {actual[i]}, expected {expected[i]}");
        }
        finally
        {
            QuantizedMatrixMultiply.Tier = QuantizedMatrixMultiply.BestTier;
        }
    }

    static readonly (bool A, bool W, string Name)[] Signedness = { (false, true, "u8s8"), (true, true, "s8s8"), (false, false, "u8u8"), (true, false, "s8u8") };

    [Theory]
    [MemberData(nameof(Tiers))]
    public void EveryShapeUpTo17MatchesReference(QuantizedGemmTier tier)
    {
        string[] zeroClasses = { "zero", "middle", "random", "per-channel" };
        int seed = 0;
        foreach (int k in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17 })
            for (int m = 1; m <= 17; m++)
                for (int rows = 1; rows <= 17; rows += m % 2 == 0 ? 1 : 3)
                {
                    seed++;
                    var (aSigned, wSigned, name) = Signedness[seed % Signedness.Length];
                    int range = seed % 2 == 0 ? 64 : 127;
                    string zeros = zeroClasses[seed / 2 % zeroClasses.Length];
                    Check(tier, Make(seed, m, rows, k, aSigned, wSigned, range, zeros, transposed: seed % 3 == 0), $"{name} range ±{range} zero points {zeros}");
                }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void VectorTimesMatrixEveryWidthAndDepthMatchesReference(QuantizedGemmTier tier)
    {
        // M = 1, the batch-1 dense layer the GEMV serves: every output count 1…33 (partial panels and vector columns on
        // every tier) against depths 1…17 and some long ones, every zero-point class, both schemes, all signedness.
        string[] zeroClasses = { "zero", "middle", "random", "per-channel" };
        int seed = 20000;
        foreach (int k in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16, 17, 64, 255, 784 })
            for (int rows = 1; rows <= 33; rows++)
            {
                seed++;
                var (aSigned, wSigned, name) = Signedness[seed % Signedness.Length];
                int range = seed % 2 == 0 ? 64 : 127;
                string zeros = zeroClasses[seed / 2 % zeroClasses.Length];
                Check(tier, Make(seed, 1, rows, k, aSigned, wSigned, range, zeros, transposed: seed % 3 == 0), $"{name} range ±{range} zero points {zeros}");
            }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void PowersOfTwoOddSizesAndGemvMatchReference(QuantizedGemmTier tier)
    {
        int seed = 1000;
        foreach (var (m, rows, k) in new[] { (1, 64, 64), (1, 10, 784), (1, 100, 257), (64, 64, 64), (4, 128, 256), (33, 65, 127), (5, 31, 1000), (16, 16, 2), (1024, 16, 27), (64, 64, 576) })
            foreach (var (aSigned, wSigned, name) in Signedness)
                foreach (int range in new[] { 64, 127 })
                    foreach (var zeros in new[] { "zero", "middle", "per-channel" })
                        Check(tier, Make(++seed, m, rows, k, aSigned, wSigned, range, zeros), $"{name} range ±{range} zero points {zeros}");
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void ExtremeOperandsDoNotSaturate(QuantizedGemmTier tier)
    {
        // All 255 (u8) or all −128 (s8) activations times weights all at the edge of each scheme (±64 and ±127): every
        // int16 pair sum sits at the scheme's bound, and K = 4097 also exercises the odd tail.
        foreach (var (aSigned, wSigned, name) in Signedness)
            foreach (int range in new[] { 64, 127 })
                foreach (int fill in new[] { 1, -1 })
                    foreach (var (m, rows, k) in new[] { (3, 17, 4097), (1, 5, 64), (1, 37, 4097) })
                        Check(tier, Make(7, m, rows, k, aSigned, wSigned, range, "zero", fill: fill), $"{name} extreme a × w = {fill * range}");
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void WeightsAt128FromTheirZeroPointAreFixedUpExactly(QuantizedGemmTier tier)
    {
        // s8 weights of −128 with zero point 0 (and u8 weights of 0 with zero point 128...), one in 16 or 20, with extreme
        // and random activations.
        int seed = 5000;
        foreach (var (aSigned, wSigned, name) in Signedness)
            foreach (var zeros in new[] { "zero", "middle", "per-channel" })
                foreach (var (m, rows, k, every) in new[] { (1, 10, 64, 16), (3, 17, 33, 20), (37, 16, 144, 16), (2, 5, 4097, 17) })
                {
                    Check(tier, Make(++seed, m, rows, k, aSigned, wSigned, 127, zeros, transposed: seed % 2 == 0, edgeEvery: every), $"{name} zero points {zeros}, ±128 every {every}");
                    Check(tier, Make(++seed, m, rows, k, aSigned, wSigned, 127, zeros, fill: 1, edgeEvery: every), $"{name} zero points {zeros}, extreme, ±128 every {every}");
                }
    }

    [Fact]
    public void SchemeFollowsTheWeightRangeAndWiderWeightsAreRejected()
    {
        sbyte[] Weights(int value) => new sbyte[] { 1, (sbyte)value, -3, 0 };
        Assert.Equal(Int8ProductScheme.SevenBitWeights, Int8PackedWeights.Pack(Weights(-64), Array.Empty<sbyte>(), 1, 4, false).Scheme);
        Assert.Equal(Int8ProductScheme.SignTransfer, Int8PackedWeights.Pack(Weights(65), Array.Empty<sbyte>(), 1, 4, false).Scheme);
        Assert.Equal(Int8ProductScheme.SignTransfer, Int8PackedWeights.Pack(Weights(-127), Array.Empty<sbyte>(), 1, 4, false).Scheme);
        var error = Assert.Throws<ArgumentException>(() => Int8PackedWeights.Pack(Weights(-128), Array.Empty<sbyte>(), 1, 4, false));
        Assert.Contains("128", error.Message);
        // u8 weights centred on their zero point: 0 − 128 = −128 does not fit, nor does 255 − 127 = 128 with zero point 127.
        Assert.Throws<ArgumentException>(() => Int8PackedWeights.Pack(new byte[] { 0, 255 }, new byte[] { 128 }, 1, 2, false));
        Assert.Equal((128, 1), Int8PackedWeights.CentredRange<byte>(new byte[] { 0, 255 }, new byte[] { 127 }, 1, 2, false));
        // One ±128 in 16 weights is fixed up; a weight 129 away never fits.
        var sixteen = new sbyte[16];
        sixteen[3] = -128;
        Assert.Equal(Int8ProductScheme.SignTransfer, Int8PackedWeights.Pack(sixteen, Array.Empty<sbyte>(), 1, 16, false).Scheme);
        Assert.Throws<ArgumentException>(() => Int8PackedWeights.Pack(new byte[] { 0, 1, 2, 3 }, new byte[] { 129 }, 1, 4, false));
    }
}
