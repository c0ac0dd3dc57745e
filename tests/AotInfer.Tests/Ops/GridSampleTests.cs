using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>GridSample against ONNX Runtime; grids reach outside [-1, 1] to exercise the padding modes.</summary>
public class GridSampleTests
{
    [Theory]
    [InlineData("bilinear", "zeros", 0)]
    [InlineData("bilinear", "border", 1)]
    [InlineData("bilinear", "reflection", 0)]
    [InlineData("bicubic", "zeros", 1)]
    [InlineData("nearest", "border", 0)]
    public void GridSampleMatchesOnnxRuntime(string mode, string padding, long alignCorners)
    {
        var model = new OnnxModelBuilder(16)
            .Input("x", DataType.Float, 2, 3, 5, 6).Input("grid", DataType.Float, 2, 4, 7, 2)
            .Node("GridSample", new[] { "x", "grid" }, new[] { "y" }, ("mode", mode), ("padding_mode", padding), ("align_corners", alignCorners))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 2, 3, 5, 6 }, (System.Array)Differential.RandomFloats(11, 180)),
            (new[] { 2, 4, 7, 2 }, (System.Array)Differential.RandomFloats(12, 112, -1.3f, 1.3f)),
        });
    }
}
