using System.Linq;
using AotInfer.Cli.Optimize;
using AotInfer.Compiler;
using AotInfer.Compiler.Passes;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Quantization;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>Static quantisation: QDQ output that ONNX Runtime runs close to the float model and AotInfer compiles to integer kernels throughout.</summary>
public class QuantizeTests
{
    static readonly ModelRunnerFactory Ort = (m, d, e) => new OnnxRuntimeRunner(m, d, e);
    static readonly ModelRunnerFactory Compiled = (m, d, e) => new AotInferRunner(m, d, e);

    [Theory]
    [InlineData(CalibrationMethod.MinMax, false, false, false)]
    [InlineData(CalibrationMethod.MinMax, true, false, false)]
    [InlineData(CalibrationMethod.Entropy, true, false, false)]
    [InlineData(CalibrationMethod.Percentile, true, true, false)]
    [InlineData(CalibrationMethod.Mse, false, true, false)]
    [InlineData(CalibrationMethod.MinMax, true, false, true)]
    public void QdqModelRunsInOnnxRuntimeCloseToFloat(CalibrationMethod method, bool perChannel, bool signed, bool symmetric)
    {
        var model = OptimizeTestModels.SmallCnn();
        var float32 = model.Clone();
        var settings = new QuantizeSettings { Method = method, PerChannel = perChannel, SignedActivations = signed, Symmetric = symmetric, ReportSamples = 8 };
        var report = StaticQuantizer.Quantize(model, OptimizeTestModels.Samples(32), settings, Compiled, quantizedRunners: Ort);
        Assert.Equal(3, report.QuantizedLayers);
        // Pairs on x, on each Conv's Relu output, on the Flatten output and on the Gemm output; a symmetric range
        // cannot imply a Relu, so there the Conv outputs get the pairs and the Relus run between them in float.
        int pairs = symmetric ? 6 : 5;
        Assert.Equal(pairs, model.Graph.Node.Count(n => n.OpType == "QuantizeLinear"));
        Assert.Equal(pairs + 3 + 2, model.Graph.Node.Count(n => n.OpType == "DequantizeLinear"));
        var int32 = model.Graph.Initializer.Where(t => t.DataType == (int)AotInfer.Onnx.DataType.Int32).Select(t => t.Name).ToHashSet();
        Assert.Equal(2, model.Graph.Node.Count(n => n.OpType == "DequantizeLinear" && int32.Contains(n.Input[0])));
        Assert.All(report.Layers, l => Assert.True(l.Sqnr > 20, $"{l.Layer}: SQNR {l.Sqnr:F1} dB"));
        var input = OptimizeTestModels.Input(11);
        var expected = OptimizeTestModels.RunOrt(float32, input);
        var actual = OptimizeTestModels.RunOrt(model, input);
        double scale = expected.Max(v => System.Math.Abs(v));
        Assert.True(OptimizeTestModels.MaxDifference(expected, actual) < 0.05 * scale);
    }

    [Theory]
    [InlineData(CalibrationMethod.MinMax, false)]
    [InlineData(CalibrationMethod.MinMax, true)]
    [InlineData(CalibrationMethod.Entropy, true)]
    public void EveryQdqLayerCompilesToIntegerKernelsAndAgreesWithOnnxRuntime(CalibrationMethod method, bool perChannel)
    {
        var model = OptimizeTestModels.SmallCnn();
        var settings = new QuantizeSettings { Method = method, PerChannel = perChannel, ReportSamples = 0 };
        StaticQuantizer.Quantize(model, OptimizeTestModels.Samples(32), settings, Ort);
        var bytes = model.ToByteArray();
        var compiled = ModelCompiler.Compile(bytes, new CompileOptions());
        var graph = compiled.Graph!;
        PrecisionAnnotation.Run(graph);
        Assert.Equal(2, graph.Nodes.Count(n => n.OpType == "QLinearConv"));
        Assert.Equal(1, graph.Nodes.Count(n => n.OpType == "QGemm"));
        // Only the float borders remain: one QuantizeLinear of the input, one DequantizeLinear of the output.
        Assert.All(graph.Nodes, n => Assert.False(((string)n.Annotations[PrecisionAnnotation.Key]).StartsWith("float"), $"{n.OpType} {n.Name}: {n.Annotations[PrecisionAnnotation.Key]}"));
        Assert.Equal(1, graph.Nodes.Count(n => n.OpType == "QuantizeLinear"));
        Assert.Equal(1, graph.Nodes.Count(n => n.OpType == "DequantizeLinear"));
        // Both runtimes compute the same integers; a rounding tie may differ by one output step.
        var output = model.Graph.Node.Single(n => n.Output.Contains("y"));
        float step = new AotInfer.Optimize.Onnx.GraphEditor(model).ReadFloat(output.Input[1])!.As<float>()[0];
        for (int seed = 11; seed <= 13; seed++)
            Differential.AssertAgrees(bytes, rtol: 0, atol: 1.01 * step, inputs: (OptimizeTestModels.InputShape, OptimizeTestModels.Input(seed)));
    }

