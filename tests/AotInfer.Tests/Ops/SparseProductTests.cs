using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Cli.Check;
using AotInfer.Compiler;
using AotInfer.Compiler.Ops.Sparse;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>
/// Gemm, MatMul and Conv with pruned constant weights, compiled with each sparse layout forced (and auto), against ONNX
/// Runtime: several sparsities (0 %, 50 %, 90 %, 99 %, all zero), whole zero rows and columns, block patterns and odd
/// sizes. Each test also checks from the generated source that the sparse kernel really ran.
/// </summary>
public class SparseProductTests
{
    static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    /// <summary>Random weights with a fixed fraction of them zeroed at random positions.</summary>
    static float[] Pruned(int seed, int count, double sparsity)
    {
        var w = Differential.RandomFloats(seed, count);
        var random = new Random(seed + 1);
        foreach (int i in Enumerable.Range(0, count).OrderBy(_ => random.Next()).Take((int)Math.Round(sparsity * count))) w[i] = 0;
        return w;
    }

    /// <summary>Compiles with <paramref name="mode"/>, runs on the inputs and compares with ONNX Runtime; returns the generated source.</summary>
    static string AssertAgrees(byte[] model, SparseMode mode, params (int[] Shape, Array Data)[] inputs)
    {
        var source = ModelCompiler.Compile(model, new CompileOptions { Sparse = mode }).Source!;
        var expected = Differential.RunOnnxRuntime(model, inputs);
        var compiled = Differential.CompileModel(model, configure: o => o.Sparse = mode);
        var actual = compiled.Info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
        compiled.Run(inputs.Select(i => i.Data).ToArray(), actual);
        var comparer = new OutputComparer(1e-4, 1e-5, 0);
        for (int i = 0; i < expected.Length; i++)
        {
            string? problem = comparer.Compare(actual[i], expected[i], $"output {i}");
            Assert.True(problem is null, $"{mode}: {problem}");
        }
        return source;
    }

    static byte[] Gemm(int m, int k, int n, float[] weights, bool transB, bool bias, string activation = "")
    {
        var builder = new OnnxModelBuilder(13).Input("a", DataType.Float, m, k)
            .Initializer("w", weights, transB ? new[] { n, k } : new[] { k, n });
        var inputs = new List<string> { "a", "w" };
        if (bias) { builder.Initializer("c", Differential.RandomFloats(9, n), n); inputs.Add("c"); }
        string output = activation.Length > 0 ? "g" : "y";
        builder.Node("Gemm", inputs.ToArray(), new[] { output }, ("transB", transB ? 1L : 0L), ("alpha", 0.5f));
        if (activation.Length > 0) builder.Node(activation, new[] { "g" }, new[] { "y" });
        return builder.Output("y", DataType.Float).ToBytes();
    }

    public static TheoryData<SparseMode, double> LayoutsAndSparsities()
    {
        var data = new TheoryData<SparseMode, double>();
        foreach (var mode in new[] { SparseMode.Rows, SparseMode.Blocks4x1, SparseMode.Blocks8x1, SparseMode.Bands })
            foreach (double sparsity in new[] { 0, 0.5, 0.9, 0.99, 1 })
                data.Add(mode, sparsity);
        return data;
    }

    /// <summary>Odd sizes (n = 13 leaves a partial block of 4 and of 8), batch 1 and small M, bias and a fused Relu.</summary>
    [Theory]
    [MemberData(nameof(LayoutsAndSparsities))]
    public void GemmWithPrunedWeightsMatchesOnnxRuntime(SparseMode mode, double sparsity)
    {
        foreach (var (m, k, n, transB) in new[] { (1, 37, 13, true), (3, 64, 21, false), (1, 300, 100, true) })
        {
            var model = Gemm(m, k, n, Pruned(k * n, k * n, sparsity), transB, bias: true, activation: "Relu");
            string source = AssertAgrees(model, mode, (new[] { m, k }, Differential.RandomFloats(2, m * k)));
            AssertUsesLayout(source, mode, k, n);
        }
    }

