using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training;
using AotInfer.Optimize.Training.Losses;
using AotInfer.Optimize.Training.Schedules;
using AotInfer.Tests.Optimize;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>Training loops, optimisers, schedules, pruning masks and checkpoints.</summary>
public class TrainerTests
{
    public TrainerTests() => Progress.Enabled = false;

    /// <summary>Samples of [2,6,6] whose label is the quadrant (of 4) where the first channel is brightest: learnable.</summary>
    static LabeledImages LearnableSamples(int count, int seed)
    {
        var pixels = Differential.RandomFloats(seed, count * 72, 0, 1);
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            var sample = pixels.AsSpan(n * 72, 72);
            var sums = new float[4];
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 6; x++) sums[(y / 3) * 2 + x / 3] += sample[y * 6 + x];
            labels[n] = Array.IndexOf(sums, sums.Max());
        }
        return new LabeledImages(pixels, new[] { 2, 6, 6 }, labels, "quadrants");
    }

    /// <summary>Conv → BatchNormalization → Relu → MaxPool → Flatten → Gemm with small random weights.</summary>
    static ModelProto TrainableCnn(int seed = 11) => new OnnxModelBuilder()
        .Input("x", DataType.Float, 1, 2, 6, 6)
        .Initializer("w1", Differential.RandomFloats(seed, 4 * 2 * 9, -0.3f, 0.3f), 4, 2, 3, 3)
        .Initializer("b1", new float[4], 4)
        .Initializer("gamma", new[] { 1f, 1f, 1f, 1f }, 4)
        .Initializer("beta", new float[4], 4)
        .Initializer("mean", new float[4], 4)
        .Initializer("var", new[] { 1f, 1f, 1f, 1f }, 4)
        .Initializer("w2", Differential.RandomFloats(seed + 1, 4 * 36, -0.2f, 0.2f), 4, 36)
        .Initializer("b2", new float[4], 4)
        .Node("Conv", new[] { "x", "w1", "b1" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }))
        .Node("BatchNormalization", new[] { "c", "gamma", "beta", "mean", "var" }, new[] { "n" })
        .Node("Relu", new[] { "n" }, new[] { "r" })
        .Node("MaxPool", new[] { "r" }, new[] { "p" }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
        .Node("Flatten", new[] { "p" }, new[] { "f" })
        .Node("Gemm", new[] { "f", "w2", "b2" }, new[] { "y" }, ("transB", 1L))
        .Output("y", DataType.Float)
        .Build();

    static TrainingOptions Options(string optimizer, float rate, int epochs = 25) =>
        new() { Optimizer = optimizer, LearningRate = rate, Epochs = epochs, BatchSize = 16, Seed = 3 };

    [Theory]
    [InlineData("sgd", 0.05f)]
    [InlineData("momentum", 0.02f)]
    [InlineData("nesterov", 0.02f)]
    [InlineData("adagrad", 0.02f)]
    [InlineData("adam", 0.003f)]
    public void EveryOptimizerLearnsASmallCnn(string optimizer, float rate)
    {
        var data = LearnableSamples(64, 1);
        var graph = TrainingGraph.Build(TrainableCnn());
        var reports = new Trainer(graph, Options(optimizer, rate), new CrossEntropyLoss()).Train(data);
        Assert.Equal(25, reports.Count);
        Assert.True(reports[^1].Loss < 0.6 * reports[0].Loss, $"{optimizer}: loss {reports[0].Loss:F3} -> {reports[^1].Loss:F3}");
        double accuracy = Trainer.Accuracy(graph, data);
        Assert.True(accuracy > 0.7, $"{optimizer}: accuracy {accuracy:P1}, train {reports[^1].TrainAccuracy:P1}, loss {reports[0].Loss:F3} -> {reports[^1].Loss:F3}");
    }

    [Fact]
    public void TrainingIsReproducibleWithTheSameSeedAndDiffersWithAnother()
    {
        var data = LearnableSamples(48, 2);
        float[] Train(int seed)
        {
            var model = OptimizeTestModels.SmallCnn();
            var graph = TrainingGraph.Build(model, seed: seed);
            new Trainer(graph, Options("adam", 0.003f, 3) with { Seed = seed }, new CrossEntropyLoss()).Train(data);
            return graph.Parameters[0].Values.Span.ToArray();
        }
        Assert.Equal(Train(5), Train(5));
        Assert.NotEqual(Train(5), Train(6));
    }

    [Fact]
    public void CheckpointLoadsInOnnxRuntimeAndAgreesWithTheTrainingGraphAndAotInfer()
    {
        var model = OptimizeTestModels.SmallCnn();
        var graph = TrainingGraph.Build(model);
        new Trainer(graph, Options("adam", 0.003f, 5), new CrossEntropyLoss()).Train(LearnableSamples(48, 3));
        var trained = model.Clone();
        graph.WriteTo(trained);
        Assert.NotEqual(model, trained);
        byte[] bytes = trained.ToByteArray();
        for (int seed = 1; seed <= 3; seed++)
        {
            var input = OptimizeTestModels.Input(seed);
            var ort = OptimizeTestModels.RunOrt(trained, input);
            graph.Training = false;
            var ours = graph.Forward(input, 1, new[] { 2, 6, 6 }).Span.ToArray();
            Assert.True(OptimizeTestModels.MaxDifference(ort, ours) < 1e-4, $"training graph vs ORT: {OptimizeTestModels.MaxDifference(ort, ours)}");
            Differential.AssertAgrees(bytes, 1e-4, 1e-4, (OptimizeTestModels.InputShape, input));
        }
    }

    [Fact]
    public void PrunedWeightsStayZeroThroughGradualFineTuning()
    {
        var model = OptimizeTestModels.SmallCnn();
        var settings = new FineTuneSettings(Options("adam", 0.003f, 3), new GradualPruningSchedule(0.6, 2));
        var rounds = FineTuning.Run(model, null, settings, LearnableSamples(48, 4));
        Assert.Equal(2, rounds.Count);
        Assert.Equal(0.6 * (1 - 0.125), rounds[0].Sparsity, 6);
        Assert.Equal(0.6, rounds[1].Sparsity, 6);
        var editor = new GraphEditor(model);
        var weights = WeightedLayer.Find(editor).SelectMany(l => editor.ReadFloat(l.WeightName)!.As<float>()).ToArray();
        double zeros = weights.Count(w => w == 0) / (double)weights.Length;
        // Pruning set 60% to zero before the last round; training must not have revived any of them.
        Assert.InRange(zeros, 0.6 - 1e-3, 0.6 + 0.01);
    }

    [Fact]
    public void MaskedWeightsStayZeroForEveryOptimizer()
    {
        foreach (var optimizer in new[] { "sgd", "momentum", "nesterov", "adagrad", "adam" })
        {
            var graph = TrainingGraph.Build(OptimizeTestModels.SmallCnn());
            var weight = graph.Parameters.First(p => p.Role == ParameterRole.Weight);
            for (int i = 0; i < weight.Count; i += 2) weight.Values.Span[i] = 0;
            weight.MaskZeros();
            new Trainer(graph, Options(optimizer, 0.01f, 2), new CrossEntropyLoss()).Train(LearnableSamples(32, 5));
            for (int i = 0; i < weight.Count; i += 2) Assert.Equal(0f, weight.Values.Span[i]);
            Assert.Contains(weight.Values.Span.ToArray(), v => v != 0);
        }
    }

    [Fact]
    public void FrozenParametersDoNotChange()
    {
        var graph = TrainingGraph.Build(OptimizeTestModels.SmallCnn());
        var first = graph.Parameters[0];
        first.Frozen = true;
        var before = first.Values.Span.ToArray();
        var last = graph.Parameters[^1].Values.Span.ToArray();
        new Trainer(graph, Options("adam", 0.01f, 2), new CrossEntropyLoss()).Train(LearnableSamples(32, 6));
        Assert.Equal(before, first.Values.Span.ToArray());
        Assert.NotEqual(last, graph.Parameters[^1].Values.Span.ToArray());
    }

    [Fact]
    public void L1AndL2ShrinkTheWeights()
    {
        double Norm(Regularization regularization)
        {
            var graph = TrainingGraph.Build(TrainableCnn());
            new Trainer(graph, Options("sgd", 0.05f, 5) with { Regularization = regularization }, new CrossEntropyLoss()).Train(LearnableSamples(32, 7));
            return graph.Parameters.Where(p => p.Role == ParameterRole.Weight).Sum(p => p.Values.Span.ToArray().Sum(v => (double)Math.Abs(v)));
        }
        double plain = Norm(Regularization.None);
        double l2 = Norm(new Regularization(0, 0.5f)), l1 = Norm(new Regularization(0.05f, 0));
        Assert.True(l2 < 0.95 * plain, $"L2: {l2:F3} vs {plain:F3}");
        Assert.True(l1 < 0.95 * plain, $"L1: {l1:F3} vs {plain:F3}");
    }

    [Fact]
    public void ParametersAreTheLayerWeightsBiasesAndNormalisationNotRunningStatistics()
    {
        var names = TrainingGraph.Build(OptimizeTestModels.SmallCnn()).Parameters.Select(p => (p.Name, p.Role)).ToArray();
        Assert.Equal(new[]
        {
            ("w1", ParameterRole.Weight), ("b1", ParameterRole.Bias), ("gamma", ParameterRole.Normalization), ("beta", ParameterRole.Normalization),
            ("w2", ParameterRole.Weight), ("w3", ParameterRole.Weight), ("b3", ParameterRole.Bias),
        }, names);
    }

    [Fact]
    public void UnsupportedOpsAreAllReportedWithNodeAndOp()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 4)
            .Initializer("w", new float[16], 4, 4)
            .Node("MatMul", new[] { "x", "w" }, new[] { "h" })
            .Node("Erf", new[] { "h" }, new[] { "e" })
            .Node("Sin", new[] { "e" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        var e = Assert.Throws<InvalidOperationException>(() => TrainingGraph.Build(model));
        Assert.Contains("node 'Erf_1' (Erf)", e.Message);
        Assert.Contains("node 'Sin_2' (Sin)", e.Message);
    }

    [Fact]
    public void DatasetThatDoesNotFitTheInputIsAClearError()
    {
        var graph = TrainingGraph.Build(OptimizeTestModels.SmallCnn());
        var data = new LabeledImages(new float[3 * 10], new[] { 10 }, new[] { 0, 1, 2 }, "wrong");
        var e = Assert.Throws<ArgumentException>(() => new Trainer(graph, Options("adam", 0.01f, 1), new CrossEntropyLoss()).Train(data));
        Assert.Contains("[1,2,6,6]".Replace("1,", ""), e.Message);
    }

    [Fact]
    public void FinalSoftmaxIsFoldedIntoTheLoss()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 3)
            .Initializer("w", Differential.RandomFloats(1, 9), 3, 3)
            .Node("MatMul", new[] { "x", "w" }, new[] { "z" })
            .Node("Softmax", new[] { "z" }, new[] { "p" })
            .Output("p", DataType.Float).Build();
        var graph = TrainingGraph.Build(model);
        Assert.True(graph.OutputIsSoftmax);
        Assert.Equal("z", graph.LogitsName);
    }

    [Fact]
    public void Schedules()
    {
        Assert.Equal(0.1f, LearningRateSchedule.Create("fixed", 0.1f).Rate(50, 100, 3));
        Assert.Equal(0.1f * 0.5f * 0.5f, LearningRateSchedule.Create("exponential", 0.1f, 0.5f).Rate(0, 100, 2), 6);
        var cosine = LearningRateSchedule.Create("cosine", 0.1f);
        Assert.Equal(0.1f, cosine.Rate(0, 100, 0), 6);
        Assert.Equal(0.05f, cosine.Rate(50, 100, 0), 6);
        Assert.Equal(0f, cosine.Rate(100, 100, 0), 6);
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.Create("warmup", 0.1f));
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.Create("fixed", -1f));
    }

    [Fact]
    public void GradualPruningScheduleRisesCubically()
    {
        var schedule = new GradualPruningSchedule(0.9, 3);
        Assert.Equal(0.9 * (1 - 8.0 / 27), schedule.Target(1), 9);
        Assert.Equal(0.9 * (1 - 1.0 / 27), schedule.Target(2), 9);
        Assert.Equal(0.9, schedule.Target(3), 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.Target(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradualPruningSchedule(1.0, 2).Target(1));
    }
}
