using System;
using System.Linq;
using AotInfer.Cli.Optimize;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Pruning;
using Xunit;
using AotInfer.Tests.Support;

namespace AotInfer.Tests.Optimize;

/// <summary>The gradual (Zhu &amp; Gupta) pruning schedule, magnitude pruning of a weight array, and layer ranking.</summary>
public class PruningScheduleTests
{
    [Fact]
    public void ScheduleFollowsTheCubicFromInitialToFinal()
    {
        var schedule = new PruningSchedule(finalSparsity: 0.8, beginStep: 100, endStep: 1100, frequency: 1, initialSparsity: 0.1);
        Assert.Equal(0, schedule.SparsityAt(99));
        Assert.Equal(0.1, schedule.SparsityAt(100), 12);
        // Half way: s_f + (s_i - s_f)·(1/2)³.
        Assert.Equal(0.8 + (0.1 - 0.8) / 8, schedule.SparsityAt(600), 12);
        Assert.Equal(0.8, schedule.SparsityAt(1100), 12);
        Assert.Equal(0.8, schedule.SparsityAt(5000), 12);
        double previous = 0;
        for (int step = 0; step <= 1200; step++)
        {
            double s = schedule.SparsityAt(step);
            Assert.True(s >= previous, $"sparsity fell at step {step}");
            previous = s;
        }
    }

    [Fact]
    public void SparsityChangesOnlyAtPruningEvents()
    {
        var schedule = new PruningSchedule(0.5, beginStep: 0, endStep: 100, frequency: 10);
        Assert.True(schedule.ShouldPrune(0));
        Assert.True(schedule.ShouldPrune(10));
        Assert.False(schedule.ShouldPrune(15));
        Assert.True(schedule.ShouldPrune(100));
        Assert.False(schedule.ShouldPrune(110));
        Assert.Equal(schedule.SparsityAt(10), schedule.SparsityAt(19));
        Assert.True(schedule.SparsityAt(20) > schedule.SparsityAt(19));
    }

    [Theory]
    [InlineData(1.0, 0, 10, 1, 0.0)]
    [InlineData(-0.1, 0, 10, 1, 0.0)]
    [InlineData(0.5, 10, 10, 1, 0.0)]
    [InlineData(0.5, -1, 10, 1, 0.0)]
    [InlineData(0.5, 0, 10, 0, 0.0)]
    [InlineData(0.5, 0, 10, 1, 0.6)]
    public void ImpossibleSchedulesAreRejected(double final, int begin, int end, int frequency, double initial)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PruningSchedule(final, begin, end, frequency, initial));
    }

    [Fact]
    public void PruneWeightsZeroesTheSmallestMagnitudes()
    {
        var w = new float[] { 0.5f, -0.1f, 0.3f, -0.9f, 0.05f, 0.7f, -0.2f, 0.0f };
        int zeros = MagnitudePruning.PruneWeights(w, 0.5);
        Assert.Equal(4, zeros);
        Assert.Equal(new float[] { 0.5f, 0, 0.3f, -0.9f, 0, 0.7f, 0, 0 }, w);
        Assert.Throws<ArgumentOutOfRangeException>(() => MagnitudePruning.PruneWeights(w, 1.0));
    }

    [Fact]
    public void RankingPrunesEachLayerAloneAndSortsByDrop()
    {
        var model = OptimizeTestModels.SmallCnn();
        // Labels are the float model's own predictions, so the baseline is exactly 100% and any change is a drop.
        var samples = OptimizeTestModels.Samples(40);
        var labels = Enumerable.Range(0, samples.Count).Select(i => AccuracyEvaluator.ArgMax(OptimizeTestModels.RunOrt(model, samples.Sample(i).ToArray()))).ToArray();
        var pixels = Enumerable.Range(0, samples.Count).SelectMany(i => samples.Sample(i).ToArray()).ToArray();
        var data = new LabeledImages(pixels, samples.SampleShape, labels, "self-labelled");
        ModelRunnerFactory ort = (m, d, e) => new OnnxRuntimeRunner(m, d, e);
        var ranking = LayerImportance.Rank(model, data, 0.9, ort);
        Assert.Equal(1.0, ranking.BaselineAccuracy);
        Assert.Equal(3, ranking.Layers.Count);
        Assert.Equal(new[] { "Conv_0", "Conv_3", "Gemm_6" }, ranking.Layers.Select(l => l.Layer).OrderBy(n => n));
        for (int i = 1; i < ranking.Layers.Count; i++) Assert.True(ranking.Layers[i - 1].Drop >= ranking.Layers[i].Drop);
        Assert.All(ranking.Layers, l => Assert.Equal(1.0 - l.Accuracy, l.Drop, 12));
        Assert.True(ranking.Layers[0].Drop > 0, "pruning 90% of a random layer must cost something");
        Assert.Equal(OptimizeTestModels.SmallCnn(), model); // the ranking prunes copies
    }
}

/// <summary>Least-squares re-fit of pruned Gemm/MatMul weights: same zeros, closer outputs.</summary>
public class PrunedWeightReconstructionTests
{
    [Fact]
    public void RefitKeepsTheZerosAndBringsTheOutputsCloser()
    {
        var original = OptimizeTestModels.SmallCnn();
        var magnitude = original.Clone();
        // Only the Gemm, the layer the re-fit applies to: its inputs are then exactly the original model's.
        MagnitudePruning.Prune(magnitude, 0.8, global: false, only: new System.Collections.Generic.HashSet<string> { "Gemm_6" });
        var refitted = magnitude.Clone();
        ModelRunnerFactory ort = (m, d, e) => new OnnxRuntimeRunner(m, d, e);
        var layers = PrunedWeightReconstruction.Reconstruct(refitted, original, OptimizeTestModels.Samples(200, seed: 5), ort);
        Assert.Equal(new[] { "Gemm_6" }, layers);

        var before = new AotInfer.Optimize.Onnx.GraphEditor(magnitude).ReadFloat("w3")!.As<float>();
        var after = new AotInfer.Optimize.Onnx.GraphEditor(refitted).ReadFloat("w3")!.As<float>();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i] == 0, after[i] == 0);
        Assert.NotEqual(before, after);

        // On inputs the re-fit never saw, the re-fitted model is closer to the original than plain magnitude pruning.
        double plain = 0, refit = 0;
        for (int seed = 100; seed < 120; seed++)
        {
            var input = OptimizeTestModels.Input(seed);
            var expected = OptimizeTestModels.RunOrt(original, input);
            plain += OptimizeTestModels.MaxDifference(expected, OptimizeTestModels.RunOrt(magnitude, input));
            refit += OptimizeTestModels.MaxDifference(expected, OptimizeTestModels.RunOrt(refitted, input));
        }
        Assert.True(refit < 0.8 * plain, $"re-fitted error {refit:G4} vs magnitude-only {plain:G4}");
    }

    [Fact]
    public void RefitDoesNotApplyToStructuredPruning()
    {
        using var temporary = new TemporaryDirectory("refit");
        string dir = temporary.Path;
        string model = System.IO.Path.Combine(dir, "m.onnx");
        AotInfer.Optimize.Onnx.ModelWriter.Write(OptimizeTestModels.SmallCnn(), model);
        var args = AotInfer.Cli.Arguments.Parse(new[] { model, "-o", model + ".out", "--structured", "channels", "--dataset", "fashion-mnist:" + dir });
        var e = Assert.Throws<AotInfer.Cli.UsageException>(() => TransformCommands.Prune(args));
        Assert.Contains("--structured", e.Message);
    }
}
