using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Pruning;
using AotInfer.Optimize.Training.Losses;

namespace AotInfer.Optimize.Training;

/// <summary>One prune-then-train round.</summary>
/// <param name="Round">Round number from 1.</param>
/// <param name="Sparsity">Target sparsity of the round's pruning (0 without pruning).</param>
/// <param name="Layers">Per-layer sparsity after pruning (empty without pruning).</param>
/// <param name="Epochs">What each training epoch of the round did.</param>
public sealed record FineTuneRound(int Round, double Sparsity, IReadOnlyList<LayerSparsity> Layers, IReadOnlyList<EpochReport> Epochs);

/// <summary>What a prune-and-fine-tune run is asked to do.</summary>
/// <param name="Training">Training settings of every round.</param>
/// <param name="Pruning">Gradual pruning schedule, or null to fine-tune without pruning.</param>
/// <param name="GlobalPruning">One magnitude threshold across layers (true) or the same sparsity per layer.</param>
/// <param name="KeepExistingZeros">Treat weights that are already zero as pruned (fine-tuning an already pruned model).</param>
public sealed record FineTuneSettings(TrainingOptions Training, GradualPruningSchedule? Pruning, bool GlobalPruning = true, bool KeepExistingZeros = false);

/// <summary>
/// Fine-tuning, optionally interleaved with gradual magnitude pruning: each round prunes the current weights to the
/// schedule's target (with <see cref="MagnitudePruning"/>, on the model), masks the pruned weights so they stay zero,
/// and trains for the configured epochs. The model's initializers end up holding the trained weights.
/// </summary>
public static class FineTuning
{
    /// <summary>Runs the rounds on <paramref name="model"/> (edited in place) and returns what each did.</summary>
    public static List<FineTuneRound> Run(ModelProto model, string? modelDirectory, FineTuneSettings settings, LabeledImages train,
        LabeledImages? test = null, Func<ILoss>? loss = null, float[]? teacherLogits = null)
    {
        loss ??= () => new CrossEntropyLoss();
        int rounds = settings.Pruning?.Steps ?? 1;
        var results = new List<FineTuneRound>();
        for (int round = 1; round <= rounds; round++)
        {
            double sparsity = 0;
            IReadOnlyList<LayerSparsity> layers = Array.Empty<LayerSparsity>();
            if (settings.Pruning is { } schedule)
            {
                sparsity = schedule.Target(round);
                layers = MagnitudePruning.Prune(model, sparsity, settings.GlobalPruning, modelDirectory);
            }
            var graph = TrainingGraph.Build(model, modelDirectory, settings.Training.Seed + round);
            if (settings.Pruning is not null || settings.KeepExistingZeros)
                foreach (var p in graph.Parameters.Where(p => p.Role == ParameterRole.Weight)) p.MaskZeros();
            var options = settings.Training with { Seed = settings.Training.Seed + round, Label = rounds > 1 ? $"round {round}/{rounds}" : settings.Training.Label };
            var epochs = new Trainer(graph, options, loss()).Train(train, teacherLogits, test);
            graph.WriteTo(model, modelDirectory);
            results.Add(new FineTuneRound(round, sparsity, layers, epochs));
        }
        return results;
    }
}