    /// <summary>The generated source builds <paramref name="mode"/>'s layout and calls its kernel.</summary>
    static void AssertUsesLayout(string source, SparseMode mode, int k, int n)
    {
        if (mode == SparseMode.Bands)
        {
            Assert.Contains("BandSparseMultiply.Multiply", source);
            Assert.Contains($"BandSparseMatrix.Create({k}, {n},", source);
            return;
        }
        Assert.Contains("SparseMatrixMultiply.Multiply", source);
        int height = mode switch { SparseMode.Rows => 1, SparseMode.Blocks4x1 => 4, _ => 8 };
        Assert.Contains($"BlockSparseMatrix.Create({k}, {n}, {height},", source);
    }

    /// <summary>
    /// alpha = 1 with a per-output bias and a fused activation: the band kernel applies them in the same call (no
    /// epilogue pass follows), at batch 1 and for several rows.
    /// </summary>
    [Theory]
    [InlineData(1, "Relu")]
    [InlineData(4, "Relu")]
    [InlineData(1, "Sigmoid")]
    [InlineData(2, "")]
    public void BandsApplyBiasAndActivationInTheCall(int m, string activation)
    {
        int k = 100, n = 37;
        var builder = new OnnxModelBuilder(13).Input("a", DataType.Float, m, k)
            .Initializer("w", Pruned(5, k * n, 0.9), n, k)
            .Initializer("c", Differential.RandomFloats(9, n), n);
        string output = activation.Length > 0 ? "g" : "y";
        builder.Node("Gemm", new[] { "a", "w", "c" }, new[] { output }, ("transB", 1L));
        if (activation.Length > 0) builder.Node(activation, new[] { "g" }, new[] { "y" });
        var model = builder.Output("y", DataType.Float).ToBytes();
        string source = AssertAgrees(model, SparseMode.Bands, (new[] { m, k }, Differential.RandomFloats(2, m * k)));
        AssertUsesLayout(source, SparseMode.Bands, k, n);
        Assert.DoesNotContain("ApplyRows", source);
        Assert.DoesNotContain("GemmEpilogue", source);
    }

    /// <summary>Whole outputs (rows of the stored transB weights) and whole inputs (columns) pruned away.</summary>
    [Theory]
    [InlineData(SparseMode.Rows)]
    [InlineData(SparseMode.Blocks4x1)]
    [InlineData(SparseMode.Blocks8x1)]
    [InlineData(SparseMode.Bands)]
    public void ZeroRowsAndColumnsMatchOnnxRuntime(SparseMode mode)
    {
        int m = 2, k = 45, n = 27;
        var w = Differential.RandomFloats(4, k * n); // stored n×k
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                if (j % 3 == 0 || p % 4 == 1 || j >= 20) w[j * k + p] = 0;
        string source = AssertAgrees(Gemm(m, k, n, w, transB: true, bias: false), mode, (new[] { m, k }, Differential.RandomFloats(5, m * k)));
        AssertUsesLayout(source, mode, k, n);
    }

