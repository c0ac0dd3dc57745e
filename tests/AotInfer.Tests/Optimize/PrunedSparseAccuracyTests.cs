using System;
using System.IO;
using AotInfer.Cli.Optimize;
using AotInfer.Compiler;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Pruning;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>
/// fashion_lenet300 pruned to 90 % and 95 % (global magnitude, as <c>aotinfer prune --sparsity</c>) and compiled with
/// the sparse kernels auto mode picks gives the same top-1 prediction as the same model compiled dense on every one of
/// the 10 000 Fashion-MNIST test images (issue 4), and auto mode really leaves the dense kernel.
/// </summary>
public class PrunedSparseAccuracyTests
{
    [Theory]
    [InlineData(0.9)]
    [InlineData(0.95)]
    public void SparseAndDensePredictionsAgree(double sparsity)
    {
        string directory = SharedMaterial.Require(Path.Combine("models", "fashion_lenet300"));
        var data = DatasetLoader.Load("fashion-mnist:" + SharedMaterial.Require(Path.Combine("datasets", "fashion-mnist")));
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(directory, "model.onnx")));
        MagnitudePruning.Prune(model, sparsity, global: true, directory);
        var source = ModelCompiler.Compile(Google.Protobuf.MessageExtensions.ToByteArray(model), new CompileOptions { ModelDirectory = directory }).Source!;
        Assert.Contains("BandSparseMultiply.Multiply", source);

        Progress.Enabled = false;
        using var sparse = new AotInferRunner(model, directory, Array.Empty<string>(), SparseMode.Auto);
        using var dense = new AotInferRunner(model, directory, Array.Empty<string>(), SparseMode.Dense);
        var result = AccuracyEvaluator.Evaluate(sparse, dense, data);
        Assert.Equal(10000, result.Samples);
        Assert.Equal(1.0, result.AgreementRate);
    }
}
