using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Robustness;

/// <summary>Regressions from the 100,000-model fuzz run: absurd attributes are model errors, never internal errors.</summary>
public class FuzzFindingsTests
{
    static CompileDiagnostic SingleError(byte[] model)
    {
        var result = ModelCompiler.Compile(model, new CompileOptions());
        Assert.False(result.Success);
        var error = Assert.Single(result.Diagnostics);
        Assert.NotEqual(DiagnosticIds.InternalError, error.Id);
        return error;
    }

    [Theory]
    [InlineData(4294967296L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void HugeRecurrentHiddenSizeIsAModelError(long hiddenSize)
    {
        var model = new OnnxModelBuilder(14)
            .Input("x", DataType.Float, 1, 1, 2)
            .Initializer("w", new float[8], 1, 4, 2).Initializer("r", new float[4], 1, 4, 1)
            .Node("LSTM", new[] { "x", "w", "r" }, new[] { "y" }, ("hidden_size", hiddenSize))
            .Output("y", DataType.Float).ToBytes();
        var error = SingleError(model);
        Assert.Contains("LSTM", error.Message);
    }

    [Fact]
    public void HugeGatherNDBatchDimsIsAModelError()
    {
        var model = new OnnxModelBuilder(13)
            .Input("data", DataType.Float, 2, 2).Initializer("i", new long[] { 0, 1 }, 2, 1)
            .Node("GatherND", new[] { "data", "i" }, new[] { "y" }, ("batch_dims", long.MaxValue))
            .Output("y", DataType.Float).ToBytes();
        var error = SingleError(model);
        Assert.Equal(DiagnosticIds.UnsupportedFeature, error.Id);
        Assert.Contains("batch_dims", error.Message);
    }
}
