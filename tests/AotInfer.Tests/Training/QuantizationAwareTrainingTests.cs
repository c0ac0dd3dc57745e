using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Compiler.Passes;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Quantization;
using AotInfer.Optimize.Training;
using AotInfer.Optimize.Training.Ops;
using AotInfer.Optimize.Training.Quantization;
using AotInfer.Tests.Optimize;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>Fake quantisation with the straight-through estimator, moving-average ranges, and the QDQ export.</summary>
public class QuantizationAwareTrainingTests
{
    public QuantizationAwareTrainingTests() => Progress.Enabled = false;

    /// <summary>x[2,4] → QuantizeLinear(scale 0.1, zero point 128) → DequantizeLinear → Gemm(W[3,4]ᵀ) → y.</summary>
    static ModelProto QdqGemm() => new OnnxModelBuilder()
        .Input("x", DataType.Float, 2, 4)
        .Initializer("s", new Tensor(DataType.Float, Array.Empty<int>(), new[] { 0.1f }))
        .Initializer("z", new Tensor(DataType.UInt8, Array.Empty<int>(), new[] { (byte)128 }))
        .Initializer("w", Differential.RandomFloats(3, 12), 3, 4)
        .Node("QuantizeLinear", new[] { "x", "s", "z" }, new[] { "q" })
        .Node("DequantizeLinear", new[] { "q", "s", "z" }, new[] { "d" })
        .Node("Gemm", new[] { "d", "w" }, new[] { "y" }, ("transB", 1L))
        .Output("y", DataType.Float)
        .Build();

