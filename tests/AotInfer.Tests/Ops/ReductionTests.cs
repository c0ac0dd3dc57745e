using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Reduce*, ArgMax/ArgMin and TopK against ONNX Runtime on random inputs with fixed seeds.</summary>
public class ReductionTests
{
    static readonly int[] Shape = { 3, 4, 37 };

    // Axes cover the contiguous innermost run (vector fold), an outer axis with a kept contiguous row (vector
    // combine), alternating blocks, everything, and no axes at all.
    [Theory]
    [InlineData("ReduceSum", "2", 1)]
    [InlineData("ReduceSum", "0", 0)]
    [InlineData("ReduceSum", "0,2", 1)]
    [InlineData("ReduceSum", "", 0)]
    [InlineData("ReduceMean", "1", 1)]
    [InlineData("ReduceMean", "-1", 0)]
    [InlineData("ReduceProd", "1", 1)]
    [InlineData("ReduceMax", "2", 0)]
    [InlineData("ReduceMax", "0,1", 1)]
    [InlineData("ReduceMin", "1,2", 0)]
    [InlineData("ReduceSumSquare", "0,2", 1)]
    [InlineData("ReduceL1", "2", 1)]
    [InlineData("ReduceL2", "1", 0)]
    [InlineData("ReduceLogSum", "2", 1)]
    [InlineData("ReduceLogSumExp", "0,2", 0)]
    [InlineData("ReduceLogSumExp", "2", 1)]
    public void ReduceWithAxesInputMatchesOnnxRuntime(string op, string axes, long keepDims)
    {
        long[] axisValues = axes.Length == 0 ? Array.Empty<long>() : axes.Split(',').Select(long.Parse).ToArray();
        int opset = op == "ReduceSum" ? 13 : 18;
        var builder = new OnnxModelBuilder(opset).Input("x", DataType.Float, Shape);
        if (axisValues.Length > 0) builder.Initializer("axes", axisValues, axisValues.Length);
        var model = builder
            .Node(op, axisValues.Length > 0 ? new[] { "x", "axes" } : new[] { "x" }, new[] { "y" }, ("keepdims", keepDims))
            .Output("y", DataType.Float).ToBytes();
        float lo = op is "ReduceLogSum" or "ReduceProd" ? 0.5f : -3f, hi = op == "ReduceProd" ? 1.5f : 3f;
        Differential.AssertAgrees(model, inputs: (Shape, (Array)Differential.RandomFloats(11, 3 * 4 * 37, lo, hi)));
    }