    [Fact]
    public void QuantizedModelKeepsARunTimeBatch()
    {
        // Two Gemm layers on a symbolic batch: the QuantizeLinear/DequantizeLinear borders and the integer layers
        // keep samples apart, so the compiled model still takes any number of samples.
        var model = AotInfer.Onnx.Proto.ModelProto.Parser.ParseFrom(new OnnxModelBuilder(13)
            .BatchedInput("x", AotInfer.Onnx.DataType.Float, "batch", 6)
            .Initializer("w1", Differential.RandomFloats(5, 48), 6, 8)
            .Initializer("b1", Differential.RandomFloats(6, 8), 8)
            .Initializer("w2", Differential.RandomFloats(7, 32), 8, 4)
            .Node("Gemm", new[] { "x", "w1", "b1" }, new[] { "h" })
            .Node("Relu", new[] { "h" }, new[] { "r" })
            .Node("Gemm", new[] { "r", "w2" }, new[] { "y" })
            .Output("y", AotInfer.Onnx.DataType.Float).ToBytes());
        var samples = new AotInfer.Optimize.Datasets.LabeledImages(Differential.RandomFloats(8, 32 * 6, 0, 1), new[] { 6 }, new int[32], "random");
        StaticQuantizer.Quantize(model, samples, new QuantizeSettings { PerChannel = true, ReportSamples = 0 }, Ort);
        var bytes = model.ToByteArray();
        var compiled = Differential.CompileModel(bytes);
        Assert.True(compiled.Info.Inputs[0].Batched);
        var x = Differential.RandomFloats(9, 5 * 6, 0, 1);
        var expected = (float[])Differential.RunOnnxRuntime(bytes, (new[] { 5, 6 }, x))[0];
        var y = new float[5 * 4];
        compiled.Run(new System.Array[] { x }, new System.Array[] { y });
        float step = new AotInfer.Optimize.Onnx.GraphEditor(model).ReadFloat(model.Graph.Node.Single(n => n.Output.Contains("y")).Input[1])!.As<float>()[0];
        Assert.True(OptimizeTestModels.MaxDifference(expected, y) <= 1.01 * step, $"max difference {OptimizeTestModels.MaxDifference(expected, y)}, one step {step}");
    }

    [Fact]
    public void QuantizedLenet300IsAsAccurateAsOnnxRuntimesQuantizerAndCompiledAgreesWithOnnxRuntime()
    {
        string dir = SharedMaterial.Require("datasets/fashion-mnist");
        string modelPath = SharedMaterial.Require("models/fashion_lenet300/model.onnx");
        var train = DatasetLoader.Load("fashion-mnist-train:" + dir).Take(256);
        var test = DatasetLoader.Load("fashion-mnist:" + dir);
        var model = ModelWriter.Load(modelPath);
        Progress.Enabled = false;
        StaticQuantizer.Quantize(model, train, new QuantizeSettings { PerChannel = true, ReportSamples = 0 }, Ort);
        using var compiled = new AotInferRunner(model, null, System.Array.Empty<string>());
        using var onnxRuntime = new OnnxRuntimeRunner(model, null, System.Array.Empty<string>());
        var result = AccuracyEvaluator.Evaluate(compiled, onnxRuntime, test);
        Assert.Equal(10000, result.Samples);
        // ONNX Runtime's quantize_static (QDQ, per-channel MinMax, the same 256 images) reaches 89.76%.
        Assert.True(result.Accuracy >= 0.8976, $"AotInfer accuracy {result.Accuracy:P2}");
        Assert.True(result.ReferenceAccuracy >= 0.8976, $"ONNX Runtime accuracy {result.ReferenceAccuracy:P2}");
        Assert.True(result.AgreementRate >= 0.999, $"top-1 agreement {result.AgreementRate:P2}");
    }

    [Fact]
    public void ActivationParametersKeepZeroExact()
    {
        var (scale, zero) = StaticQuantizer.ActivationParameters((-1f, 3f), symmetric: false, signed: false);
        Assert.Equal(4f / 255, scale, 6);
        Assert.Equal(64, zero);
        (scale, zero) = StaticQuantizer.ActivationParameters((0.5f, 2f), symmetric: true, signed: true);
        Assert.Equal(0, zero);
        Assert.Equal(4f / 255, scale, 6);
    }

    [Fact]
    public void EntropyAndPercentileClipALongTail()
    {
        var s = new ActivationStatistics("x");
        var values = Enumerable.Range(0, 100000).Select(i => (float)(i % 1000) / 1000f).Append(100f).ToArray();
        s.ObserveRange(values);
        s.ObserveHistogram(values);
        Assert.Equal(100f, RangeSelection.Choose(s, CalibrationMethod.MinMax).High);
        // MSE may keep a lone outlier (its clipping error outweighs rounding noise), so it is not in this list.
        foreach (var method in new[] { CalibrationMethod.Entropy, CalibrationMethod.Percentile })
        {
            var (low, high) = RangeSelection.Choose(s, method);
            Assert.Equal(0f, low);
            // The KL search starts at 256 of 2048 bins (one per level), so its smallest cut is max/8.
            Assert.InRange(high, 0.5f, method == CalibrationMethod.Entropy ? 13f : 5f);
        }
    }
}
