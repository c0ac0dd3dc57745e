using System;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>Inputs that decide shapes can be fixed at compile time; the generated code then insists on that value.</summary>
public class FixedInputValueTests
{
    static byte[] CropModel() => new OnnxModelBuilder(18)
        .Input("x", DataType.Float, 4, 6).Input("shape", DataType.Int64, 2)
        .Node("CenterCropPad", new[] { "x", "shape" }, new[] { "y" })
        .Output("y", DataType.Float).ToBytes();

    [Fact]
    public void WithoutAFixedValueTheShapeInputIsReported()
    {
        var result = ModelCompiler.Compile(CropModel(), new CompileOptions());
        Assert.False(result.Success);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.ValueNotConstant, diagnostic.Id);
        Assert.Contains("graph input 'shape'", diagnostic.Message);
        Assert.Contains("CenterCropPad", diagnostic.Message);
    }

    [Fact]
    public void FixedValueIsUsedAndCheckedAtRunTime()
    {
        var fixedShape = Tensor.FromInt64(new long[] { 2, 8 }, 2);
        var model = Differential.CompileModel(CropModel(), configure: o => o.InputValues["shape"] = fixedShape);
        var x = new float[24];
        for (int i = 0; i < x.Length; i++) x[i] = i;
        var y = new float[16];
        model.Run(new Array[] { x, new long[] { 2, 8 } }, new Array[] { y });
        // Rows 1..2 of the 4x6 input, each padded by one zero on both sides to width 8.
        Assert.Equal(new float[] { 0, 6, 7, 8, 9, 10, 11, 0, 0, 12, 13, 14, 15, 16, 17, 0 }, y);

        var error = Assert.Throws<ArgumentException>(() => model.Run(new Array[] { x, new long[] { 2, 7 } }, new Array[] { y }));
        Assert.Contains("'shape' was fixed", error.Message);
    }
}
