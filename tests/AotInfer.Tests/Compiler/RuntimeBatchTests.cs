using System;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>A symbolic first dimension stays a run-time batch size when no node mixes samples.</summary>
public class RuntimeBatchTests
{
    static byte[] Classifier(long softmaxAxis) => new OnnxModelBuilder(13)
        .BatchedInput("x", DataType.Float, "batch", 6)
        .Initializer("w", Differential.RandomFloats(5, 24), 6, 4)
        .Initializer("b", Differential.RandomFloats(6, 4), 4)
        .Node("Gemm", new[] { "x", "w", "b" }, new[] { "h" })
        .Node("Relu", new[] { "h" }, new[] { "r" })
        .Node("Softmax", new[] { "r" }, new[] { "y" }, ("axis", softmaxAxis))
        .Output("y", DataType.Float).ToBytes();

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void AnyNumberOfSamplesMatchesOnnxRuntime(int samples)
    {
        var model = Classifier(1);
        var x = Differential.RandomFloats(7, samples * 6, -2, 2);
        var expected = Differential.RunOnnxRuntime(model, (new[] { samples, 6 }, x));
        var compiled = Differential.CompileModel(model);
        Assert.True(compiled.Info.Inputs[0].Batched);
        var y = new float[samples * 4];
        compiled.Run(new Array[] { x }, new Array[] { y });
        Assert.Null(new AotInfer.Cli.Check.OutputComparer(1e-5, 1e-6, 0).Compare(y, expected[0], "y"));
    }

    [Fact]
    public void PartialSampleIsRejectedNamingTheInput()
    {
        var compiled = Differential.CompileModel(Classifier(1));
        var error = Assert.Throws<ArgumentException>(() => compiled.Run(new Array[] { new float[10] }, new Array[] { new float[4] }));
        Assert.Contains("'x'", error.Message);
        Assert.Contains("[batch,6]", error.Message);
    }

    [Fact]
    public void ModelThatMixesSamplesMustBePinned()
    {
        var result = ModelCompiler.Compile(Classifier(0), new CompileOptions());
        Assert.False(result.Success);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.UnpinnedDimension, diagnostic.Id);
        Assert.Contains("'batch'", diagnostic.Message);
        Assert.Contains("Softmax", diagnostic.Message);

        var pinned = ModelCompiler.Compile(Classifier(0), new CompileOptions { DimensionValues = { ["batch"] = 3 } });
        Assert.True(pinned.Success);
    }
}