    /// <summary>MatMul folds A's batch dimensions into M; the sparse product covers them all.</summary>
    [Theory]
    [InlineData(SparseMode.Rows)]
    [InlineData(SparseMode.Blocks8x1)]
    [InlineData(SparseMode.Bands)]
    public void MatMulWithBatchedInputMatchesOnnxRuntime(SparseMode mode)
    {
        int k = 33, n = 19;
        var model = new OnnxModelBuilder(13).Input("a", DataType.Float, 2, 3, k)
            .Initializer("w", Pruned(3, k * n, 0.8), k, n)
            .Node("MatMul", new[] { "a", "w" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        string source = AssertAgrees(model, mode, (new[] { 2, 3, k }, Differential.RandomFloats(6, 2 * 3 * k)));
        AssertUsesLayout(source, mode, k, n);
    }

    /// <summary>The cost model: dense random weights stay dense, pruned ones go sparse, 8×1 block pruning picks 8×1 blocks.</summary>
    [Fact]
    public void AutoModeChoosesByPattern()
    {
        int k = 256, n = 128;
        var dense = Differential.RandomFloats(1, k * n);
        var unstructured = Pruned(2, k * n, 0.95);
        var blocks = Differential.RandomFloats(3, k * n); // stored n×k: zero whole 8-output blocks per k
        var random = new Random(4);
        for (int g = 0; g < n / 8; g++)
            for (int p = 0; p < k; p++)
                if (random.NextDouble() < 0.9)
                    for (int lane = 0; lane < 8; lane++) blocks[(g * 8 + lane) * k + p] = 0;

        SparseDecision Decide(float[] w, SparseMode mode = SparseMode.Auto)
        {
            var result = ModelCompiler.Compile(Gemm(1, k, n, w, transB: true, bias: false), new CompileOptions { Sparse = mode });
            Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
            return (SparseDecision)result.Graph!.Nodes.Single(x => x.OpType == "Gemm").Annotations[SparseDecision.Key];
        }
        Assert.Equal(SparseFormat.Dense, Decide(dense).Format);
        Assert.Equal(SparseFormat.Bands, Decide(unstructured).Format);
        Assert.InRange(Decide(unstructured).Sparsity, 0.94, 0.96);
        Assert.Equal(SparseFormat.Blocks8x1, Decide(blocks).Format);
        Assert.Equal(SparseFormat.Dense, Decide(unstructured, SparseMode.Dense).Format);
        Assert.NotEqual(SparseFormat.Dense, Decide(dense, SparseMode.Sparse).Format);
    }

    /// <summary>
    /// Outputs whose non-zeros share bands, interleaved with outputs that have none (the natural order pairs each busy
    /// output with idle ones): the build-time lane search groups the busy outputs, the generated code carries that
    /// order, the predicted cost counts its steps, and the product still matches ONNX Runtime.
    /// </summary>
    [Fact]
    public void BandLaneSearchGroupsOutputsAndMatchesOnnxRuntime()
    {
        int k = 256, n = 64;
        var w = Differential.RandomFloats(12, k * n); // stored n×k
        var random = new Random(13);
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                if (j % 4 != 0 || random.NextDouble() < 0.75) w[j * k + p] = 0;
        var model = Gemm(1, k, n, w, transB: true, bias: true, activation: "Relu");
        var result = ModelCompiler.Compile(model, new CompileOptions { Sparse = SparseMode.Bands });
        var decision = (SparseDecision)result.Graph!.Nodes.Single(x => x.OpType == "Gemm").Annotations[SparseDecision.Key];
        Assert.Equal(n, decision.BandOutputOfSlot.Length);
        Assert.Equal(Enumerable.Range(0, n), decision.BandOutputOfSlot.OrderBy(j => j));
        // The 16 busy outputs fill one group.
        Assert.All(decision.BandOutputOfSlot.Take(16), j => Assert.Equal(0, j % 4));
        Assert.Contains("sparse_lane_order", result.Source);
        AssertAgrees(model, SparseMode.Bands, (new[] { 1, k }, Differential.RandomFloats(2, k)));
    }

    /// <summary>
    /// Two pruned layers in a row (Gemm + Relu, then Gemm or MatMul + bias): the first computes its outputs in its lane
    /// order and the second's weight rows follow, so no lane order (and no gather) is left in the generated code; the
    /// result still matches ONNX Runtime. When the first layer's output is also a graph output, the order stays in
    /// the kernel.
    /// </summary>
    [Theory]
    [InlineData("Gemm", false)]
    [InlineData("MatMul", false)]
    [InlineData("Gemm", true)]
    public void BandLaneOrderMovesIntoTheNextLayer(string second, bool firstIsOutput)
    {
        int m = 2, k = 256, hidden = 64, n = 24;
        var w = Differential.RandomFloats(12, hidden * k); // stored hidden×k (transB)
        var random = new Random(13);
        for (int j = 0; j < hidden; j++)
            for (int p = 0; p < k; p++)
                if (j % 4 != 0 || random.NextDouble() < 0.75) w[j * k + p] = 0;
        var builder = new OnnxModelBuilder(13).Input("a", DataType.Float, m, k)
            .Initializer("w1", w, hidden, k).Initializer("b1", Differential.RandomFloats(14, hidden), hidden)
            .Initializer("w2", Pruned(15, hidden * n, 0.5), hidden, n).Initializer("b2", Differential.RandomFloats(16, n), n)
            .Node("Gemm", new[] { "a", "w1", "b1" }, new[] { "g" }, ("transB", 1L))
            .Node("Relu", new[] { "g" }, new[] { "h" });
        if (second == "Gemm") builder.Node("Gemm", new[] { "h", "w2", "b2" }, new[] { "y" });
        else builder.Node("MatMul", new[] { "h", "w2" }, new[] { "p" }).Node("Add", new[] { "p", "b2" }, new[] { "y" });
        builder.Output("y", DataType.Float);
        if (firstIsOutput) builder.Output("h", DataType.Float);
        var model = builder.ToBytes();

        var result = ModelCompiler.Compile(model, new CompileOptions { Sparse = SparseMode.Bands });
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        var first = (SparseDecision)result.Graph!.Nodes.First(x => x.OpType == "Gemm").Annotations[SparseDecision.Key];
        Assert.Equal(SparseFormat.Bands, first.Format);
        Assert.Equal(firstIsOutput, result.Source!.Contains("sparse_lane_order"));
        Assert.Equal(firstIsOutput, first.BandOutputOfSlot.Length != 0);
        Assert.Equal(!firstIsOutput, first.Reason.Contains("next layer's weights reordered"));
        var input = (new[] { m, k }, (Array)Differential.RandomFloats(2, m * k));
        AssertAgrees(model, SparseMode.Bands, input);
        AssertAgrees(model, SparseMode.Auto, input);
    }

    /// <summary>
    /// Conv with pruned weights and a fused Relu, as the sparse convolution (forced, then by the cost model) against
    /// ONNX Runtime: 1×1 (image in place), 3×3 pad 1 and 5×5 (bordered image), stride 2 (im2col columns), batch 2.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 0, 0.9)]
    [InlineData(3, 1, 1, 0.9)]
    [InlineData(5, 1, 0, 0.95)]
    [InlineData(3, 2, 1, 0.9)]
    [InlineData(3, 1, 1, 0)]
    public void ConvWithPrunedWeightsMatchesOnnxRuntime(int kernel, int stride, int pad, double sparsity)
    {
        int batch = 2, c = 12, m = 20, size = 10;
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, batch, c, size, size)
            .Initializer("w", Pruned(31, m * c * kernel * kernel, sparsity), m, c, kernel, kernel)
            .Initializer("b", Differential.RandomFloats(32, m), m)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "y0" }, ("kernel_shape", new long[] { kernel, kernel }),
                ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }))
            .Node("Relu", new[] { "y0" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var input = (new[] { batch, c, size, size }, (Array)Differential.RandomFloats(33, batch * c * size * size));
        string forced = AssertAgrees(model, SparseMode.Sparse, input);
        Assert.Contains("SparseConvolution.Convolve", forced);
        Assert.Contains("SparseFilter.Create(20, 12,", forced);
        AssertAgrees(model, SparseMode.Auto, input);
        // Dense weights stay dense under the cost model.
        if (sparsity == 0) Assert.DoesNotContain("SparseConvolution", ModelCompiler.Compile(model, new CompileOptions()).Source!);
    }

    /// <summary>The convolution cost model: the 95 % pruned 5×5 layer goes sparse, its dense original does not, and inspect's annotation says which.</summary>
    [Fact]
    public void AutoModeChoosesSparseConvolutionForPrunedFilters()
    {
        SparseDecision Decide(double sparsity, out string kernel)
        {
            var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 20, 12, 12)
                .Initializer("w", Pruned(41, 50 * 20 * 25, sparsity), 50, 20, 5, 5)
                .Node("Conv", new[] { "x", "w" }, new[] { "y" })
                .Output("y", DataType.Float).ToBytes();
            var result = ModelCompiler.Compile(model, new CompileOptions());
            Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
            var node = result.Graph!.Nodes.Single(x => x.OpType == "Conv");
            kernel = (string)node.Annotations["kernel"];
            return (SparseDecision)node.Annotations[SparseDecision.Key];
        }
        Assert.Equal(SparseFormat.Rows, Decide(0.95, out string sparseKernel).Format);
        Assert.StartsWith("sparse convolution", sparseKernel);
        Assert.Contains("shifted rows of the bordered image", sparseKernel);
        Assert.Equal(SparseFormat.Dense, Decide(0, out string denseKernel).Format);
        Assert.DoesNotContain("sparse", denseKernel);
    }

    /// <summary>int8 weights of which a fraction equals its column's zero point (pruned), the rest random.</summary>
    static sbyte[] PrunedInt8(int seed, int k, int n, double sparsity, sbyte[] zeroOfColumn, bool transB)
    {
        var random = new Random(seed);
        var w = new sbyte[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
                w[transB ? j * k + p : p * n + j] = random.NextDouble() < sparsity ? zeroOfColumn[j] : (sbyte)random.Next(-128, 128);
        return w;
    }

    static byte[] RandomBytes(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (byte)random.Next(256)).ToArray();
    }

    /// <summary>
    /// QGemm (u8 × s8, per-column zero points and scales, int32 bias, requantised u8 output) with pruned weights as the
    /// sparse band kernel on centred integers: bit-exact against ONNX Runtime, batch 1 and 3, transB or not.
    /// </summary>
    [Theory]
    [InlineData(1, false, 0.9)]
    [InlineData(1, true, 0.95)]
    [InlineData(3, true, 0.5)]
    public void QGemmWithPrunedWeightsIsExact(int m, bool transB, double sparsity)
    {
        int k = 300, n = 37;
        var zeros = Enumerable.Range(0, n).Select(j => (sbyte)(j % 7 - 3)).ToArray();
        var model = new OnnxModelBuilder(13).Input("a", DataType.UInt8, m, k)
            .Initializer("sa", new Tensor(DataType.Float, Array.Empty<int>(), new[] { 0.02f })).Initializer("za", new Tensor(DataType.UInt8, Array.Empty<int>(), new byte[] { 125 }))
            .Initializer("b", new Tensor(DataType.Int8, transB ? new[] { n, k } : new[] { k, n }, PrunedInt8(51, k, n, sparsity, zeros, transB)))
            .Initializer("sb", new Tensor(DataType.Float, new[] { n }, Enumerable.Range(0, n).Select(i => 0.001f + 0.0001f * i).ToArray()))
            .Initializer("zb", new Tensor(DataType.Int8, new[] { n }, zeros))
            .Initializer("c", new Tensor(DataType.Int32, new[] { n }, Enumerable.Range(0, n).Select(i => i * 37 - 150).ToArray()))
            .Initializer("sy", new Tensor(DataType.Float, Array.Empty<int>(), new[] { 0.5f })).Initializer("zy", new Tensor(DataType.UInt8, Array.Empty<int>(), new byte[] { 128 }))
            .NodeInDomain("com.microsoft", "QGemm", new[] { "a", "sa", "za", "b", "sb", "zb", "c", "sy", "zy" }, new[] { "y" }, new (string, object)[] { ("transB", transB ? 1L : 0L) })
            .Output("y", DataType.UInt8).ToBytes();
        var input = (new[] { m, k }, (Array)RandomBytes(52, m * k));
        string source = AssertAgrees(model, SparseMode.Bands, input);
        Assert.Contains("CentredIntegers.Centre<byte>", source);
        Assert.Contains("BandSparseMultiply.Multiply", source);
        AssertAgrees(model, SparseMode.Auto, input);
    }

    /// <summary>MatMulInteger (u8 × u8, per-column B zero points, int32 output) and QLinearMatMul (s8 × s8) with pruned weights: exact.</summary>
    [Fact]
    public void MatMulIntegerAndQLinearMatMulWithPrunedWeightsAreExact()
    {
        int m = 2, k = 200, n = 24;
        var zb = Enumerable.Range(0, n).Select(j => (byte)(120 + j)).ToArray();
        var random = new Random(61);
        var b = new byte[k * n];
        for (int i = 0; i < b.Length; i++) b[i] = random.NextDouble() < 0.9 ? zb[i % n] : (byte)random.Next(256);
        var integer = new OnnxModelBuilder(13).Input("a", DataType.UInt8, m, k)
            .Initializer("b", new Tensor(DataType.UInt8, new[] { k, n }, b))
            .Initializer("za", new Tensor(DataType.UInt8, Array.Empty<int>(), new byte[] { 7 })).Initializer("zb", new Tensor(DataType.UInt8, new[] { n }, zb))
            .Node("MatMulInteger", new[] { "a", "b", "za", "zb" }, new[] { "y" })
            .Output("y", DataType.Int32).ToBytes();
        Assert.Contains("CentredIntegers.Centre<byte>", AssertAgrees(integer, SparseMode.Sparse, (new[] { m, k }, RandomBytes(62, m * k))));

        var signed = PrunedInt8(63, k, n, 0.95, new sbyte[n], transB: false);
        var linear = new OnnxModelBuilder(13).Input("a", DataType.Int8, m, k)
            .Initializer("sa", new Tensor(DataType.Float, Array.Empty<int>(), new[] { 0.05f })).Initializer("za", new Tensor(DataType.Int8, Array.Empty<int>(), new sbyte[] { -3 }))
            .Initializer("b", new Tensor(DataType.Int8, new[] { k, n }, signed))
            .Initializer("sb", new Tensor(DataType.Float, Array.Empty<int>(), new[] { 0.01f })).Initializer("zb", new Tensor(DataType.Int8, Array.Empty<int>(), new sbyte[] { 0 }))
            .Initializer("sy", new Tensor(DataType.Float, Array.Empty<int>(), new[] { 0.4f })).Initializer("zy", new Tensor(DataType.Int8, Array.Empty<int>(), new sbyte[] { 1 }))
            .Node("QLinearMatMul", new[] { "a", "sa", "za", "b", "sb", "zb", "sy", "zy" }, new[] { "y" })
            .Output("y", DataType.Int8).ToBytes();
        var signedInput = new Random(64);
        Assert.Contains("CentredIntegers.Centre<sbyte>", AssertAgrees(linear, SparseMode.Sparse,
            (new[] { m, k }, Enumerable.Range(0, m * k).Select(_ => (sbyte)signedInput.Next(-128, 128)).ToArray())));
    }

    /// <summary>
    /// Dense int8 weights over a long K: float sums of the integer products could pass 2²⁴, so even forced sparse the
    /// layer stays on the int8 GEMV and says why.
    /// </summary>
    [Fact]
    public void Int8SparseNeedsExactFloatSums()
    {
        int k = 784, n = 16;
        var model = new OnnxModelBuilder(13).Input("a", DataType.UInt8, 1, k)
            .Initializer("b", new Tensor(DataType.Int8, new[] { k, n }, Enumerable.Repeat((sbyte)-128, k * n).ToArray()))
            .Initializer("za", new Tensor(DataType.UInt8, Array.Empty<int>(), new byte[] { 0 })).Initializer("zb", new Tensor(DataType.Int8, Array.Empty<int>(), new sbyte[] { 0 }))
            .Node("MatMulInteger", new[] { "a", "b", "za", "zb" }, new[] { "y" })
            .Output("y", DataType.Int32).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions { Sparse = SparseMode.Sparse });
        var decision = (SparseDecision)result.Graph!.Nodes.Single().Annotations[SparseDecision.Key];
        Assert.Equal(SparseFormat.Dense, decision.Format);
        Assert.Contains("would not be exact", decision.Reason);
        Assert.DoesNotContain("CentredIntegers", result.Source);
    }

    /// <summary>A sparse layer does not store its dense weights too: the pruned model's source shrinks.</summary>
    [Fact]
    public void SparseLayoutReplacesTheDenseWeights()
    {
        int k = 200, n = 64;
        var model = Gemm(1, k, n, Pruned(8, k * n, 0.95), transB: true, bias: false);
        var dense = ModelCompiler.Compile(model, new CompileOptions { Sparse = SparseMode.Dense }).Source!;
        var sparse = ModelCompiler.Compile(model, new CompileOptions { Sparse = SparseMode.Auto }).Source!;
        Assert.DoesNotContain("PackedMatrix.Pack", sparse);
        Assert.True(sparse.Length * 2 < dense.Length, $"sparse source {sparse.Length} characters, dense {dense.Length}");
    }
}
