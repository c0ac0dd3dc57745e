using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Shape and data-movement ops against ONNX Runtime on random inputs with fixed seeds, and the official node tests.</summary>
public class ShapeTests
{
    static (int[] Shape, Array Data) Floats(int seed, params int[] shape) =>
        (shape, Differential.RandomFloats(seed, shape.Aggregate(1, (a, b) => a * b)));

    static (int[] Shape, Array Data) Longs(int seed, params int[] shape)
    {
        var random = new Random(seed);
        return (shape, Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (long)random.Next(-1000, 1000)).ToArray());
    }

    [Theory]
    [InlineData(new long[] { 0, -1 })]
    [InlineData(new long[] { 4, 0, 2 })]
    [InlineData(new long[] { -1 })]
    [InlineData(new long[] { 2, 3, 1, 4 })]
    public void ReshapeMatchesOnnxRuntime(long[] shape)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 3, 4).Initializer("shape", shape, shape.Length)
            .Node("Reshape", new[] { "x", "shape" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(1, 2, 3, 4));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(4)]
    public void FlattenMatchesOnnxRuntime(int axis)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 3, 4, 5)
            .Node("Flatten", new[] { "x" }, new[] { "y" }, ("axis", (long)axis))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(2, 2, 3, 4, 5));
    }

    [Fact]
    public void SqueezeThenUnsqueezeMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 3, 1, 4).Initializer("sq", new long[] { 0, -2 }, 2).Initializer("unsq", new long[] { 3, 0, -1 }, 3)
            .Node("Squeeze", new[] { "x", "sq" }, new[] { "s" })
            .Node("Unsqueeze", new[] { "s", "unsq" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(3, 1, 3, 1, 4));
    }

    [Theory]
    [InlineData(new[] { 0, 2, 1, 3 })]
    [InlineData(new[] { 0, 3, 1, 2 })]
    [InlineData(new[] { 3, 2, 1, 0 })]
    [InlineData(new[] { 1, 0, 2, 3 })]
    [InlineData(new[] { 0, 1, 3, 2 })]
    [InlineData(new[] { 2, 0, 3, 1 })]
    public void TransposeMatchesOnnxRuntime(int[] perm)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Int64, 2, 3, 5, 7)
            .Node("Transpose", new[] { "x" }, new[] { "y" }, ("perm", perm))
            .Output("y", DataType.Int64).ToBytes();
        Differential.AssertAgrees(model, inputs: Longs(4, 2, 3, 5, 7));
    }

    [Fact]
    public void TransposeOfLargeMatrixUsesTilesCorrectly()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 37, 53)
            .Node("Transpose", new[] { "x" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(5, 37, 53));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void ConcatWithAConstantInputMatchesOnnxRuntime(int axis)
    {
        int[] cShape = axis == 0 ? new[] { 1, 3, 4 } : axis == 1 ? new[] { 2, 2, 4 } : new[] { 2, 3, 2 };
        var model = new OnnxModelBuilder()
            .Input("a", DataType.Float, 2, 3, 4).Input("b", DataType.Float, 2, 3, 4)
            .Initializer("c", Differential.RandomFloats(9, cShape.Aggregate(1, (p, d) => p * d)), cShape)
            .Node("Concat", new[] { "a", "c", "b" }, new[] { "y" }, ("axis", (long)axis))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { Floats(6, 2, 3, 4), Floats(7, 2, 3, 4) });
    }

    [Fact]
    public void SplitWithSizesMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 3, 7).Initializer("split", new long[] { 2, 0, 5 }, 3)
            .Node("Split", new[] { "x", "split" }, new[] { "a", "b", "c" }, ("axis", 1L))
            .Output("a", DataType.Float).Output("b", DataType.Float).Output("c", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(8, 3, 7));
    }

    [Fact]
    public void SplitIntoUnevenNumOutputsMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(18)
            .Input("x", DataType.Float, 7, 2)
            .Node("Split", new[] { "x" }, new[] { "a", "b", "c" }, ("num_outputs", 3L))
            .Output("a", DataType.Float).Output("b", DataType.Float).Output("c", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(9, 7, 2));
    }

    [Theory]
    [InlineData(new long[] { 1, -100 }, new long[] { 1000, 3 }, new long[] { 0, 1 }, new long[] { 2, 1 })]
    [InlineData(new long[] { -1, 5 }, new long[] { -1000, 0 }, new long[] { 0, 1 }, new long[] { -1, -2 })]
    [InlineData(new long[] { 100, 2 }, new long[] { -100, 4 }, new long[] { -2, -1 }, new long[] { -3, 1 })]
    [InlineData(new long[] { 3 }, new long[] { 1 }, new long[] { 0 }, new long[] { 1 })]
    public void SliceMatchesOnnxRuntime(long[] starts, long[] ends, long[] axes, long[] steps)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 6, 7)
            .Initializer("starts", starts, starts.Length).Initializer("ends", ends, ends.Length)
            .Initializer("axes", axes, axes.Length).Initializer("steps", steps, steps.Length)
            .Node("Slice", new[] { "x", "starts", "ends", "axes", "steps" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(10, 6, 7));
    }

    [Theory]
    [InlineData(DataType.Int32)]
    [InlineData(DataType.UInt8)]
    [InlineData(DataType.Int8)]
    [InlineData(DataType.Int64)]
    [InlineData(DataType.Double)]
    [InlineData(DataType.Bool)]
    public void CastFromFloatMatchesOnnxRuntime(DataType to)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 4, 5)
            .Node("Cast", new[] { "x" }, new[] { "y" }, ("to", (long)to))
            .Output("y", to).ToBytes();
        // In range of every target so that the result is defined (out-of-range float to integer is undefined in C).
        var values = Differential.RandomFloats(11, 20, -100, 100);
        values[0] = 0; values[1] = -0.5f; values[2] = 0.9f; values[3] = 99.99f;
        if (to == DataType.UInt8) values = values.Select(Math.Abs).ToArray();
        Differential.AssertAgrees(model, inputs: (new[] { 4, 5 }, values));
    }

    [Theory]
    [InlineData(DataType.Int32)]
    [InlineData(DataType.Int64)]
    [InlineData(DataType.Int8)]
    [InlineData(DataType.UInt8)]
    public void CastOfNaNAndOutOfRangeFloatsMatchesOnnxRuntime(DataType to)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 8)
            .Node("Cast", new[] { "x" }, new[] { "y" }, ("to", (long)to))
            .Output("y", to).ToBytes();
        var values = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e9f, -3e9f, 1e20f, 300.5f, -129.5f };
        Differential.AssertAgrees(model, inputs: (new[] { 8 }, values));
    }

    [Theory]
    [InlineData(DataType.Int32)]
    [InlineData(DataType.Int64)]
    [InlineData(DataType.Int8)]
    [InlineData(DataType.UInt8)]
    public void CompileTimeCastAgreesWithRunTimeCast(DataType to)
    {
        // Cast of a constant folds; the same values through a graph input run the kernel. Both must agree.
        var values = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e9f, -3e9f, 1e20f, 300.5f, -129.5f, 0.75f, -0.75f };
        var folded = new OnnxModelBuilder()
            .Input("x", DataType.Float, 10).Initializer("c", values, 10)
            .Node("Cast", new[] { "c" }, new[] { "k" }, ("to", (long)to))
            .Node("Cast", new[] { "x" }, new[] { "r" }, ("to", (long)to))
            .Output("k", to).Output("r", to).ToBytes();
        var outputs = Differential.RunAotInfer(folded, values);
        Assert.Equal(outputs[1].Cast<object>(), outputs[0].Cast<object>());
    }

    [Fact]
    public void CastLikeFromInt64MatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Int64, 3, 4).Initializer("like", new float[] { 0 }, 1)
            .Node("CastLike", new[] { "x", "like" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Longs(12, 3, 4));
    }

    [Theory]
    [InlineData(new long[] { 3, 1, 4 })]
    [InlineData(new long[] { 2, 1, 1, 1 })]
    [InlineData(new long[] { 1 })]
    public void ExpandMatchesOnnxRuntime(long[] shape)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 3, 1).Initializer("shape", shape, shape.Length)
            .Node("Expand", new[] { "x", "shape" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(13, 3, 1));
    }

    [Theory]
    [InlineData(new long[] { 2, 3, 1 })]
    [InlineData(new long[] { 1, 1, 4 })]
    [InlineData(new long[] { 3, 2, 2 })]
    [InlineData(new long[] { 1, 0, 2 })]
    public void TileMatchesOnnxRuntime(long[] repeats)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 1, 3).Initializer("repeats", repeats, 3)
            .Node("Tile", new[] { "x", "repeats" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(14, 2, 1, 3));
    }

    [Fact]
    public void ShapeSubgraphFoldsIntoReshape()
    {
        // y = Reshape(x, Concat(Slice(Shape(x), 0, 1), [-1])): the whole shape computation folds away.
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 3, 4)
            .Initializer("zero", new long[] { 0 }, 1).Initializer("one", new long[] { 1 }, 1).Initializer("minus", new long[] { -1 }, 1)
            .Node("Shape", new[] { "x" }, new[] { "s" })
            .Node("Slice", new[] { "s", "zero", "one" }, new[] { "batch" })
            .Node("Concat", new[] { "batch", "minus" }, new[] { "target" }, ("axis", 0L))
            .Node("Reshape", new[] { "x", "target" }, new[] { "y" })
            .Node("Size", new[] { "x" }, new[] { "n" })
            .Output("y", DataType.Float).Output("n", DataType.Int64).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(15, 2, 3, 4));
    }

    [Fact]
    public void ConstantOfShapeAndRangeFoldMatchOnnxRuntime()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Int64, 5)
            .Initializer("shape", new long[] { 5 }, 1)
            .Initializer("start", new long[] { 10 }).Initializer("limit", new long[] { -3 }).Initializer("delta", new long[] { -3 })
            .Node("ConstantOfShape", new[] { "shape" }, new[] { "c" }, ("value", new Tensor(DataType.Int64, new[] { 1 }, new long[] { 7 })))
            .Node("Range", new[] { "start", "limit", "delta" }, new[] { "r" })
            .Node("Add", new[] { "x", "c" }, new[] { "a" })
            .Node("Add", new[] { "a", "r" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        Differential.AssertAgrees(model, inputs: Longs(16, 5));
    }

    [Fact]
    public void NegativeInt64FoldsThroughCastAndGather()
    {
        // Regression: folding Cast(int64 -> float) read negative values as uint64 (2^64 - |v|), because a long[] also
        // passes an `is ulong[]` test; the compile-time element copy of Slice/Transpose/Expand turned uint8 data into an sbyte[] the same way.
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 4, 4).Input("b", DataType.UInt8, 2)
            .Initializer("q", new long[] { 0, 1, 2, 3 }, 4, 1).Initializer("k", new long[] { 0, 1, 2, 3 }, 1, 4)
            .Initializer("bytes", new Tensor(DataType.UInt8, new[] { 3 }, new byte[] { 200, 7, 255 })).Initializer("starts", new long[] { 1 }, 1).Initializer("ends", new long[] { 3 }, 1)
            .Node("Sub", new[] { "q", "k" }, new[] { "relative" })
            .Node("Cast", new[] { "relative" }, new[] { "relativeFloat" }, ("to", (long)DataType.Float))
            .Node("Add", new[] { "x", "relativeFloat" }, new[] { "y" })
            .Node("Slice", new[] { "bytes", "starts", "ends" }, new[] { "picked" })
            .Node("Add", new[] { "b", "picked" }, new[] { "z" })
            .Output("y", DataType.Float).Output("z", DataType.UInt8).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { Floats(21, 4, 4), (new[] { 2 }, (Array)new byte[] { 1, 2 }) });
    }

    [Fact]
    public void LargeConstantOfShapeFillsAtRunTime()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 100, 100)
            .Initializer("shape", new long[] { 100, 100 }, 2)
            .Node("ConstantOfShape", new[] { "shape" }, new[] { "c" }, ("value", new Tensor(DataType.Float, new[] { 1 }, new[] { 0.25f })))
            .Node("Mul", new[] { "x", "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(17, 100, 100));
    }

    [Fact]
    public void RepeatingAConstantIntoALargeTensorMatchesOnnxRuntime()
    {
        // Too large to fold: Expand and Tile of the constant run at run time from the small constant.
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 100, 64)
            .Initializer("c", Differential.RandomFloats(19, 64), 1, 64).Initializer("shape", new long[] { 100, 1 }, 2).Initializer("repeats", new long[] { 100, 1 }, 2)
            .Node("Expand", new[] { "c", "shape" }, new[] { "e" })
            .Node("Tile", new[] { "c", "repeats" }, new[] { "t" })
            .Node("Add", new[] { "x", "e" }, new[] { "y" })
            .Output("y", DataType.Float).Output("t", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(20, 100, 64));
    }

    [Fact]
    public void IdentityAndDropoutAsGraphOutputsMatchOnnxRuntime()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 3, 4)
            .Node("Identity", new[] { "x" }, new[] { "i" })
            .Node("Dropout", new[] { "x" }, new[] { "d", "mask" })
            .Output("i", DataType.Float).Output("d", DataType.Float).Output("mask", DataType.Bool).ToBytes();
        Differential.AssertAgrees(model, inputs: Floats(18, 3, 4));
    }

    [Fact]
    public void DropoutInTrainingModeIsUnsupported()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 3, 4)
            .Initializer("ratio", new Tensor(DataType.Float, Array.Empty<int>(), new[] { 0.5f }))
            .Initializer("training", new Tensor(DataType.Bool, Array.Empty<int>(), new[] { true }))
            .Node("Dropout", new[] { "x", "ratio", "training" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.Id == AotInfer.Compiler.DiagnosticIds.UnsupportedFeature && d.Message.Contains("training mode"));
    }

    [Theory]
    [InlineData(DataType.BFloat16)]
    [InlineData(DataType.String)]
    public void CastToTypesWithoutRunTimeSupportIsADiagnostic(DataType to)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 3)
            .Node("Cast", new[] { "x" }, new[] { "y" }, ("to", (long)to))
            .Output("y", to).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains($"casting to {to}"));
    }

    /// <summary>Official node tests whose shape-like inputs are baked in as constants (the indices listed).</summary>
    [Theory]
    [InlineData("test_reshape_allowzero_reordered", 1)]
    [InlineData("test_reshape_extended_dims", 1)]
    [InlineData("test_reshape_negative_dim", 1)]
    [InlineData("test_reshape_negative_extended_dims", 1)]
    [InlineData("test_reshape_one_dim", 1)]
    [InlineData("test_reshape_reduced_dims", 1)]
    [InlineData("test_reshape_reordered_all_dims", 1)]
    [InlineData("test_reshape_reordered_last_dims", 1)]
    [InlineData("test_reshape_zero_and_negative_dim", 1)]
    [InlineData("test_reshape_zero_dim", 1)]
    [InlineData("test_squeeze", 1)]
    [InlineData("test_squeeze_negative_axes", 1)]
    [InlineData("test_unsqueeze_axis_0", 1)]
    [InlineData("test_unsqueeze_axis_1", 1)]
    [InlineData("test_unsqueeze_axis_2", 1)]
    [InlineData("test_unsqueeze_negative_axes", 1)]
    [InlineData("test_unsqueeze_three_axes", 1)]
    [InlineData("test_unsqueeze_two_axes", 1)]
    [InlineData("test_unsqueeze_unsorted_axes", 1)]
    [InlineData("test_slice", 1, 2, 3, 4)]
    [InlineData("test_slice_default_axes", 1, 2)]
    [InlineData("test_slice_default_steps", 1, 2, 3)]
    [InlineData("test_slice_end_out_of_bounds", 1, 2, 3, 4)]
    [InlineData("test_slice_neg", 1, 2, 3, 4)]
    [InlineData("test_slice_neg_steps", 1, 2, 3, 4)]
    [InlineData("test_slice_negative_axes", 1, 2, 3)]
    [InlineData("test_slice_start_out_of_bounds", 1, 2, 3, 4)]
    [InlineData("test_split_variable_parts_1d_opset13", 1)]
    [InlineData("test_split_variable_parts_1d_opset18", 1)]
    [InlineData("test_split_variable_parts_2d_opset13", 1)]
    [InlineData("test_split_variable_parts_2d_opset18", 1)]
    [InlineData("test_split_variable_parts_default_axis_opset13", 1)]
    [InlineData("test_split_variable_parts_default_axis_opset18", 1)]
    [InlineData("test_split_zero_size_splits_opset13", 1)]
    [InlineData("test_split_zero_size_splits_opset18", 1)]
    [InlineData("test_tile", 1)]
    [InlineData("test_tile_precomputed", 1)]
    [InlineData("test_expand_dim_changed", 1)]
    [InlineData("test_expand_dim_unchanged", 1)]
    [InlineData("test_constantofshape_float_ones", 0)]
    [InlineData("test_constantofshape_int_shape_zero", 0)]
    [InlineData("test_constantofshape_int_zeros", 0)]
    [InlineData("test_range_float_type_positive_delta", 0, 1, 2)]
    [InlineData("test_range_float16_type_positive_delta", 0, 1, 2)]
    [InlineData("test_range_int32_type_negative_delta", 0, 1, 2)]
    public void NodeTestWithConstantShapeInputsPasses(string name, params int[] constantInputs) =>
        NodeTestRunner.AssertPasses(name, constantInputs);
}
