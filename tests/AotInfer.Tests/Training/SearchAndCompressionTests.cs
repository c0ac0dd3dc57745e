using System;
using System.Linq;
using AotInfer.Optimize.Clustering;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Pruning;
using AotInfer.Optimize.Training;
using AotInfer.Optimize.Training.Compression;
using AotInfer.Optimize.Training.Models;
using AotInfer.Optimize.Training.Search;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>Hyper-parameter search (splits, grids, random draws, reproducibility) and shared-weight fine-tuning.</summary>
public class SearchAndCompressionTests
{
    public SearchAndCompressionTests() => Progress.Enabled = false;

    static LabeledImages Samples(int count, int seed)
    {
        var pixels = Differential.RandomFloats(seed, count * 8, 0, 1);
        var labels = Enumerable.Range(0, count).Select(n => { var s = pixels.AsSpan(n * 8, 3).ToArray(); return Array.IndexOf(s, s.Max()); }).ToArray();
        return new LabeledImages(pixels, new[] { 8 }, labels, "argmax of three");
    }

    [Fact]
    public void ValidationSplitIsDisjointSizedAndSeeded()
    {
        var data = Samples(100, 1);
        var (train, validation) = HyperparameterSearch.Split(data, 0.2, seed: 3);
        Assert.Equal(80, train.Count);
        Assert.Equal(20, validation.Count);
        var all = Enumerable.Range(0, 80).Select(i => train.Sample(i)[0]).Concat(Enumerable.Range(0, 20).Select(i => validation.Sample(i)[0])).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => data.Sample(i)[0]).OrderBy(v => v), all.OrderBy(v => v));
        Assert.Equal(validation.Sample(5).ToArray(), HyperparameterSearch.Split(data, 0.2, seed: 3).Validation.Sample(5).ToArray());
        Assert.NotEqual(validation.Sample(5).ToArray(), HyperparameterSearch.Split(data, 0.2, seed: 4).Validation.Sample(5).ToArray());
        Assert.Throws<ArgumentException>(() => HyperparameterSearch.Split(data, 1.0, 1));
        Assert.Throws<ArgumentException>(() => HyperparameterSearch.Split(Samples(3, 1), 0.1, 1));
    }

    [Fact]
    public void GridCoversEveryCombinationAndRandomDrawsStayInTheRanges()
    {
        var space = new SearchSpace(new[] { 1e-4f, 1e-2f }, new[] { 1, 3 }, new[] { 0.0, 0.5, 0.9 });
        var grid = HyperparameterSearch.Grid(space);
        Assert.Equal(12, grid.Count);
        Assert.Equal(12, grid.Distinct().Count());
        var draws = HyperparameterSearch.Random(space, 50, seed: 7);
        Assert.All(draws, d =>
        {
            Assert.InRange(d.LearningRate, 1e-4f * 0.999f, 1e-2f * 1.001f);
            Assert.InRange(d.Epochs, 1, 3);
            Assert.InRange(d.Sparsity, 0, 0.9);
        });
        // Log-uniform: about half of the rates fall below the geometric middle 1e-3.
        Assert.InRange(draws.Count(d => d.LearningRate < 1e-3f), 15, 35);
        Assert.Equal(draws, HyperparameterSearch.Random(space, 50, seed: 7));
        Assert.NotEqual(draws, HyperparameterSearch.Random(space, 50, seed: 8));
    }

    [Fact]
    public void SearchIsReproducibleAndPicksTheBestValidationTrial()
    {
        var model = MlpBuilder.Create(new[] { 8, 12, 3 }, new[] { 8 }, seed: 1);
        var (train, validation) = HyperparameterSearch.Split(Samples(200, 2), 0.25, seed: 1);
        var baseline = new FineTuneSettings(new TrainingOptions { BatchSize = 16, Seed = 5 }, null);
        var trials = HyperparameterSearch.Grid(new SearchSpace(new[] { 1e-5f, 3e-2f }, new[] { 2 }, new[] { 0.0, 0.5 }));
        var (first, best) = HyperparameterSearch.Run(model, null, baseline, trials, train, validation);
        var (second, _) = HyperparameterSearch.Run(model, null, baseline, trials, train, validation);
        Assert.Equal(first.Select(t => t.ValidationAccuracy), second.Select(t => t.ValidationAccuracy));
        // A rate of 1e-5 barely moves the weights: the larger rate must win.
        var winner = first.OrderByDescending(t => t.ValidationAccuracy).First();
        Assert.Equal(3e-2f, winner.Settings.LearningRate);
        Assert.True(winner.ValidationAccuracy > first[0].ValidationAccuracy + 0.1, string.Join(", ", first.Select(t => $"{t.Settings}: {t.ValidationAccuracy:P1}")));
        Assert.Equal(winner.ValidationAccuracy, Trainer.Accuracy(TrainingGraph.Build(best), validation));
        // The pruned trials really were pruned.
        var graph = new GraphEditor(best);
        if (winner.Settings.Sparsity > 0) Assert.Contains(0f, graph.ReadFloat("fc1.weight")!.As<float>());
        // The input model is left alone.
        Assert.DoesNotContain(0f, new GraphEditor(model).ReadFloat("fc1.weight")!.As<float>());
    }

    [Fact]
    public void SharedWeightFineTuningKeepsZerosAndTheNumberOfSharedValuesAndMovesTheCentroids()
    {
        var model = MlpBuilder.Create(new[] { 8, 24, 3 }, new[] { 8 }, seed: 3);
        var data = Samples(256, 4);
        MagnitudePruning.Prune(model, 0.5, global: true);
        WeightClustering.Cluster(model, 8, perChannel: false);
        var before = new GraphEditor(model).ReadFloat("fc1.weight")!.As<float>();
        double accuracyBefore = Trainer.Accuracy(TrainingGraph.Build(model), data);
        var hook = new SharedWeights();
        var options = new TrainingOptions { Epochs = 10, BatchSize = 32, LearningRate = 0.01f, Hook = hook };
        FineTuning.Run(model, null, new FineTuneSettings(options, null, KeepExistingZeros: true), data);
        var after = new GraphEditor(model).ReadFloat("fc1.weight")!.As<float>();
        Assert.Equal(before.Select(v => v == 0), after.Select(v => v == 0));
        Assert.Equal(before.Where(v => v != 0).Distinct().Count(), after.Where(v => v != 0).Distinct().Count());
        Assert.Equal(7, hook.CentroidCounts["fc1.weight"]);
        // Members of a cluster stay together: equal before means equal after.
        for (int i = 0; i < before.Length; i++)
            for (int j = i + 1; j < before.Length; j++)
                if (before[i] == before[j]) Assert.Equal(after[i], after[j]);
        Assert.NotEqual(before, after);
        Assert.True(Trainer.Accuracy(TrainingGraph.Build(model), data) > accuracyBefore, "fine-tuning the centroids should fit the training data better");
    }
}
