using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Compiler.Ops.Resize;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Resize and Upsample against ONNX Runtime on random inputs with fixed seeds, plus sampling-table edges.</summary>
public class ResizeTests
{
    static readonly Tensor NoRoi = new(DataType.Float, new[] { 0 }, Array.Empty<float>());
    static readonly Tensor NoScales = new(DataType.Float, new[] { 0 }, Array.Empty<float>());

    static void AssertResizeAgrees(int opset, int[] inputShape, float[]? scales, long[]? sizes, float[]? roi, int seed,
        params (string Name, object Value)[] attributes)
    {
        var builder = new OnnxModelBuilder(opset)
            .Input("x", DataType.Float, inputShape)
            .Initializer("roi", roi is null ? NoRoi : new Tensor(DataType.Float, new[] { roi.Length }, roi))
            .Initializer("scales", scales is null ? NoScales : new Tensor(DataType.Float, new[] { scales.Length }, scales));
        var inputs = new[] { "x", "roi", "scales" };
        if (sizes is not null)
        {
            builder.Initializer("sizes", sizes, sizes.Length);
            inputs = inputs.Append("sizes").ToArray();
        }
        var model = builder.Node("Resize", inputs, new[] { "y" }, attributes).Output("y", DataType.Float).ToBytes();
        int count = inputShape.Aggregate(1, (a, b) => a * b);
        Differential.AssertAgrees(model, inputs: (inputShape, (Array)Differential.RandomFloats(seed, count, -2, 2)));
    }

    [Theory]
    [InlineData("half_pixel")]
    [InlineData("pytorch_half_pixel")]
    [InlineData("align_corners")]
    [InlineData("asymmetric")]
    [InlineData("half_pixel_symmetric")]
    public void BilinearWithSizesMatchesOnnxRuntime(string transformation) =>
        AssertResizeAgrees(19, new[] { 1, 2, 5, 7 }, null, new long[] { 1, 2, 9, 4 }, null, 1,
            ("mode", "linear"), ("coordinate_transformation_mode", transformation));

    [Theory]
    [InlineData("half_pixel", -0.75f, 0L)]
    [InlineData("half_pixel", -0.5f, 1L)]
    [InlineData("align_corners", -0.75f, 0L)]
    [InlineData("asymmetric", -0.75f, 0L)]
    public void BicubicWithScalesMatchesOnnxRuntime(string transformation, float a, long excludeOutside) =>
        AssertResizeAgrees(19, new[] { 1, 1, 6, 8 }, new[] { 1f, 1f, 1.5f, 0.5f }, null, null, 2,
            ("mode", "cubic"), ("coordinate_transformation_mode", transformation), ("cubic_coeff_a", a), ("exclude_outside", excludeOutside));

    [Theory]
    [InlineData("round_prefer_floor", "half_pixel")]
    [InlineData("round_prefer_ceil", "asymmetric")]
    [InlineData("floor", "align_corners")]
    [InlineData("ceil", "half_pixel")]
    public void NearestWithSizesMatchesOnnxRuntime(string rounding, string transformation) =>
        AssertResizeAgrees(19, new[] { 2, 3, 4, 5 }, null, new long[] { 2, 3, 7, 3 }, null, 3,
            ("mode", "nearest"), ("nearest_mode", rounding), ("coordinate_transformation_mode", transformation));

    [Fact]
    public void TrilinearOnFiveDimensionsUsesTwoScratchBuffers() =>
        AssertResizeAgrees(19, new[] { 1, 2, 3, 4, 5 }, null, new long[] { 1, 2, 5, 3, 8 }, null, 4, ("mode", "linear"));

    [Fact]
    public void CropAndResizeExtrapolatesOutsideTheRegion() =>
        AssertResizeAgrees(19, new[] { 1, 1, 5, 6 }, null, new long[] { 1, 1, 4, 5 }, new[] { 0f, 0f, -0.2f, 0.3f, 1f, 1f, 0.9f, 1.4f }, 5,
            ("mode", "linear"), ("coordinate_transformation_mode", "tf_crop_and_resize"), ("extrapolation_value", 7.5f));

