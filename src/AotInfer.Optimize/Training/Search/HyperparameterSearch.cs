using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;

namespace AotInfer.Optimize.Training.Search;

/// <summary>The values a search may try; a list with one value fixes that setting.</summary>
/// <param name="LearningRates">Learning rates (random search draws log-uniformly between the smallest and the largest).</param>
/// <param name="Epochs">Epoch counts (random search draws integers between the extremes).</param>
/// <param name="Sparsities">Pruning sparsities, 0 for none (random search draws uniformly between the extremes).</param>
public sealed record SearchSpace(IReadOnlyList<float> LearningRates, IReadOnlyList<int> Epochs, IReadOnlyList<double> Sparsities);

/// <summary>One combination of settings.</summary>
public sealed record TrialSettings(float LearningRate, int Epochs, double Sparsity);

/// <summary>One trained and scored combination.</summary>
/// <param name="Number">Trial number from 1.</param>
/// <param name="Settings">What was tried.</param>
/// <param name="ValidationAccuracy">Top-1 accuracy on the validation split.</param>
/// <param name="Seconds">Wall time of the trial's training and scoring.</param>
public sealed record Trial(int Number, TrialSettings Settings, double ValidationAccuracy, double Seconds);

/// <summary>
/// Grid and random hyper-parameter search over learning rate, epochs and pruning sparsity (Bergstra &amp; Bengio:
/// random search finds good settings with fewer trials when few of the settings matter). Every trial fine-tunes a
/// fresh copy of the model with <see cref="FineTuning"/> and is scored on a validation split held out of the
/// training data, never on the test set, so the chosen settings can still be judged honestly on it.
/// </summary>
public static class HyperparameterSearch
{
    /// <summary>Every combination of the space, learning rate varying slowest.</summary>
    public static List<TrialSettings> Grid(SearchSpace space) =>
        (from lr in space.LearningRates from e in space.Epochs from s in space.Sparsities select new TrialSettings(lr, e, s)).ToList();

    /// <summary><paramref name="trials"/> draws from the space's ranges with a fixed <paramref name="seed"/>.</summary>
    public static List<TrialSettings> Random(SearchSpace space, int trials, int seed)
    {
        if (trials < 1) throw new ArgumentException("random search needs at least one trial");
        var random = new Random(seed);
        double lowRate = Math.Log(space.LearningRates.Min()), highRate = Math.Log(space.LearningRates.Max());
        int lowEpochs = space.Epochs.Min(), highEpochs = space.Epochs.Max();
        double lowSparsity = space.Sparsities.Min(), highSparsity = space.Sparsities.Max();
        return Enumerable.Range(0, trials).Select(_ => new TrialSettings(
            (float)Math.Exp(lowRate + random.NextDouble() * (highRate - lowRate)),
            random.Next(lowEpochs, highEpochs + 1),
            Math.Round(lowSparsity + random.NextDouble() * (highSparsity - lowSparsity), 3))).ToList();
    }

    /// <summary>Shuffles the samples with <paramref name="seed"/> and holds the last <paramref name="fraction"/> out for validation.</summary>
    public static (LabeledImages Train, LabeledImages Validation) Split(LabeledImages data, double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentException($"the validation fraction must be in (0, 1), not {fraction}");
        int validation = (int)Math.Round(data.Count * fraction);
        if (validation < 1 || validation >= data.Count) throw new ArgumentException($"a validation fraction of {fraction} of {data.Count} samples leaves no training or no validation data");
        var order = Enumerable.Range(0, data.Count).ToArray();
        new Random(seed).Shuffle(order);
        return (Subset(data, order[..^validation], "training part"), Subset(data, order[^validation..], "validation part"));
    }

    static LabeledImages Subset(LabeledImages data, int[] indices, string what)
    {
        var pixels = new float[indices.Length * data.SampleSize];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            data.Sample(indices[i]).CopyTo(pixels.AsSpan(i * data.SampleSize, data.SampleSize));
            labels[i] = data.Labels[indices[i]];
        }
        return new LabeledImages(pixels, data.SampleShape, labels, $"{data.Description}, {what} ({indices.Length})");
    }

    /// <summary>
    /// Trains a copy of <paramref name="model"/> per trial (settings from <paramref name="baseline"/> with the trial's
    /// rate, epochs and sparsity, pruned gradually over <paramref name="pruneSteps"/> rounds) and scores it on
    /// <paramref name="validation"/>. Returns the trials in order and the model of the best one (the first of equals).
    /// </summary>
    public static (List<Trial> Trials, ModelProto Best) Run(ModelProto model, string? modelDirectory, FineTuneSettings baseline,
        IReadOnlyList<TrialSettings> trials, LabeledImages train, LabeledImages validation, Action<Trial>? report = null, int pruneSteps = 1)
    {
        var results = new List<Trial>();
        ModelProto? best = null;
        double bestAccuracy = double.NegativeInfinity;
        foreach (var (settings, index) in trials.Select((t, i) => (t, i)))
        {
            var clock = Stopwatch.StartNew();
            var candidate = model.Clone();
            var pruning = settings.Sparsity > 0 ? new GradualPruningSchedule(settings.Sparsity, pruneSteps) : null;
            var training = baseline.Training with { LearningRate = settings.LearningRate, Epochs = settings.Epochs, Label = $"trial {index + 1}/{trials.Count}" };
            FineTuning.Run(candidate, modelDirectory, baseline with { Training = training, Pruning = pruning }, train);
            double accuracy = Trainer.Accuracy(TrainingGraph.Build(candidate, modelDirectory), validation);
            var trial = new Trial(index + 1, settings, accuracy, clock.Elapsed.TotalSeconds);
            results.Add(trial);
            report?.Invoke(trial);
            if (accuracy > bestAccuracy) (best, bestAccuracy) = (candidate, accuracy);
        }
        return (results, best ?? model);
    }
}
