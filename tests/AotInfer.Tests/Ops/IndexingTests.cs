using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Gather, GatherElements, GatherND, Pad, Trilu, DepthToSpace and SpaceToDepth against ONNX Runtime, random inputs with fixed seeds.</summary>
public class IndexingTests
{
    internal static long[] RandomLongs(int seed, int count, long lo, long hi)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextInt64(lo, hi)).ToArray();
    }

    static (int[], Array) In(int[] shape, Array data) => (shape, data);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    public void GatherWithNegativeInt64IndicesOnAnyAxis(int axis)
    {
        int[] dataShape = { 3, 4, 5 };
        int size = dataShape[axis < 0 ? axis + 3 : axis];
        var model = new OnnxModelBuilder(13)
            .Input("data", DataType.Float, dataShape).Input("indices", DataType.Int64, 2, 3)
            .Node("Gather", new[] { "data", "indices" }, new[] { "y" }, ("axis", (long)axis))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            In(dataShape, Differential.RandomFloats(1, 60)),
            In(new[] { 2, 3 }, RandomLongs(2, 6, -size, size)),
        });
    }

    [Fact]
    public void GatherWithScalarInt32IndexRemovesTheAxis()
    {
        var model = new OnnxModelBuilder(13)
            .Input("data", DataType.Float, 4, 6).Input("index", DataType.Int32)
            .Node("Gather", new[] { "data", "index" }, new[] { "y" }, ("axis", 1L))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 4, 6 }, Differential.RandomFloats(3, 24)), In(Array.Empty<int>(), new[] { -2 }) });
    }

    [Fact]
    public void GatherOfConstantsFoldsAtCompileTime()
    {
        // Shape sub-graphs gather from constants; the Gather must disappear and leave only the Add.
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Int64, 2)
            .Initializer("shape", new long[] { 7, 8, 9 }, 3)
            .Initializer("picks", new long[] { -1, 0 }, 2)
            .Node("Gather", new[] { "shape", "picks" }, new[] { "picked" })
            .Node("Add", new[] { "x", "picked" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions());
        Assert.True(compiled.Success, string.Join(" | ", compiled.Diagnostics));
        Assert.Single(compiled.Graph!.Nodes);
        Differential.AssertAgrees(model, inputs: In(new[] { 2 }, new long[] { 100, 200 }));
    }

    [Fact]
    public void GatherRejectsFloatIndices()
    {
        var model = new OnnxModelBuilder(13)
            .Input("data", DataType.Float, 4).Input("indices", DataType.Float, 2)
            .Node("Gather", new[] { "data", "indices" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(compiled.Success);
        Assert.Contains(compiled.Diagnostics, d => d.ToString().Contains("indices must be int32 or int64"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void GatherElementsMatchesOnnxRuntime(int axis)
    {
        int[] dataShape = { 3, 4 }, indexShape = { 2, 3 };
        int size = dataShape[axis < 0 ? axis + 2 : axis];
        var model = new OnnxModelBuilder(13)
            .Input("data", DataType.Float, dataShape).Input("indices", DataType.Int64, indexShape)
            .Node("GatherElements", new[] { "data", "indices" }, new[] { "y" }, ("axis", (long)axis))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(dataShape, Differential.RandomFloats(4, 12)), In(indexShape, RandomLongs(5, 6, -size, size)) });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void GatherNDMatchesOnnxRuntime(int batchDims)
    {
        int[] dataShape = { 2, 3, 4, 5 };
        int[] indexShape = batchDims == 0 ? new[] { 4, 2 } : new[] { 2, 3, 2 };
        int count = indexShape.Aggregate(1, (a, b) => a * b);
        // Every coordinate stays within [-3, 3), valid for the dimensions each tuple addresses.
        var indices = RandomLongs(6, count, -2, 2);
        var model = new OnnxModelBuilder(13)
            .Input("data", DataType.Float, dataShape).Input("indices", DataType.Int64, indexShape)
            .Node("GatherND", new[] { "data", "indices" }, new[] { "y" }, ("batch_dims", (long)batchDims))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(dataShape, Differential.RandomFloats(7, 120)), In(indexShape, indices) });
    }

    [Theory]
    [InlineData("constant", new long[] { 1, 0, 2, 3, 1, 0 })]
    [InlineData("constant", new long[] { -1, 2, 0, 1, -2, 3 })]
    [InlineData("reflect", new long[] { 1, 2, 3, 1, 0, 3 })]
    [InlineData("edge", new long[] { 2, 0, 1, 0, 3, 2 })]
    [InlineData("wrap", new long[] { 1, 3, 2, 2, 1, 4 })]
    [InlineData("edge", new long[] { 1, -1, 2, 0, 2, -1 })]
    public void PadMatchesOnnxRuntime(string mode, long[] pads)
    {
        int[] shape = { 3, 4, 5 };
        var model = new OnnxModelBuilder(19)
            .Input("x", DataType.Float, shape)
            .Initializer("pads", pads, pads.Length)
            .Initializer("value", new[] { 2.5f })
            .Node("Pad", new[] { "x", "pads", mode == "constant" ? "value" : "" }, new[] { "y" }, ("mode", mode))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: In(shape, Differential.RandomFloats(8, 60)));
    }

    [Fact]
    public void PadWithAxesInputPadsOnlyThoseAxes()
    {
        var model = new OnnxModelBuilder(18)
            .Input("x", DataType.Float, 2, 3, 4)
            .Initializer("pads", new long[] { 2, 1, 3, 0 }, 4)
            .Initializer("axes", new long[] { -1, 0 }, 2)
            .Node("Pad", new[] { "x", "pads", "", "axes" }, new[] { "y" }, ("mode", "reflect"))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: In(new[] { 2, 3, 4 }, Differential.RandomFloats(9, 24)));
    }

    [Fact]
    public void PadBeforeOpset11TakesPadsAndValueAttributes()
    {
        var model = new OnnxModelBuilder(10)
            .Input("x", DataType.Float, 3, 4)
            .Node("Pad", new[] { "x" }, new[] { "y" }, ("pads", new long[] { 0, 2, 1, 1 }), ("value", -1.5f))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: In(new[] { 3, 4 }, Differential.RandomFloats(10, 12)));
    }

    [Fact]
    public void PadOfConstantIntegersFolds()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Int64, 5)
            .Initializer("shape", new long[] { 4, 5, 6 }, 3)
            .Initializer("pads", new long[] { 1, 1 }, 2)
            .Node("Pad", new[] { "shape", "pads" }, new[] { "padded" }, ("mode", "edge"))
            .Node("Mul", new[] { "x", "padded" }, new[] { "y" })
            .Output("y", DataType.Int64).ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions());
        Assert.Single(compiled.Graph!.Nodes);
        Differential.AssertAgrees(model, inputs: In(new[] { 5 }, new long[] { 1, 2, 3, 4, 5 }));
    }

    [Fact]
    public void PadFailsWhenPadsAreNotConstant()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 3).Input("pads", DataType.Int64, 2)
            .Node("Pad", new[] { "x", "pads" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var compiled = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(compiled.Success);
        Assert.Contains(compiled.Diagnostics, d => d.ToString().Contains("pads"));
    }

    [Theory]
    [InlineData(1L, 0L)]
    [InlineData(1L, 2L)]
    [InlineData(0L, -1L)]
    [InlineData(0L, 3L)]
    public void TriluMatchesOnnxRuntime(long upper, long k)
    {
        var model = new OnnxModelBuilder(14)
            .Input("x", DataType.Float, 2, 4, 5).Input("k", DataType.Int64)
            .Node("Trilu", new[] { "x", "k" }, new[] { "y" }, ("upper", upper))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { In(new[] { 2, 4, 5 }, Differential.RandomFloats(11, 40)), In(Array.Empty<int>(), new[] { k }) });
    }

    [Theory]
    [InlineData("DepthToSpace", "DCR")]
    [InlineData("DepthToSpace", "CRD")]
    [InlineData("SpaceToDepth", "")]
    public void DepthSpaceMatchesOnnxRuntime(string op, string mode)
    {
        int[] shape = op == "DepthToSpace" ? new[] { 2, 8, 3, 2 } : new[] { 2, 3, 4, 6 };
        var attributes = mode.Length > 0 ? new (string, object)[] { ("blocksize", 2L), ("mode", mode) } : new (string, object)[] { ("blocksize", 2L) };
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, shape)
            .Node(op, new[] { "x" }, new[] { "y" }, attributes)
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: In(shape, Differential.RandomFloats(12, shape.Aggregate(1, (a, b) => a * b))));
    }
}
