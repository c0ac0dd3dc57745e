using System;
using System.IO;
using AotInfer.Cli.Optimize;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>
/// Top-1 accuracy of compiled int8 models on the 10 000 Fashion-MNIST test images equals ONNX Runtime's on the same
/// model (issue 3: within 0.1 points): a QDQ model (lowered by the QDQ pass to integer kernels) and a QOperator one.
/// ONNX Runtime's figure is also pinned, so a changed model or dataset shows up too.
/// </summary>
public class Int8AccuracyTests
{
    [Theory]
    [InlineData("fashion_lenet300_qdq_s8_perchannel_minmax", 0.8976)]
    [InlineData("fashion_lenet5_qop_u8s8", 0.9167)]
    public void CompiledInt8ModelIsAsAccurateAsOnnxRuntime(string name, double onnxRuntimeAccuracy)
    {
        string directory = SharedMaterial.Require(Path.Combine("models", name));
        var data = DatasetLoader.Load("fashion-mnist:" + SharedMaterial.Require(Path.Combine("datasets", "fashion-mnist")));
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(directory, "model.onnx")));
        Progress.Enabled = false;
        using var compiled = new AotInferRunner(model, directory, Array.Empty<string>());
        using var onnxRuntime = new OnnxRuntimeRunner(model, directory, Array.Empty<string>());
        var result = AccuracyEvaluator.Evaluate(compiled, onnxRuntime, data);
        Assert.Equal(10000, result.Samples);
        Assert.InRange(result.ReferenceAccuracy, onnxRuntimeAccuracy - 0.00005, onnxRuntimeAccuracy + 0.00005);
        Assert.InRange(Math.Abs(result.Accuracy - result.ReferenceAccuracy), 0, 0.001);
    }
}
