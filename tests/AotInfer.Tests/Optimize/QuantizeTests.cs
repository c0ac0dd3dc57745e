using System.Linq;
using AotInfer.Cli.Optimize;
using AotInfer.Compiler;
using AotInfer.Compiler.Passes;
using AotInfer.Tests.Support;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Quantization;
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
