using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Cli.Optimize;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Quantization;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>QOperator and dynamic quantisation: ONNX Runtime runs every written model close to float, and AotInfer agrees with it.</summary>
public class QuantizeFormatTests
{
    static readonly ModelRunnerFactory Ort = (m, d, e) => new OnnxRuntimeRunner(m, d, e);

    static ModelProto FoldedCnn()
    {
        var model = OptimizeTestModels.SmallCnn();
        ModelFolding.Fold(model);
        return model;
    }

    /// <summary>Scale of the DequantizeLinear writing graph output <paramref name="output"/>: one step of the last layer.</summary>
    static float OutputStep(ModelProto model, string output)
    {
        var graph = new GraphEditor(model);
        var dequantize = graph.Producer(output)!;
        Assert.Equal("DequantizeLinear", dequantize.OpType);
        return graph.ReadFloat(dequantize.Input[1])!.As<float>()[0];
    }

    [Theory]
    [InlineData(false, false, CalibrationMethod.MinMax)]
    [InlineData(true, false, CalibrationMethod.Entropy)]
    [InlineData(true, true, CalibrationMethod.MinMax)]
    public void QOperatorCnnRunsInOnnxRuntimeAndAotInferAgrees(bool perChannel, bool signed, CalibrationMethod method)
    {
        var model = FoldedCnn();
        var float32 = model.Clone();
        var settings = new QuantizeSettings { Format = QuantizedFormat.QOperator, Method = method, PerChannel = perChannel, SignedActivations = signed, ReportSamples = 8 };
        var report = StaticQuantizer.Quantize(model, OptimizeTestModels.Samples(32), settings, Ort);

        // Two Convs and the Gemm (as a 1×1 QLinearConv) run on integers; the Relus are absorbed; one float border each side.
        Assert.Equal(3, report.QuantizedLayers);
        Assert.Equal(3, model.Graph.Node.Count(n => n.OpType == "QLinearConv"));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "Conv" or "Gemm" or "Relu");
        Assert.Equal(1, model.Graph.Node.Count(n => n.OpType == "QuantizeLinear"));
        Assert.Equal(1, model.Graph.Node.Count(n => n.OpType == "DequantizeLinear"));
        Assert.All(model.Graph.Node, n => Assert.True(n.Domain is "" or "ai.onnx", $"{n.OpType} is in domain {n.Domain}"));
        Assert.All(report.Layers, l => Assert.True(l.Sqnr > 15, $"{l.Layer}: SQNR {l.Sqnr:F1} dB"));
        Assert.Equal(3, QuantizationMetadata.ReadLayerErrors(model).Count);

