using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;
using static AotInfer.Tests.Compiler.FusionPassTests;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// The arena planner places the input of a Flatten / Reshape / Squeeze / Unsqueeze in the view's output when only the
/// view reads it, so the view copies nothing (burn-mnist's Conv → Flatten → Gemm), and not when the input has another
/// reader, is a graph input or output, or comes from another view or a Concat. Every model still agrees with ONNX
/// Runtime on random inputs (fixed seeds).
/// </summary>
public class ViewInPlaceTests
{
    /// <summary>x [1, 4, 6, 6] → Conv 3×3 pad 1 (4 → 8) → c → <paramref name="view"/> → v → Gemm (or MatMul) → y, plus <paramref name="extra"/>.</summary>
    static byte[] ConvViewGemm(Func<OnnxModelBuilder, OnnxModelBuilder> view, Func<OnnxModelBuilder, OnnxModelBuilder>? extra = null)
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 4, 6, 6)
            .Initializer("w", Differential.RandomFloats(91, 8 * 4 * 9), 8, 4, 3, 3)
            .Node("Conv", new[] { "x", "w" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }));
        b = view(b)
            .Initializer("g", Differential.RandomFloats(92, 288 * 5), 288, 5)
            .Node("Gemm", new[] { "v", "g" }, new[] { "y" });
        if (extra is not null) b = extra(b);
        return b.Output("y", DataType.Float).ToBytes();
    }

    /// <summary>Names of the values placed in place, sorted, and the generated source, after checking the model against ONNX Runtime.</summary>
    static (string[] Names, string Source) InPlace(byte[] model)
    {
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(93, 1, 4, 6, 6));
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        return (result.Arena!.WrittenInPlace.Keys.Select(v => v.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray(), result.Source!);
    }

    [Fact]
    public void FlattenOfAConvCopiesNothing()
    {
        var (names, source) = InPlace(ConvViewGemm(b => b.Node("Flatten", new[] { "c" }, new[] { "v" })));
        Assert.Equal(new[] { "c" }, names);
        Assert.Contains("the input already lives in the output's bytes", source);
    }

    [Fact]
    public void ReshapeOfAConvCopiesNothing()
    {
        var model = ConvViewGemm(b => b.Initializer("shape", new long[] { 1, 288 }, 2).Node("Reshape", new[] { "c", "shape" }, new[] { "v" }));
        Assert.Equal(new[] { "c" }, InPlace(model).Names);
    }

    [Fact]
    public void InputWithAnotherReaderIsCopied()
    {
        var model = ConvViewGemm(b => b.Node("Flatten", new[] { "c" }, new[] { "v" }),
            b => b.Node("Relu", new[] { "c" }, new[] { "r" }).Output("r", DataType.Float));
        var (names, source) = InPlace(model);
        Assert.Empty(names);
        Assert.DoesNotContain("the input already lives in the output's bytes", source);
    }

    [Fact]
    public void ViewOfAViewPlacesOnlyTheFirst()
    {
        // c → Reshape [1, 8, 36] → u → Flatten → v: u comes from a view, so only c is placed (in u).
        var model = ConvViewGemm(b => b.Initializer("shape", new long[] { 1, 8, 36 }, 3)
            .Node("Reshape", new[] { "c", "shape" }, new[] { "u" })
            .Node("Flatten", new[] { "u" }, new[] { "v" }));
        Assert.Equal(new[] { "c" }, InPlace(model).Names);
    }

    [Fact]
    public void GraphInputIsCopied()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 4, 6, 6)
            .Node("Flatten", new[] { "x" }, new[] { "v" })
            .Initializer("g", Differential.RandomFloats(94, 144 * 5), 144, 5)
            .Node("Gemm", new[] { "v", "g" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Empty(InPlace(model).Names);
    }
}