    [Theory]
    [InlineData("ReduceMean", 11)]
    [InlineData("ReduceMax", 13)]
    [InlineData("ReduceSum", 11)]
    public void ReduceWithAxesAttributeMatchesOnnxRuntime(string op, int opset)
    {
        var model = new OnnxModelBuilder(opset).Input("x", DataType.Float, Shape)
            .Node(op, new[] { "x" }, new[] { "y" }, ("axes", new long[] { 1, -1 }), ("keepdims", 0L))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (Shape, (Array)Differential.RandomFloats(12, 3 * 4 * 37)));
    }

    [Fact]
    public void IntegerReduceSumMatchesOnnxRuntime()
    {
        var data = Enumerable.Range(0, 60).Select(i => (long)(i * 7 % 23 - 11)).ToArray();
        var model = new OnnxModelBuilder(13).Input("x", DataType.Int64, 3, 4, 5).Initializer("axes", new long[] { 1 }, 1)
            .Node("ReduceSum", new[] { "x", "axes" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 3, 4, 5 }, (Array)data));
    }

    [Fact]
    public void EmptyAxesWithNoopIsIdentity()
    {
        var model = new OnnxModelBuilder(18).Input("x", DataType.Float, 2, 3).Initializer("axes", Array.Empty<long>(), 0)
            .Node("ReduceMax", new[] { "x", "axes" }, new[] { "y" }, ("noop_with_empty_axes", 1L))
            .Output("y", DataType.Float).ToBytes();
        var x = Differential.RandomFloats(5, 6);
        var y = (float[])Differential.RunAotInfer(model, x)[0];
        Assert.Equal(x, y);
    }

    [Fact]
    public void ReduceProdOfConstantShapeFoldsAtCompileTime()
    {
        // Shape arithmetic: a constant product feeding an Add must fold, leaving only the Add at run time.
        var model = new OnnxModelBuilder(18).Input("x", DataType.Int64, 1)
            .Initializer("dims", new long[] { 2, 3, 4 }, 3)
            .Node("ReduceProd", new[] { "dims" }, new[] { "count" }, ("keepdims", 1L))
            .Node("Add", new[] { "x", "count" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        Assert.DoesNotContain("Reduction.Reduce", result.Source);
        Assert.Equal(new long[] { 25 }, (long[])Differential.RunAotInfer(model, new long[] { 1 })[0]);
    }

    [Fact]
    public void ReduceMaxOverAnEmptySetIsNegativeInfinity()
    {
        // An empty reduced axis (shape [2, 0]): every output is the identity of max.
        var y = new float[2];
        AotInfer.Kernels.Reduction.Reduce.Run<float, AotInfer.Kernels.Reduction.ReduceMaxOperator<float>>(ReadOnlySpan<float>.Empty, y, new[] { 2, 0 }, new[] { 0, 1 });
        Assert.All(y, v => Assert.Equal(float.NegativeInfinity, v));
    }

    [Theory]
    [InlineData("ArgMax", 1, 1, 0)]
    [InlineData("ArgMax", -1, 0, 1)]
    [InlineData("ArgMin", 0, 1, 1)]
    [InlineData("ArgMin", 2, 0, 0)]
    public void ArgReduceMatchesOnnxRuntime(string op, long axis, long keepDims, long selectLast)
    {
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 3, 4, 5)
            .Node(op, new[] { "x" }, new[] { "y" }, ("axis", axis), ("keepdims", keepDims), ("select_last_index", selectLast))
            .Output("y", DataType.Int64).ToBytes();
        // Few distinct values so that ties occur and select_last_index matters.
        var data = Differential.RandomFloats(21, 60).Select(v => MathF.Round(v * 2)).ToArray();
        Differential.AssertAgrees(model, inputs: (new[] { 3, 4, 5 }, (Array)data));
    }

    [Theory]
    [InlineData(1, 3, 1L)]
    [InlineData(-1, 2, 0L)]
    [InlineData(0, 3, 1L)]
    public void TopKMatchesOnnxRuntime(int axis, long k, long largest)
    {
        var model = new OnnxModelBuilder(11).Input("x", DataType.Float, 3, 6, 4).Initializer("k", new[] { k }, 1)
            .Node("TopK", new[] { "x", "k" }, new[] { "values", "indices" }, ("axis", (long)axis), ("largest", largest))
            .Output("values", DataType.Float).Output("indices", DataType.Int64).ToBytes();
        var data = Differential.RandomFloats(31, 72).Select(v => MathF.Round(v * 3)).ToArray();
        Differential.AssertAgrees(model, inputs: (new[] { 3, 6, 4 }, (Array)data));
    }

    [Fact]
    public void FoldMatchesScalarSumForEveryLength()
    {
        for (int n = 0; n <= 80; n++)
        {
            var x = Differential.RandomFloats(n, n);
            double expected = x.Sum(v => (double)v);
            float actual = AotInfer.Kernels.Reduction.Reduce.Fold<float, AotInfer.Kernels.Reduction.ReduceSumOperator<float>>(x);
            Assert.True(Math.Abs(actual - expected) < 1e-4, $"length {n}: {actual} vs {expected}");
            float max = AotInfer.Kernels.Reduction.Reduce.Fold<float, AotInfer.Kernels.Reduction.ReduceMaxOperator<float>>(x);
            Assert.Equal(n == 0 ? float.NegativeInfinity : x.Max(), max);
        }
    }
}
