using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>MatMul, Gemm and Einsum against ONNX Runtime on random inputs with fixed seeds.</summary>
public class LinearTests
{
    static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    static (int[], Array) Floats(int seed, params int[] shape) => (shape, Differential.RandomFloats(seed, Count(shape)));

    static (int[], Array) Doubles(int seed, params int[] shape) =>
        (shape, Differential.RandomFloats(seed, Count(shape)).Select(v => (double)v).ToArray());

    static (int[], Array) Ints(int seed, params int[] shape) =>
        (shape, Differential.RandomFloats(seed, Count(shape)).Select(v => (int)(v * 50)).ToArray());

    static (int[], Array) Longs(int seed, params int[] shape) =>
        (shape, Differential.RandomFloats(seed, Count(shape)).Select(v => (long)(v * 1000)).ToArray());

    [Theory]
    [InlineData(new[] { 3, 4 }, new[] { 4, 5 })]
    [InlineData(new[] { 4 }, new[] { 4, 5 })]
    [InlineData(new[] { 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 7 }, new[] { 7 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4, 5 })]
    [InlineData(new[] { 4 }, new[] { 2, 4, 5 })]
    [InlineData(new[] { 2, 1, 3, 4 }, new[] { 5, 4, 6 })]
    [InlineData(new[] { 3, 4 }, new[] { 2, 4, 6 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 4 })]
    [InlineData(new[] { 1, 37 }, new[] { 37, 70 })]
    [InlineData(new[] { 19, 300 }, new[] { 300, 41 })]
    public void MatMulMatchesOnnxRuntime(int[] aShape, int[] bShape)
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Float, aShape).Input("b", DataType.Float, bShape)
            .Node("MatMul", new[] { "a", "b" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, 1e-4, 1e-4, Floats(1, aShape), Floats(2, bShape));
    }

    /// <summary>Constant weights take the pre-packed path (batches of A folded into M, or M = 1 as a GEMV).</summary>
    [Theory]
    [InlineData(new[] { 1, 64 }, new[] { 64, 100 })]
    [InlineData(new[] { 2, 5, 33 }, new[] { 33, 17 })]
    [InlineData(new[] { 9, 300 }, new[] { 300, 530 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, 4, 5 })]
    public void MatMulWithConstantWeightsMatchesOnnxRuntime(int[] aShape, int[] bShape)
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Float, aShape)
            .Initializer("w", Differential.RandomFloats(7, Count(bShape)), bShape)
            .Node("MatMul", new[] { "a", "w" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, 1e-4, 1e-4, Floats(3, aShape));
    }

    [Fact]
    public void MatMulOfDoublesAndIntegersMatchesOnnxRuntime()
    {
        foreach (var (type, make) in new (DataType, Func<int, int[], (int[], Array)>)[] { (DataType.Double, Doubles), (DataType.Int32, Ints), (DataType.Int64, Longs) })
        {
            var model = new OnnxModelBuilder(13)
                .Input("a", type, 2, 3, 5).Input("b", type, 5, 4)
                .Node("MatMul", new[] { "a", "b" }, new[] { "y" })
                .Output("y", type).ToBytes();
            Differential.AssertAgrees(model, 1e-9, 1e-9, make(1, new[] { 2, 3, 5 }), make(2, new[] { 5, 4 }));
        }
    }

    public static TheoryData<int, int, int[]?, bool> GemmCases()
    {
        var data = new TheoryData<int, int, int[]?, bool>();
        foreach (int transA in new[] { 0, 1 })
            foreach (int transB in new[] { 0, 1 })
                foreach (var bias in new[] { null, Array.Empty<int>(), new[] { 1 }, new[] { 7 }, new[] { 5, 1 }, new[] { 1, 7 }, new[] { 5, 7 } })
                    foreach (bool constantB in new[] { false, true })
                        data.Add(transA, transB, bias, constantB);
        return data;
    }

    /// <summary>M=5, N=7, K=9 with every transpose, every bias broadcast and B an input or a constant.</summary>
    [Theory]
    [MemberData(nameof(GemmCases))]
    public void GemmMatchesOnnxRuntime(int transA, int transB, int[]? biasShape, bool constantB)
    {
        int[] aShape = transA == 1 ? new[] { 9, 5 } : new[] { 5, 9 };
        int[] bShape = transB == 1 ? new[] { 7, 9 } : new[] { 9, 7 };
        var builder = new OnnxModelBuilder(13).Input("a", DataType.Float, aShape);
        var inputs = new[] { Floats(1, aShape) }.ToList();
        if (constantB) builder.Initializer("b", Differential.RandomFloats(2, Count(bShape)), bShape);
        else { builder.Input("b", DataType.Float, bShape); inputs.Add(Floats(2, bShape)); }
        var nodeInputs = new[] { "a", "b" }.ToList();
        if (biasShape is not null)
        {
            builder.Input("c", DataType.Float, biasShape);
            inputs.Add(Floats(3, biasShape));
            nodeInputs.Add("c");
        }
        var model = builder.Node("Gemm", nodeInputs.ToArray(), new[] { "y" }, ("transA", (long)transA), ("transB", (long)transB), ("alpha", 0.75f), ("beta", 1.5f))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, 1e-4, 1e-5, inputs.ToArray());
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(11)]
    [InlineData(13)]
    public void GemmOpsetsMatchOnnxRuntime(int opset)
    {
        var model = new OnnxModelBuilder(opset)
            .Input("a", DataType.Float, 1, 40).Input("c", DataType.Float, 30)
            .Initializer("w", Differential.RandomFloats(5, 30 * 40), 30, 40)
            .Node("Gemm", new[] { "a", "w", "c" }, new[] { "y" }, ("transB", 1L))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, 1e-4, 1e-5, Floats(1, 1, 40), Floats(2, 30));
    }

    [Fact]
    public void GemmOfDoublesMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Double, 4, 3).Input("b", DataType.Double, 6, 4).Input("c", DataType.Double, 6)
            .Node("Gemm", new[] { "a", "b", "c" }, new[] { "y" }, ("transA", 1L), ("transB", 1L), ("alpha", 2f), ("beta", -1f))
            .Output("y", DataType.Double).ToBytes();
        Differential.AssertAgrees(model, 1e-9, 1e-9, Doubles(1, 4, 3), Doubles(2, 6, 4), Doubles(3, 6));
    }

    [Fact]
    public void GemmWithoutBroadcastRejectsAVectorBiasBeforeOpset7()
    {
        var model = new OnnxModelBuilder(6)
            .Input("a", DataType.Float, 2, 3).Input("b", DataType.Float, 3, 4).Input("c", DataType.Float, 4)
            .Node("Gemm", new[] { "a", "b", "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains("'broadcast'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ij,jk->ik", new[] { 3, 4 }, new[] { 4, 5 })]
    [InlineData("ij,jk", new[] { 3, 4 }, new[] { 4, 5 })]
    [InlineData("bij,bjk->bik", new[] { 2, 3, 4 }, new[] { 2, 4, 5 })]
    [InlineData("bji,bkj->bik", new[] { 2, 4, 3 }, new[] { 2, 5, 4 })]
    [InlineData("ij,kj->ik", new[] { 3, 4 }, new[] { 5, 4 })]
    [InlineData("ji,jk->ki", new[] { 4, 3 }, new[] { 4, 5 })]
    [InlineData("i,i", new[] { 6 }, new[] { 6 })]
    [InlineData("i,j->ij", new[] { 3 }, new[] { 4 })]
    [InlineData("...ij,...jk->...ik", new[] { 2, 3, 4 }, new[] { 1, 4, 5 })]
    [InlineData("bij,jk->bik", new[] { 2, 3, 4 }, new[] { 4, 5 })]
    [InlineData("ij,ij->i", new[] { 3, 4 }, new[] { 3, 4 })]
    [InlineData("ii,i->i", new[] { 3, 3 }, new[] { 3 })]
    [InlineData("Ab,bA", new[] { 2, 3 }, new[] { 3, 2 })]
    public void TwoOperandEinsumMatchesOnnxRuntime(string equation, int[] aShape, int[] bShape)
    {
        var model = new OnnxModelBuilder(12)
            .Input("a", DataType.Float, aShape).Input("b", DataType.Float, bShape)
            .Node("Einsum", new[] { "a", "b" }, new[] { "y" }, ("equation", equation))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, 1e-4, 1e-5, Floats(1, aShape), Floats(2, bShape));
    }

    [Theory]
    [InlineData("ij->ji", new[] { 3, 4 })]
    [InlineData("ii->i", new[] { 4, 4 })]
    [InlineData("ii", new[] { 4, 4 })]
    [InlineData("ij->", new[] { 3, 4 })]
    [InlineData("ij->i", new[] { 3, 4 })]
    [InlineData("...ii->...i", new[] { 2, 3, 3 })]
    [InlineData("i...->...", new[] { 3, 2, 4 })]
    [InlineData("ba", new[] { 3, 4 })]
    [InlineData("b a -> a b", new[] { 3, 4 })]
    public void OneOperandEinsumMatchesOnnxRuntime(string equation, int[] shape)
    {
        var model = new OnnxModelBuilder(12)
            .Input("x", DataType.Float, shape)
            .Node("Einsum", new[] { "x" }, new[] { "y" }, ("equation", equation))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, 1e-4, 1e-5, Floats(1, shape));
    }

    [Fact]
    public void EinsumOfDoublesAndIntegersMatchesOnnxRuntime()
    {
        foreach (var (type, make) in new (DataType, Func<int, int[], (int[], Array)>)[] { (DataType.Double, Doubles), (DataType.Int32, Ints), (DataType.Int64, Longs) })
        {
            var model = new OnnxModelBuilder(12)
                .Input("a", type, 2, 3, 4).Input("b", type, 2, 4, 5)
                .Node("Einsum", new[] { "a", "b" }, new[] { "y" }, ("equation", "bij,bjk->bik"))
                .Output("y", type).ToBytes();
            Differential.AssertAgrees(model, 1e-9, 1e-9, make(1, new[] { 2, 3, 4 }), make(2, new[] { 2, 4, 5 }));
        }
    }

    [Theory]
    [InlineData("ij,jk,kl->il", 3, "3 operands")]
    [InlineData("ij->k", 1, "appears in no input")]
    [InlineData("ij,jk->ik", 1, "2 input terms")]
    [InlineData("i.j->ij", 1, "ellipsis")]
    [InlineData("ij->ii", 1, "repeats an index")]
    public void InvalidOrUnsupportedEinsumIsADiagnostic(string equation, int inputs, string message)
    {
        var builder = new OnnxModelBuilder(12);
        var names = Enumerable.Range(0, inputs).Select(i => "x" + i).ToArray();
        foreach (var name in names) builder.Input(name, DataType.Float, 3, 3);
        var model = builder.Node("Einsum", names, new[] { "y" }, ("equation", equation)).Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.ToString().Contains(message, StringComparison.Ordinal));
    }
}
