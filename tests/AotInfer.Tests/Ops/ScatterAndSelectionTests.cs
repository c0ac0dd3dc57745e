using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Scatter, ReverseSequence, Compress, NonZero, EyeLike and Det against ONNX Runtime with fixed seeds.</summary>
public class ScatterAndSelectionTests
{
    [Theory]
    [InlineData(0, "none")]
    [InlineData(1, "add")]
    [InlineData(-1, "mul")]
    [InlineData(1, "max")]
    [InlineData(0, "min")]
    public void ScatterElementsMatchesOnnxRuntime(int axis, string reduction)
    {
        var indices = new long[] { 0, 2, -1, 1, 1, 0 };
        var model = new OnnxModelBuilder(18)
            .Input("data", DataType.Float, 3, 3).Input("updates", DataType.Float, 2, 3)
            .Initializer("indices", indices, 2, 3)
            .Node("ScatterElements", new[] { "data", "indices", "updates" }, new[] { "y" }, ("axis", (long)axis), ("reduction", reduction))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 3, 3 }, (Array)Differential.RandomFloats(1, 9)),
            (new[] { 2, 3 }, (Array)Differential.RandomFloats(2, 6)),
        });
    }

    [Theory]
    [InlineData("none")]
    [InlineData("add")]
    [InlineData("max")]
    public void ScatterNDMatchesOnnxRuntime(string reduction)
    {
        var model = new OnnxModelBuilder(18)
            .Input("data", DataType.Float, 4, 3, 2).Input("updates", DataType.Float, 2, 2)
            .Initializer("indices", new long[] { 0, 1, -1, 2 }, 2, 2)
            .Node("ScatterND", new[] { "data", "indices", "updates" }, new[] { "y" }, ("reduction", reduction))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 4, 3, 2 }, (Array)Differential.RandomFloats(3, 24)),
            (new[] { 2, 2 }, (Array)Differential.RandomFloats(4, 4)),
        });
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(0, 1)]
    public void ReverseSequenceMatchesOnnxRuntime(int batchAxis, int timeAxis)
    {
        int[] shape = batchAxis == 0 ? new[] { 3, 5, 2 } : new[] { 5, 3, 2 };
        var model = new OnnxModelBuilder(10)
            .Input("x", DataType.Float, shape).Input("lengths", DataType.Int64, 3)
            .Node("ReverseSequence", new[] { "x", "lengths" }, new[] { "y" }, ("batch_axis", (long)batchAxis), ("time_axis", (long)timeAxis))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (shape, (Array)Differential.RandomFloats(5, 30)),
            (new[] { 3 }, (Array)new long[] { 5, 1, 3 }),
        });
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(-3L)]
    [InlineData(null)]
    public void CompressWithConstantConditionMatchesOnnxRuntime(long? axis)
    {
        var condition = new Tensor(DataType.Bool, new[] { 3 }, new[] { true, false, true });
        var builder = new OnnxModelBuilder(11).Input("x", DataType.Float, 3, 4, 2).Initializer("condition", condition);
        builder = axis is long a
            ? builder.Node("Compress", new[] { "x", "condition" }, new[] { "y" }, ("axis", a))
            : builder.Node("Compress", new[] { "x", "condition" }, new[] { "y" });
        var model = builder.Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 3, 4, 2 }, (Array)Differential.RandomFloats(6, 24)));
    }

    [Fact]
    public void NonZeroOfAConstantFoldsAtCompileTime()
    {
        var constant = new Tensor(DataType.Float, new[] { 2, 3 }, new[] { 0f, 1f, 0f, 2f, 0f, 3f });
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Int64, 1).Initializer("c", constant)
            .Node("NonZero", new[] { "c" }, new[] { "nz" })
            .Node("Mul", new[] { "nz", "x" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 1 }, (Array)new long[] { 3 }));
    }

    [Theory]
    [InlineData(3, 5, 0)]
    [InlineData(4, 3, 2)]
    [InlineData(4, 3, -2)]
    [InlineData(2, 2, 7)]
    public void EyeLikeMatchesOnnxRuntime(int rows, int columns, int k)
    {
        var model = new OnnxModelBuilder(9)
            .Input("x", DataType.Float, rows, columns)
            .Node("EyeLike", new[] { "x" }, new[] { "y" }, ("k", (long)k), ("dtype", (long)DataType.Int32))
            .Output("y", DataType.Int32).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { rows, columns }, (Array)Differential.RandomFloats(7, rows * columns)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    public void DetMatchesOnnxRuntime(int n)
    {
        var model = new OnnxModelBuilder(11)
            .Input("x", DataType.Float, 2, n, n)
            .Node("Det", new[] { "x" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, rtol: 1e-4, atol: 1e-5, inputs: (new[] { 2, n, n }, (Array)Differential.RandomFloats(8, 2 * n * n)));
    }
}
