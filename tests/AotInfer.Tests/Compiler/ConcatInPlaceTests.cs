using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;
using static AotInfer.Tests.Compiler.FusionPassTests;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// The arena planner lets the producers of a Concat's inputs write straight into the Concat's output (squeezenet's
/// fire modules) where that is safe, and not where it is not: graph outputs and inputs, inputs read twice, an input
/// that is itself a Concat, another axis, a batch above 1, a slice off the arena's alignment. Every model still agrees
/// with ONNX Runtime on random inputs (fixed seeds).
/// </summary>
public class ConcatInPlaceTests
{
    /// <summary>
    /// x [batch, 8, size, size] → e1 = Conv 1×1 (8 → <paramref name="e1Channels"/>), e3 = Conv 3×3 pad 1 (8 → 16) → Concat along
    /// <paramref name="axis"/> → cat, in the given order, then y = Conv 1×1 of cat (so that cat is an arena tensor)
    /// unless <paramref name="catIsOutput"/>. <paramref name="extra"/> adds nodes and outputs; <paramref name="concatInputs"/>
    /// replaces the Concat's inputs (of <paramref name="catChannels"/> channels in all).
    /// </summary>
    static byte[] Fire(bool oneByOneFirst = true, int axis = 1, int batch = 1, int size = 8, bool catIsOutput = false,
                       Func<OnnxModelBuilder, OnnxModelBuilder>? extra = null, string[]? concatInputs = null, int catChannels = 32, int e1Channels = 16)
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, batch, 8, size, size)
            .Initializer("w1", Differential.RandomFloats(51, e1Channels * 8), e1Channels, 8, 1, 1)
            .Initializer("w3", Differential.RandomFloats(52, 16 * 8 * 9), 16, 8, 3, 3)
            .Node("Conv", new[] { "x", "w1" }, new[] { "e1" })
            .Node("Conv", new[] { "x", "w3" }, new[] { "e3" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Concat", concatInputs ?? (oneByOneFirst ? new[] { "e1", "e3" } : new[] { "e3", "e1" }), new[] { "cat" }, ("axis", (long)axis));
        if (extra is not null) b = extra(b);
        if (catIsOutput) return b.Output("cat", DataType.Float).ToBytes();
        int channels = axis == 1 ? catChannels : 16;
        return b.Initializer("wy", Differential.RandomFloats(53, 4 * channels), 4, channels, 1, 1)
            .Node("Conv", new[] { "cat", "wy" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
    }

    /// <summary>Names of the values written in place, sorted, after checking the model against ONNX Runtime.</summary>
    static string[] InPlace(byte[] model, int batch = 1, int size = 8, params (int[] Shape, Array Data)[] moreInputs)
    {
        Differential.AssertAgrees(model, 1e-4, 1e-4, new[] { Input(54, batch, 8, size, size) }.Concat(moreInputs).ToArray());
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        return result.Arena!.WrittenInPlace.Keys.Select(v => v.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BothExpandConvolutionsWriteIntoTheConcatAndItCopiesNothing(bool oneByOneFirst)
    {
        var model = Fire(oneByOneFirst);
        Assert.Equal(new[] { "e1", "e3" }, InPlace(model));
        var source = ModelCompiler.Compile(model, new CompileOptions()).Source!;
        Assert.DoesNotContain("BlockCopy", source);
        Assert.Contains("written in place by its producer", source);
    }

    [Fact]
    public void NotWhenTheConcatIsAGraphOutput() => Assert.Empty(InPlace(Fire(catIsOutput: true)));

    [Fact]
    public void NotForAnInputReadTwice() =>
        Assert.Equal(new[] { "e3" }, InPlace(Fire(extra: b => b.Node("Relu", new[] { "e1" }, new[] { "r" }).Output("r", DataType.Float))));

    [Fact]
    public void NotForAGraphInput() =>
        Assert.Equal(new[] { "e3" }, InPlace(Fire(concatInputs: new[] { "x2", "e3" }, extra: b => b.Input("x2", DataType.Float, 1, 16, 8, 8)),
            moreInputs: Input(55, 1, 16, 8, 8)));

    [Fact]
    public void NotForAnInputThatIsItselfAConcat()
    {
        // inner = Concat(e1, e3) is the first input of cat = Concat(inner, e5): only inner's own inputs are written in place,
        // and e5 into cat.
        var model = Fire(concatInputs: new[] { "inner", "e5" }, catChannels: 48, extra: b => b
            .Initializer("w5", Differential.RandomFloats(56, 16 * 8), 16, 8, 1, 1)
            .Node("Concat", new[] { "e1", "e3" }, new[] { "inner" }, ("axis", 1L))
            .Node("Conv", new[] { "x", "w5" }, new[] { "e5" }));
        Assert.Equal(new[] { "e1", "e3", "e5" }, InPlace(model));
    }

    [Fact]
    public void NotAlongAnotherAxis() => Assert.Empty(InPlace(Fire(axis: 2)));

    [Fact]
    public void NotForABatchAboveOne() => Assert.Empty(InPlace(Fire(batch: 2), batch: 2));

    [Fact]
    public void NotForASliceOffTheArenaAlignment() =>
        // 3 channels of 5×5 floats are 300 bytes: e3 would start 300 bytes in, not a multiple of 64.
        Assert.Equal(new[] { "e1" }, InPlace(Fire(size: 5, e1Channels: 3, catChannels: 19), size: 5));
}
