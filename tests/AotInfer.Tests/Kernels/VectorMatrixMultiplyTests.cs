using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Ops.Linear;
using AotInfer.Kernels.Linear;
using AotInfer.Onnx;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The batch-1 fully-connected kernel against the scalar GEMM reference: every tier the CPU has (passed explicitly, so
/// these tests do not disturb the global tier), widths around the 16- and 64-column blocks, depths 0…130, stored and
/// transposed weights, with and without bias and activation. Both walk directions (the kernel alternates them) must
/// give the same bits.
/// </summary>
public class VectorMatrixMultiplyTests
{
    public static IEnumerable<object[]> Shapes()
    {
        int[] depths = { 0, 1, 2, 3, 5, 16, 33, 130 };
        int[] widths = { 0, 1, 2, 7, 15, 16, 17, 31, 48, 63, 64, 65, 79, 100, 128, 129, 300 };
        foreach (var tier in Enum.GetValues<GemmTier>().Where(t => t <= MatrixMultiply.BestTier))
            foreach (int k in depths)
                foreach (int n in widths)
                    yield return new object[] { tier, k, n };
    }

    static float[] Random(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReference(GemmTier tier, int k, int n)
    {
        foreach (bool transposed in new[] { false, true })
            foreach (bool withBias in new[] { false, true })
            {
                float[] x = Random(k + 1, k), b = Random(k * 7 + n, k * n), bias = withBias ? Random(n + 3, n) : Array.Empty<float>();
                int ldb = transposed ? k : n;
                var weights = new GemvWeights(GemvLayout.LayOut(new Tensor(DataType.Float, new[] { k * n }, b), ldb, transposed, k, n).As<float>(), k, n);

                var expected = new float[n];
                MatrixMultiply.Reference(x, k, false, b, Math.Max(ldb, 1), transposed, expected, Math.Max(n, 1), 1, n, k);
                for (int j = 0; j < n; j++) expected[j] = Math.Max(0, expected[j] + (withBias ? bias[j] : 0));

                var first = Enumerable.Repeat(float.NaN, n).ToArray();
                var second = Enumerable.Repeat(float.NaN, n).ToArray();
                var relu = new FusedActivation(ActivationKind.Relu);
                VectorMatrixMultiply.Multiply(x, weights, bias, relu, first, tier);
                VectorMatrixMultiply.Multiply(x, weights, bias, relu, second, tier);

                string what = $"{tier} k={k} n={n} transposed={transposed} bias={withBias}";
                double tolerance = 1e-5 * Math.Max(1, k);
                for (int j = 0; j < n; j++)
                {
                    Assert.True(Math.Abs(expected[j] - first[j]) <= tolerance, $"{what}: y[{j}] is {first[j]}, expected {expected[j]}");
                    Assert.True(BitConverter.SingleToInt32Bits(first[j]) == BitConverter.SingleToInt32Bits(second[j]), $"{what}: y[{j}] differs between walk directions");
                }
            }
    }

    public static IEnumerable<object[]> SparseInputShapes()
    {
        // Above the kernel's minimum of 8192 weights, so zero inputs are skipped; 5000 and 9000 rows are gathered in
        // runs of 4096; 300 columns mix wide blocks, a full panel and a padded one.
        (int K, int N)[] shapes = { (784, 300), (300, 100), (130, 64), (5000, 16), (9000, 33), (4097, 17), (4100, 200) };
        foreach (var tier in Enum.GetValues<GemmTier>().Where(t => t <= MatrixMultiply.BestTier))
            foreach (var (k, n) in shapes)
                foreach (double density in new[] { 0.0, 0.05, 0.34, 0.5, 0.59, 0.9 })
                    yield return new object[] { tier, k, n, density };
    }

    /// <summary>
    /// Inputs with zeros (as after a ReLU or an image's background): the rows of zero inputs are skipped where few
    /// enough are non-zero, and the result must still be the product, the same bits in both walk directions.
    /// </summary>
    [Theory]
    [MemberData(nameof(SparseInputShapes))]
    public void ZeroInputsMatchReference(GemmTier tier, int k, int n, double density)
    {
        var random = new Random(k * 31 + n);
        float[] x = Enumerable.Range(0, k).Select(_ => random.NextDouble() < density ? (float)(random.NextDouble() * 2 - 1) : 0f).ToArray();
        float[] b = Random(k + n, k * n), bias = Random(n, n);
        var weights = new GemvWeights(GemvLayout.LayOut(new Tensor(DataType.Float, new[] { k * n }, b), n, false, k, n).As<float>(), k, n);
        var expected = new float[n];
        MatrixMultiply.Reference(x, k, false, b, n, false, expected, n, 1, n, k);
        for (int j = 0; j < n; j++) expected[j] += bias[j];

        var none = new FusedActivation(ActivationKind.None);
        float[] first = new float[n], second = new float[n];
        VectorMatrixMultiply.Multiply(x, weights, bias, none, first, tier);
        VectorMatrixMultiply.Multiply(x, weights, bias, none, second, tier);
        for (int j = 0; j < n; j++)
        {
            Assert.True(Math.Abs(expected[j] - first[j]) <= 1e-5 * k, $"{tier} {k}×{n} density {density}: y[{j}] is {first[j]}, expected {expected[j]}");
            Assert.Equal(BitConverter.SingleToInt32Bits(first[j]), BitConverter.SingleToInt32Bits(second[j]));
        }
    }

    /// <summary>A NaN input is not zero: its row is read and the outputs it touches are NaN, as in the dense product.</summary>
    [Fact]
    public void NaNInputIsNotSkipped()
    {
        const int k = 784, n = 64;
        float[] x = new float[k];
        x[3] = 1f;
        x[500] = float.NaN;
        var weights = new GemvWeights(GemvLayout.LayOut(new Tensor(DataType.Float, new[] { k * n }, Random(5, k * n)), n, false, k, n).As<float>(), k, n);
        var y = new float[n];
        VectorMatrixMultiply.Multiply(x, weights, ReadOnlySpan<float>.Empty, new FusedActivation(ActivationKind.None), y);
        Assert.All(y, v => Assert.True(float.IsNaN(v)));
    }

    /// <summary>
    /// With an infinite weight, 0·∞ is NaN, so zero inputs may not be skipped: the product must match the dense
    /// definition (NaN in the columns of that row) however many inputs are zero.
    /// </summary>
    [Fact]
    public void InfiniteWeightsKeepZeroRows()
    {
        const int k = 784, n = 64;
        float[] b = Random(6, k * n);
        b[10 * n + 7] = float.PositiveInfinity;
        var weights = new GemvWeights(GemvLayout.LayOut(new Tensor(DataType.Float, new[] { k * n }, b), n, false, k, n).As<float>(), k, n);
        Assert.False(weights.AllFinite);
        float[] x = new float[k];
        x[3] = 1f;
        var y = new float[n];
        VectorMatrixMultiply.Multiply(x, weights, ReadOnlySpan<float>.Empty, new FusedActivation(ActivationKind.None), y);
        for (int j = 0; j < n; j++) Assert.Equal(j == 7, float.IsNaN(y[j]));
    }

    /// <summary>
    /// <c>inspect</c> names the skipping rule from the compiler's copy of the kernel's constants: both sides of the
    /// weight-size boundary, and the kernel's share.
    /// </summary>
    [Theory]
    [InlineData(0, true)]
    [InlineData(-1, false)]
    public void InspectNamesTheSkippingRuleAsTheKernelAppliesIt(int rowsPastBoundary, bool skips)
    {
        const int n = 64;
        int k = (int)(VectorMatrixMultiply.MinSkippingWeights / n) + rowsPastBoundary;
        byte[] model = new AotInfer.Tests.Support.OnnxModelBuilder()
            .Input("x", DataType.Float, 1, k)
            .Initializer("w", Random(9, k * n), k, n)
            .Node("MatMul", new[] { "x", "w" }, new[] { "y" })
            .Output("y", DataType.Float)
            .ToBytes();
        var node = Assert.Single(AotInfer.Tests.Compiler.FusionPassTests.CompiledGraph(model).Nodes);
        string expected = $"rows of zero inputs skipped when at most {VectorMatrixMultiply.MaxKeptPercent} % are non-zero";
        Assert.Equal(skips, ((string)node.Annotations["kernel"]).Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void WrongLengthsAreArgumentErrors()
    {
        var weights = new GemvWeights(new float[GemvWeights.PackedLength(4, 20)], 4, 20);
        var none = new FusedActivation(ActivationKind.None);
        Assert.Throws<ArgumentException>(() => VectorMatrixMultiply.Multiply(new float[3], weights, ReadOnlySpan<float>.Empty, none, new float[20]));
        Assert.Throws<ArgumentException>(() => VectorMatrixMultiply.Multiply(new float[4], weights, ReadOnlySpan<float>.Empty, none, new float[19]));
        Assert.Throws<ArgumentException>(() => VectorMatrixMultiply.Multiply(new float[4], weights, new float[5], none, new float[20]));
        var e = Assert.Throws<ArgumentException>(() => new GemvWeights(new float[80], 4, 20));
        Assert.Contains("128", e.Message);
    }
}