        for (int seed = 11; seed <= 13; seed++)
        {
            var input = OptimizeTestModels.Input(seed);
            var expected = OptimizeTestModels.RunOrt(float32, input);
            var actual = OptimizeTestModels.RunOrt(model, input);
            Assert.True(OptimizeTestModels.MaxDifference(expected, actual) < 0.06 * expected.Max(Math.Abs), $"seed {seed}: {OptimizeTestModels.MaxDifference(expected, actual)}");
            // Integer pipelines may round a tie differently; one step of the output is the allowed difference.
            Differential.AssertAgrees(model.ToByteArray(), rtol: 0, atol: 1.01 * OutputStep(model, "y"), inputs: (OptimizeTestModels.InputShape, input));
        }
    }

    [Fact]
    public void QOperatorMatMulAbsorbsReluAndKeepsPoolingOnIntegers()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 2, 6, 6)
            .Initializer("w1", Differential.RandomFloats(21, 4 * 2 * 9), 4, 2, 3, 3)
            .Initializer("w2", Differential.RandomFloats(22, 4 * 9 * 5), 4 * 9, 5)
            .Node("Conv", new[] { "x", "w1" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", new[] { "c" }, new[] { "r" })
            .Node("MaxPool", new[] { "r" }, new[] { "p" }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Node("Flatten", new[] { "p" }, new[] { "f" })
            .Node("MatMul", new[] { "f", "w2" }, new[] { "y" })
            .Output("y", DataType.Float)
            .Build();
        var float32 = model.Clone();
        var samples = OptimizeTestModels.Samples(24);
        StaticQuantizer.Quantize(model, samples, new QuantizeSettings { Format = QuantizedFormat.QOperator, PerChannel = true, ReportSamples = 0 }, Ort);
        var ops = model.Graph.Node.Select(n => n.OpType).ToList();
        Assert.Equal(new[] { "QuantizeLinear", "QLinearConv", "MaxPool", "Flatten", "QLinearMatMul", "DequantizeLinear" }, ops);
        var input = OptimizeTestModels.Input(5);
        var expected = OptimizeTestModels.RunOrt(float32, input);
        Assert.True(OptimizeTestModels.MaxDifference(expected, OptimizeTestModels.RunOrt(model, input)) < 0.06 * expected.Max(Math.Abs));
        Differential.AssertAgrees(model.ToByteArray(), rtol: 0, atol: 1.01 * OutputStep(model, "y"), inputs: (OptimizeTestModels.InputShape, input));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DynamicQuantizationStoresIntegerWeightsAndAotInferAgrees(bool perChannel)
    {
        var model = FoldedCnn();
        var float32 = model.Clone();
        var report = DynamicQuantizer.Quantize(model, perChannel);
        Assert.Equal(3, report.Layers.Count);
        Assert.Empty(report.Skipped);
        Assert.Equal(2, model.Graph.Node.Count(n => n.OpType == "ConvInteger"));
        Assert.Equal(1, model.Graph.Node.Count(n => n.OpType == "MatMulInteger"));
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType is "Conv" or "Gemm");
        Assert.DoesNotContain(model.Graph.Initializer, t => t.DataType == (int)DataType.Float && t.Dims.Aggregate(1L, (a, d) => a * d) > 8 && !t.Name.Contains("scale") && !t.Name.Contains("bias"));
        for (int seed = 1; seed <= 3; seed++)
        {
            var input = OptimizeTestModels.Input(seed);
            var expected = OptimizeTestModels.RunOrt(float32, input);
            Assert.True(OptimizeTestModels.MaxDifference(expected, OptimizeTestModels.RunOrt(model, input)) < 0.05 * expected.Max(Math.Abs));
            Differential.AssertAgrees(model.ToByteArray(), rtol: 1e-4, atol: 1e-4, inputs: (OptimizeTestModels.InputShape, input));
        }
    }

    [Fact]
    public void UnknownExcludedNodeIsAnErrorNamingIt()
    {
        var settings = new QuantizeSettings { ReportSamples = 0 };
        settings.Exclude.Add("no_such_node");
        var e = Assert.Throws<ArgumentException>(() => StaticQuantizer.Quantize(FoldedCnn(), OptimizeTestModels.Samples(4), settings, Ort));
        Assert.Contains("'no_such_node'", e.Message);
        e = Assert.Throws<ArgumentException>(() => DynamicQuantizer.Quantize(FoldedCnn(), false, new HashSet<string> { "typo" }));
        Assert.Contains("'typo'", e.Message);
    }

    [Theory]
    [InlineData(QuantizedFormat.Qdq)]
    [InlineData(QuantizedFormat.QOperator)]
    public void ExcludedLayerStaysFloat(QuantizedFormat format)
    {
        var model = FoldedCnn();
        var gemm = model.Graph.Node.First(n => n.OpType == "Gemm");
        var settings = new QuantizeSettings { Format = format, ReportSamples = 0 };
        settings.Exclude.Add(gemm.Output[0]);
        var report = StaticQuantizer.Quantize(model, OptimizeTestModels.Samples(8), settings, Ort);
        Assert.Equal(2, report.QuantizedLayers);
        var kept = model.Graph.Node.Single(n => n.OpType == "Gemm");
        Assert.Equal(DataType.Float, (DataType)new GraphEditor(model).Initializer(kept.Input[1])!.DataType);
        OptimizeTestModels.RunOrt(model, OptimizeTestModels.Input(1));
    }

    /// <summary>A runner returning the same preallocated outputs every time: calibration's own memory is all that is measured.</summary>
    sealed class FixedOutputRunner : IModelRunner
    {
        readonly float[][] _outputs;

        public FixedOutputRunner(ModelProto model, IReadOnlyList<string> extra)
        {
            OutputNames = model.Graph.Output.Select(o => o.Name).Concat(extra).ToArray();
            _outputs = OutputNames.Select((_, i) => Differential.RandomFloats(100 + i, 16384)).ToArray();
        }

        public IReadOnlyList<string> OutputNames { get; }

        public IReadOnlyList<float[]> Run(ReadOnlySpan<float> sample) => _outputs;

        public void Dispose() { }
    }

    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Entropy)]
    public void CalibrationMemoryDoesNotGrowWithSampleCount(CalibrationMethod method)
    {
        ModelRunnerFactory fixedRunners = (m, d, e) => new FixedOutputRunner(m, e);
        long Allocated(int samples)
        {
            var model = FoldedCnn();
            var data = OptimizeTestModels.Samples(samples);
            long before = GC.GetAllocatedBytesForCurrentThread();
            StaticQuantizer.Quantize(model, data, new QuantizeSettings { Method = method, ReportSamples = 0 }, fixedRunners);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        bool progress = Progress.Enabled;
        Progress.Enabled = false;
        try
        {
            Allocated(10); // warm-up: first-call allocations (JIT, statics) are not the calibration's
            long few = Allocated(10), many = Allocated(400);
            // 390 more samples of 3 × 16384 floats would be 77 MB if any activation were kept.
            Assert.True(many - few < 256 * 1024, $"calibrating 400 samples allocated {many - few:N0} bytes more than 10 samples");
        }
        finally { Progress.Enabled = progress; }
    }

    [Fact]
    public void QOperatorAndDynamicLenet300KeepAccuracyInBothRuntimes()
    {
        string dir = SharedMaterial.Require("datasets/fashion-mnist");
        string modelPath = SharedMaterial.Require("models/fashion_lenet300/model.onnx");
        var train = DatasetLoader.Load("fashion-mnist-train:" + dir).Take(64);
        var test = DatasetLoader.Load("fashion-mnist:" + dir).Take(500);
        ModelRunnerFactory compiled = (m, d, e) => new AotInferRunner(m, d, e);
        double Accuracy(ModelProto m, ModelRunnerFactory runners)
        {
            using var runner = runners(m, null, Array.Empty<string>());
            return AccuracyEvaluator.Evaluate(runner, null, test).Accuracy;
        }
        var float32 = ModelWriter.Load(modelPath);
        double baseline = Accuracy(float32, Ort);
        var qoperator = float32.Clone();
        StaticQuantizer.Quantize(qoperator, train, new QuantizeSettings { Format = QuantizedFormat.QOperator, PerChannel = true, ReportSamples = 0 }, Ort);
        var dynamic = float32.Clone();
        DynamicQuantizer.Quantize(dynamic, perChannel: true);
        foreach (var (name, model) in new[] { ("qoperator", qoperator), ("dynamic", dynamic) })
        {
            double ort = Accuracy(model, Ort), aot = Accuracy(model, compiled);
            Assert.True(baseline - ort <= 0.01, $"{name}: ORT accuracy {ort:P2} vs float {baseline:P2}");
            Assert.True(Math.Abs(ort - aot) <= 0.004, $"{name}: AotInfer {aot:P2} vs ORT {ort:P2}");
        }
    }
}