    [Fact]
    public void StraightThroughEstimatorPassesTheGradientInsideTheRangeAndStopsItOutside()
    {
        var graph = TrainingGraph.Build(QdqGemm(), inputGradient: true);
        graph.Training = false; // fixed scale: the representable range is [-12.8, 12.7]
        var x = new[] { 0.123f, -3.46f, 20f, 7.01f, -15f, 12.74f, 0.05f, -12.8f };
        var y = graph.Forward(x, 2, new[] { 4 }).Span.ToArray();
        var w = new GraphEditor(QdqGemm()).ReadFloat("w")!.As<float>();
        // Forward: the Gemm sees x rounded to multiples of 0.1 and clamped to the range.
        var seen = x.Select(v => Math.Clamp(MathF.Round(v / 0.1f) + 128, 0, 255) - 128).Select(q => q * 0.1f).ToArray();
        for (int n = 0; n < 2; n++)
            for (int o = 0; o < 3; o++)
            {
                float expected = 0;
                for (int k = 0; k < 4; k++) expected += seen[n * 4 + k] * w[o * 4 + k];
                Assert.Equal(expected, y[n * 3 + o], 4);
            }

        var dy = GradientCheck.RandomValues(9, 6);
        graph.Backward(dy);
        var dx = graph.InputGradient!.Span.ToArray();
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < 4; k++)
            {
                float through = 0;
                for (int o = 0; o < 3; o++) through += dy[n * 3 + o] * w[o * 4 + k];
                float q = MathF.Round(x[n * 4 + k] / 0.1f) + 128;
                bool inside = q >= 0 && q <= 255;
                Assert.Equal(inside ? through : 0f, dx[n * 4 + k], 4);
            }
        Assert.Equal(0f, dx[2]); // 20 was clamped
        Assert.Equal(0f, dx[4]); // -15 was clamped
        Assert.NotEqual(0f, dx[0]);
    }

    [Fact]
    public void TrainingModeFollowsTheActivationRangeByMovingAverage()
    {
        var graph = TrainingGraph.Build(QdqGemm());
        graph.Training = true;
        graph.Forward(new[] { -1f, 0f, 2f, 3f, 0f, 0f, 0f, 0f }, 2, new[] { 4 });
        var first = StaticQuantizer.ActivationParameters((-1f, 3f), symmetric: false, signed: false);
        Assert.Equal(first.Scale, graph.Value("s").Span[0]);
        Assert.Equal(first.ZeroPoint, graph.Value("z").Span[0]);
        graph.Forward(new[] { -2f, 0f, 1f, 5f, 0f, 0f, 0f, 0f }, 2, new[] { 4 });
        float m = QuantizeLinearOp.RangeMomentum;
        var second = StaticQuantizer.ActivationParameters((m * -1f + (1 - m) * -2f, m * 3f + (1 - m) * 5f), symmetric: false, signed: false);
        Assert.Equal(second.Scale, graph.Value("s").Span[0], 6);
        Assert.Equal(second.ZeroPoint, graph.Value("z").Span[0]);
        // Evaluation mode leaves the range alone.
        graph.Training = false;
        graph.Forward(new[] { -50f, 0f, 0f, 50f, 0f, 0f, 0f, 0f }, 2, new[] { 4 });
        Assert.Equal(second.Scale, graph.Value("s").Span[0], 6);
    }

    [Fact]
    public void FakeQuantizedWeightsAreTheExportedInt8ValuesAndTheFloatWeightsComeBack()
    {
        var model = OptimizeTestModels.SmallCnn();
        ModelFolding.Fold(model);
        var layers = WeightedLayer.Find(new GraphEditor(model));
        var graph = TrainingGraph.Build(model);
        var hook = new FakeQuantizedWeights(layers, perChannel: true);
        var weight = graph.Parameters.First(p => p.Name == layers[0].WeightName);
        var original = weight.Values.Span.ToArray();
        hook.BeforeForward(graph.Parameters);
        var quantized = WeightQuantization.Symmetric(original, layers[0], perChannel: true);
        for (int u = 0; u < layers[0].OutputCount; u++)
            for (int j = 0; j < layers[0].UnitSize; j++)
            {
                int i = layers[0].Index(u, j);
                Assert.Equal(quantized.Values[i] * quantized.Scales[u], weight.Values.Span[i]);
            }
        Assert.NotEqual(original, weight.Values.Span.ToArray());
        hook.BeforeStep(graph.Parameters);
        Assert.Equal(original, weight.Values.Span.ToArray());
    }

    [Fact]
    public void ExportIsAQdqModelThatOnnxRuntimeAndAotInferRunAlike()
    {
        var model = OptimizeTestModels.SmallCnn();
        var float32 = model.Clone();
        var options = new TrainingOptions { Epochs = 3, BatchSize = 8, LearningRate = 1e-3f, Seed = 2 };
        var epochs = QuantizationAwareTraining.Run(model, null, new QatSettings(options), OptimizeTestModels.Samples(32));
        Assert.Equal(3, epochs.Count);
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "BatchNormalization");
        // The integer layout the static quantizer writes: pairs on x, on each Conv's Relu output, on the Flatten output
        // and on the Gemm output; int8 weights and int32 biases behind DequantizeLinear.
        Assert.Equal(5, model.Graph.Node.Count(n => n.OpType == "QuantizeLinear"));
        Assert.Equal(5 + 3 + 2, model.Graph.Node.Count(n => n.OpType == "DequantizeLinear"));
        Assert.Equal(3, model.Graph.Initializer.Count(t => t.DataType == (int)DataType.Int8 && t.Dims.Count >= 2));
        var int32 = model.Graph.Initializer.Where(t => t.DataType == (int)DataType.Int32).Select(t => t.Name).ToHashSet();
        Assert.Equal(2, model.Graph.Node.Count(n => n.OpType == "DequantizeLinear" && int32.Contains(n.Input[0])));
        var graph = new GraphEditor(model);
        foreach (var q in model.Graph.Node.Where(n => n.OpType == "QuantizeLinear"))
            Assert.NotEqual(1f / 255, graph.ReadFloat(q.Input[1])!.As<float>()[0]); // the placeholder range was replaced

        // Every layer compiles to an integer kernel: only the float borders stay float.
        var compiled = ModelCompiler.Compile(model.ToByteArray(), new CompileOptions()).Graph!;
        PrecisionAnnotation.Run(compiled);
        Assert.Equal(2, compiled.Nodes.Count(n => n.OpType == "QLinearConv"));
        Assert.Equal(1, compiled.Nodes.Count(n => n.OpType == "QGemm"));
        Assert.All(compiled.Nodes, n => Assert.False(((string)n.Annotations[PrecisionAnnotation.Key]).StartsWith("float"), $"{n.OpType} {n.Name}: {n.Annotations[PrecisionAnnotation.Key]}"));

        byte[] bytes = model.ToByteArray();
        for (int seed = 21; seed <= 23; seed++)
        {
            var input = OptimizeTestModels.Input(seed);
            var reference = OptimizeTestModels.RunOrt(float32, input);
            var ort = OptimizeTestModels.RunOrt(model, input);
            var ours = (float[])Differential.RunAotInfer(bytes, input)[0];
            double scale = reference.Max(Math.Abs);
            // Three epochs move the weights a little; the int8 model stays close to the float one, and both runtimes agree.
            Assert.True(OptimizeTestModels.MaxDifference(reference, ort) < 0.25 * scale, $"seed {seed}: float vs QAT int8 {OptimizeTestModels.MaxDifference(reference, ort)} of {scale}");
            Assert.True(OptimizeTestModels.MaxDifference(ort, ours) < 0.02 * scale, $"seed {seed}: ORT vs AotInfer {OptimizeTestModels.MaxDifference(ort, ours)} of {scale}");
        }
    }
}