    [Theory]
    [InlineData("linear")]
    [InlineData("cubic")]
    public void AntialiasedDownsamplingMatchesOnnxRuntime(string mode) =>
        AssertResizeAgrees(18, new[] { 1, 1, 12, 10 }, null, new long[] { 1, 1, 5, 3 }, null, 6, ("mode", mode), ("antialias", 1L));

    [Theory]
    [InlineData("not_larger")]
    [InlineData("not_smaller")]
    public void AxesWithKeepAspectRatioMatchOnnxRuntime(string policy) =>
        AssertResizeAgrees(18, new[] { 1, 2, 6, 4 }, null, new long[] { 5, 9 }, null, 7,
            ("mode", "linear"), ("axes", new long[] { 3, 2 }), ("keep_aspect_ratio_policy", policy));

    [Fact]
    public void NearestOnIntegersMatchesOnnxRuntime()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Int32, 2, 3, 4)
            .Initializer("roi", NoRoi).Initializer("scales", NoScales).Initializer("sizes", new long[] { 2, 5, 7 }, 3)
            .Node("Resize", new[] { "x", "roi", "scales", "sizes" }, new[] { "y" }, ("mode", "nearest"))
            .Output("y", DataType.Int32).ToBytes();
        var data = Enumerable.Range(0, 24).Select(i => i * 7 - 50).ToArray();
        Differential.AssertAgrees(model, inputs: (new[] { 2, 3, 4 }, (Array)data));
    }

    [Theory]
    [InlineData("nearest")]
    [InlineData("linear")]
    public void Upsample9MatchesOnnxRuntime(string mode)
    {
        var model = new OnnxModelBuilder(9)
            .Input("x", DataType.Float, 1, 2, 3, 4)
            .Initializer("scales", new[] { 1f, 1f, 2f, 2.5f }, 4)
            .Node("Upsample", new[] { "x", "scales" }, new[] { "y" }, ("mode", mode))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 1, 2, 3, 4 }, (Array)Differential.RandomFloats(8, 24)));
    }

    [Fact]
    public void NearestWithAntialiasIsADiagnostic()
    {
        var model = new OnnxModelBuilder(19)
            .Input("x", DataType.Float, 1, 1, 4, 4)
            .Initializer("roi", NoRoi).Initializer("scales", new[] { 1f, 1f, 0.5f, 0.5f }, 4)
            .Node("Resize", new[] { "x", "roi", "scales" }, new[] { "y" }, ("mode", "nearest"), ("antialias", 1L))
            .Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.Id == DiagnosticIds.UnsupportedFeature && d.Message.Contains("antialias"));
    }

    [Fact]
    public void ScalesComputedAtRunTimeAreADiagnostic()
    {
        var model = new OnnxModelBuilder(19)
            .Input("x", DataType.Float, 1, 1, 4, 4).Input("scales", DataType.Float, 4)
            .Initializer("roi", NoRoi)
            .Node("Resize", new[] { "x", "roi", "scales" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("scales"));
    }

    [Fact]
    public void IdentityAxisNeedsNoTable()
    {
        var settings = new SamplingSettings(InterpolationMode.Linear, CoordinateMode.HalfPixel, NearestRounding.RoundPreferFloor, -0.75, false, false);
        Assert.True(AxisSampling.Build(new AxisGeometry(5, 5, 1, 5, 0, 1), settings).IsIdentity(5));
        Assert.False(AxisSampling.Build(new AxisGeometry(5, 10, 2, 10, 0, 1), settings).IsIdentity(5));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 7)]
    [InlineData(7, 3)]
    [InlineData(1, 4)]
    public void LinearWeightsSumToOneAndIndicesStayInside(int inputSize, int outputSize)
    {
        var settings = new SamplingSettings(InterpolationMode.Cubic, CoordinateMode.PytorchHalfPixel, NearestRounding.RoundPreferFloor, -0.75, false, false);
        double scale = (double)outputSize / inputSize;
        var table = AxisSampling.Build(new AxisGeometry(inputSize, outputSize, scale, outputSize, 0, 1), settings);
        Assert.Equal(outputSize, table.OutputSize);
        Assert.All(table.Indices, i => Assert.InRange(i, 0, inputSize - 1));
        for (int o = 0; o < outputSize; o++)
            Assert.Equal(1.0, table.Weights.Skip(o * table.Taps).Take(table.Taps).Sum(), 9);
    }
}
