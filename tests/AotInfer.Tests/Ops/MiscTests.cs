using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Where, OneHot, Clip, CumSum, Sum/Mean/Max/Min, Mod, Pow and Gelu against ONNX Runtime, random inputs with fixed seeds.</summary>
public class MiscTests
{
    static (int[], Array) In(int[] shape, Array data) => (shape, data);

    static int[] RandomInts(int seed, int count, int lo, int hi)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(lo, hi)).ToArray();
    }

    [Fact]
    public void WhereBroadcastsThreeInputs()
    {
        var random = new Random(20);
        var condition = Enumerable.Range(0, 4).Select(_ => random.Next(2) == 1).ToArray();
        var model = new OnnxModelBuilder(16)
            .Input("c", DataType.Bool, 4, 1).Input("x", DataType.Float, 3).Input("y", DataType.Float, 2, 1, 1)
            .Node("Where", new[] { "c", "x", "y" }, new[] { "z" })
            .Output("z", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            In(new[] { 4, 1 }, condition), In(new[] { 3 }, Differential.RandomFloats(21, 3)), In(new[] { 2, 1, 1 }, Differential.RandomFloats(22, 2)),
        });
    }

    [Fact]
    public void WhereOfConstantsFolds()
    {
        var model = new OnnxModelBuilder(16)
            .Input("x", DataType.Int64, 3)
            .Initializer("c", new Tensor(DataType.Bool, new[] { 3 }, new[] { true, false, true }))
            .Initializer("a", new long[] { 1, 2, 3 }, 3)
            .Initializer("b", new long[] { -7 })
            .Node("Where", new[] { "c", "a", "b" }, new[] { "w" })
            .Node("Add", new[] { "x", "w" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        Assert.Single(ModelCompiler.Compile(model, new CompileOptions()).Graph!.Nodes);
        Differential.AssertAgrees(model, inputs: In(new[] { 3 }, new long[] { 10, 20, 30 }));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void OneHotWithNegativeAndOutOfRangeIndices(int axis)
    {
        var model = new OnnxModelBuilder(11)
            .Input("indices", DataType.Int64, 2, 3)
            .Initializer("depth", new long[] { 5 })
            .Initializer("values", new[] { -1f, 3f }, 2)
            .Node("OneHot", new[] { "indices", "depth", "values" }, new[] { "y" }, ("axis", (long)axis))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: In(new[] { 2, 3 }, new long[] { 0, -1, 4, 7, -5, -6 }));
    }

    [Fact]
    public void OneHotWithFloatIndicesMatchesOnnxRuntime()
    {
        var model = FloatOneHot();
        Differential.AssertAgrees(model, inputs: In(new[] { 4 }, new[] { 0f, 2f, -1f, 3f }));
    }

    [Fact]
    public void OneHotTruncatesFractionalFloatIndices()
    {
        // The spec casts non-integer indices to int64; ONNX Runtime compares them for equality instead, so this
        // case is checked against the spec rather than against ONNX Runtime.
        var y = (float[])Differential.RunAotInfer(FloatOneHot(), new[] { 0.7f, 2.2f, -1.5f, 1f })[0];
        Assert.Equal(new[] { 1f, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0 }, y);
    }

    static byte[] FloatOneHot() => new OnnxModelBuilder(11)
        .Input("indices", DataType.Float, 4)
        .Initializer("depth", new[] { 3f })
        .Initializer("values", new[] { 0f, 1f }, 2)
        .Node("OneHot", new[] { "indices", "depth", "values" }, new[] { "y" })
        .Output("y", DataType.Float).ToBytes();

    [Fact]
    public void ClipBeforeOpset11UsesAttributes()
    {
        var model = new OnnxModelBuilder(6)
            .Input("x", DataType.Float, 20)
            .Node("Clip", new[] { "x" }, new[] { "y" }, ("min", -0.3f), ("max", 0.4f))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: In(new[] { 20 }, Differential.RandomFloats(23, 20)));
    }

    [Fact]
    public void ClipWithOnlyAMaxInputOnIntegers()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Int32, 30).Input("max", DataType.Int32)
            .Node("Clip", new[] { "x", "", "max" }, new[] { "y" })
            .Output("y", DataType.Int32).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 30 }, RandomInts(24, 30, -50, 50)), In(Array.Empty<int>(), new[] { 7 }) });
    }

    [Fact]
    public void ClipWithMinAboveMaxGivesMax()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 10)
            .Initializer("min", new[] { 0.5f }).Initializer("max", new[] { -0.5f })
            .Node("Clip", new[] { "x", "min", "max" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var y = Differential.RunAotInfer(model, Differential.RandomFloats(25, 10));
        Assert.All((float[])y[0], v => Assert.Equal(-0.5f, v));
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 1, 0)]
    [InlineData(-1, 0, 1)]
    [InlineData(2, 1, 1)]
    public void CumSumMatchesOnnxRuntime(int axis, int exclusive, int reverse)
    {
        var model = new OnnxModelBuilder(14)
            .Input("x", DataType.Float, 2, 3, 4).Input("axis", DataType.Int32)
            .Node("CumSum", new[] { "x", "axis" }, new[] { "y" }, ("exclusive", (long)exclusive), ("reverse", (long)reverse))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 2, 3, 4 }, Differential.RandomFloats(26, 24)), In(Array.Empty<int>(), new[] { axis }) });
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 1, 0)]
    [InlineData(-1, 0, 1)]
    [InlineData(2, 1, 1)]
    public void CumProdMatchesOnnxRuntime(int axis, int exclusive, int reverse)
    {
        var model = new OnnxModelBuilder(26)
            .Input("x", DataType.Float, 2, 3, 4).Input("axis", DataType.Int32)
            .Node("CumProd", new[] { "x", "axis" }, new[] { "y" }, ("exclusive", (long)exclusive), ("reverse", (long)reverse))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 2, 3, 4 }, Differential.RandomFloats(27, 24, 0.5f, 1.5f)), In(Array.Empty<int>(), new[] { axis }) });
    }

    [Fact]
    public void ConstantCumProdFolds()
    {
        // An int64 CumProd of constants folds at compile time (exclusive and reversed: starts from 1 at the end).
        var model = new OnnxModelBuilder(26)
            .Input("x", DataType.Int64, 2, 3)
            .Initializer("c", new long[] { 2, -3, 4, 5, 6, -7 }, 2, 3).Initializer("axis", new long[] { 1 })
            .Node("CumProd", new[] { "c", "axis" }, new[] { "p" }, ("exclusive", 1L), ("reverse", 1L))
            .Node("Add", new[] { "x", "p" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 2, 3 }, new long[] { 1, 2, 3, 4, 5, 6 }) });
    }

    [Theory]
    [InlineData("Sum")]
    [InlineData("Mean")]
    [InlineData("Max")]
    [InlineData("Min")]
    public void VariadicOpsBroadcastThreeInputs(string op)
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Float, 3, 1).Input("b", DataType.Float, 2, 1, 4).Input("c", DataType.Float, 4)
            .Node(op, new[] { "a", "b", "c" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            In(new[] { 3, 1 }, Differential.RandomFloats(27, 3)), In(new[] { 2, 1, 4 }, Differential.RandomFloats(28, 8)), In(new[] { 4 }, Differential.RandomFloats(29, 4)),
        });
    }

    [Theory]
    [InlineData("Max")]
    [InlineData("Min")]
    public void MaxMinOnIntegers(string op)
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Int32, 12).Input("b", DataType.Int32, 1)
            .Node(op, new[] { "a", "b" }, new[] { "y" })
            .Output("y", DataType.Int32).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 12 }, RandomInts(30, 12, -9, 9)), In(new[] { 1 }, new[] { 2 }) });
    }

    [Fact]
    public void IntegerModFollowsTheDivisorSign()
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Int64, 4, 5).Input("b", DataType.Int64, 5)
            .Node("Mod", new[] { "a", "b" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 4, 5 }, IndexingTests.RandomLongs(31, 20, -40, 40)), In(new[] { 5 }, new long[] { 3, -3, 7, -8, 1 }) });
    }

    [Fact]
    public void FloatFmodFollowsTheDividendSign()
    {
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Float, 12).Input("b", DataType.Float, 12)
            .Node("Mod", new[] { "a", "b" }, new[] { "y" }, ("fmod", 1L))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 12 }, Differential.RandomFloats(32, 12, -10, 10)), In(new[] { 12 }, Differential.RandomFloats(33, 12, -3, 3)) });
    }

    [Fact]
    public void FloatModWithoutFmodIsNumpyMod()
    {
        // ONNX Runtime rejects fmod=0 on floats; the reference is numpy.mod (the sign of the divisor).
        var model = new OnnxModelBuilder(13)
            .Input("a", DataType.Float, 4).Input("b", DataType.Float, 4)
            .Node("Mod", new[] { "a", "b" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var y = (float[])Differential.RunAotInfer(model, new[] { 5.5f, -5.5f, 5.5f, -5.5f }, new[] { 2f, 2f, -2f, -2f })[0];
        Assert.Equal(new[] { 1.5f, 0.5f, -0.5f, -1.5f }, y);
    }

    [Theory]
    [InlineData(DataType.Int32, DataType.Int32)]
    [InlineData(DataType.Int64, DataType.Int64)]
    [InlineData(DataType.Int32, DataType.Float)]
    [InlineData(DataType.Float, DataType.Int64)]
    [InlineData(DataType.Float, DataType.Int32)]
    public void PowWithMixedTypes(DataType baseType, DataType exponentType)
    {
        Array Values(DataType type, int seed, int lo, int hi) => type switch
        {
            DataType.Int32 => RandomInts(seed, 12, lo, hi),
            DataType.Int64 => RandomInts(seed, 12, lo, hi).Select(v => (long)v).ToArray(),
            _ => RandomInts(seed, 12, lo, hi).Select(v => v * 0.5f).ToArray(),
        };
        var model = new OnnxModelBuilder(15)
            .Input("x", baseType, 3, 4).Input("y", exponentType, 4)
            .Node("Pow", new[] { "x", "y" }, new[] { "z" })
            .Output("z", baseType).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 3, 4 }, Values(baseType, 34, 1, 6)), In(new[] { 4 }, Slice(Values(exponentType, 35, 0, 5), 4)) });
    }

    static Array Slice(Array source, int count)
    {
        var result = Array.CreateInstance(source.GetType().GetElementType()!, count);
        Array.Copy(source, result, count);
        return result;
    }

    [Fact]
    public void IntegerPowIsExactBeyondDoublePrecision()
    {
        var model = new OnnxModelBuilder(15)
            .Input("x", DataType.Int64, 2).Input("y", DataType.Int64, 2)
            .Node("Pow", new[] { "x", "y" }, new[] { "z" })
            .Output("z", DataType.Int64).ToBytes();
        var z = (long[])Differential.RunAotInfer(model, new long[] { 3, 2 }, new long[] { 39, -1 })[0];
        Assert.Equal(new[] { 4052555153018976267L, 0L }, z);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("tanh")]
    public void GeluMatchesOnnxRuntime(string approximate)
    {
        var model = new OnnxModelBuilder(20)
            .Input("x", DataType.Float, 6, 7)
            .Node("Gelu", new[] { "x" }, new[] { "y" }, ("approximate", approximate))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: In(new[] { 6, 7 }, Differential.RandomFloats(36, 42, -5, 5)));
    }

    [Fact]
    public void GeluRejectsUnknownApproximation()
    {
        var model = new OnnxModelBuilder(20)
            .Input("x", DataType.Float, 3)
            .Node("Gelu", new[] { "x" }, new[] { "y" }, ("approximate", "sigmoid"))
            .Output("y", DataType.Float).ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(compiled.Success);
        Assert.Contains(compiled.Diagnostics, d => d.ToString().Contains("approximate 'sigmoid'"));
    }

    [Fact]
    public void ConstantShapeArithmeticFolds()
    {
        // Max, Clip and CumSum over constant int64 shapes fold away, leaving only the Mul.
        var model = new OnnxModelBuilder(14)
            .Input("x", DataType.Int64, 3)
            .Initializer("a", new long[] { 4, 1, 9 }, 3).Initializer("b", new long[] { 2 }, 1)
            .Initializer("lo", new long[] { 3 }).Initializer("axis", new long[] { 0 })
            .Node("Max", new[] { "a", "b" }, new[] { "m" })
            .Node("Clip", new[] { "m", "lo" }, new[] { "c" })
            .Node("CumSum", new[] { "c", "axis" }, new[] { "s" })
            .Node("Mul", new[] { "x", "s" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        Assert.Single(ModelCompiler.Compile(model, new CompileOptions()).Graph!.Nodes);
        Differential.AssertAgrees(model, inputs: In(new[] { 3 }, new long[] { 1, 2, 3 }));
    }
}
