using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>finetune MODEL -o OUT --dataset SPEC [--test SPEC] [--epochs N] [--batch B] [--lr R] [--optimizer adam|sgd|momentum|nesterov|adagrad]
/// [--momentum M] [--schedule fixed|exponential|cosine] [--decay D] [--l1 X] [--l2 X] [--seed S] [--prune S [--prune-steps K] [--per-layer]]
/// [--keep-sparsity] [--limit N] [--json FILE]</c>: trains the model's weights on a labelled dataset and writes them back
/// into the ONNX model. With <c>--prune</c>, K rounds each prune (gradual magnitude schedule) and then train N epochs
/// with the pruned weights held at zero.
/// </summary>
public static class FinetuneCommand
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var (input, output) = TransformCommands.Paths(args, "finetune");
        var train = EvalCommand.LoadDataset(args);
        var test = args.Get("--test") is not null ? EvalCommand.LoadDataset(args, "--test", "--test-limit") : null;
        var settings = Settings(args);
        var model = ModelWriter.Load(input);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(input));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rounds = FineTuning.Run(model, directory, settings, train, test);
        double seconds = clock.Elapsed.TotalSeconds;
        foreach (var round in rounds)
        {
            if (settings.Pruning is not null)
            {
                int weights = round.Layers.Sum(l => l.Weights), zeros = round.Layers.Sum(l => l.Zeros);
                Console.WriteLine(string.Format(C, "round {0}: pruned to {1:F1}% ({2}/{3} weights zero)", round.Round, 100 * round.Sparsity, zeros, weights));
                foreach (var l in round.Layers) Console.WriteLine(string.Format(C, "    {0,-28} {1,9} weights {2,6:F1}% zero", l.Layer, l.Weights, 100 * l.Sparsity));
            }
            foreach (var e in round.Epochs)
                Console.WriteLine(string.Format(C, "  epoch {0,2}  loss {1:F4}  train {2:F2}%  {3}lr {4:G3}  {5:F2} s (cpu {6:F2} s)",
                    e.Epoch, e.Loss, 100 * e.TrainAccuracy, double.IsNaN(e.TestAccuracy) ? "" : string.Format(C, "test {0:F2}%  ", 100 * e.TestAccuracy), e.LearningRate, e.Seconds, e.CpuSeconds));
        }
        ModelWriter.Stamp(model, "finetune", Describe(settings));
        ModelWriter.Write(model, output);
        Console.WriteLine(string.Format(C, "trained {0} samples × {1} epoch(s) × {2} round(s) in {3:F1} s; {4}",
            train.Count, settings.Training.Epochs, rounds.Count, seconds, TransformCommands.Sizes(input, output)));
        if (args.Get("--json") is { } jsonPath)
        {
            var json = new
            {
                model = input,
                output,
                dataset = train.Description,
                settings = Describe(settings),
                seconds,
                rounds = rounds.Select(r => new
                {
                    round = r.Round,
                    sparsity = r.Sparsity,
                    epochs = r.Epochs.Select(e => new { epoch = e.Epoch, loss = e.Loss, trainAccuracy = e.TrainAccuracy, testAccuracy = double.IsNaN(e.TestAccuracy) ? (double?)null : e.TestAccuracy, learningRate = e.LearningRate, seconds = e.Seconds, cpuSeconds = e.CpuSeconds }),
                }),
            };
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    /// <summary>The training and pruning settings the options ask for.</summary>
    public static FineTuneSettings Settings(Arguments args)
    {
        var training = new TrainingOptions
        {
            Epochs = PositiveInt(args, "--epochs", 1),
            BatchSize = PositiveInt(args, "--batch", 64),
            LearningRate = (float)args.GetDouble("--lr", 1e-3),
            Optimizer = args.Get("--optimizer", "adam")!,
            Momentum = args.GetDouble("--momentum", 0),
            Schedule = args.Get("--schedule", "fixed")!,
            Decay = (float)args.GetDouble("--decay", 0.9),
            Regularization = new Regularization((float)args.GetDouble("--l1", 0), (float)args.GetDouble("--l2", 0)),
            Seed = (int)args.GetDouble("--seed", 1),
        };
        if (training.Optimizer is not ("sgd" or "momentum" or "nesterov" or "adagrad" or "adam"))
            throw new UsageException($"--optimizer '{training.Optimizer}' must be sgd, momentum, nesterov, adagrad or adam");
        if (training.Schedule is not ("fixed" or "exponential" or "cosine"))
            throw new UsageException($"--schedule '{training.Schedule}' must be fixed, exponential or cosine");
        if (!(training.LearningRate > 0)) throw new UsageException("--lr must be positive");
        GradualPruningSchedule? pruning = null;
        if (args.Has("--prune"))
        {
            double sparsity = args.GetDouble("--prune", 0);
            if (sparsity < 0 || sparsity >= 1) throw new UsageException("--prune must be a sparsity in [0, 1), e.g. 0.92");
            pruning = new GradualPruningSchedule(sparsity, PositiveInt(args, "--prune-steps", 1));
        }
        else if (args.Has("--prune-steps")) throw new UsageException("--prune-steps needs --prune S");
        return new FineTuneSettings(training, pruning, GlobalPruning: !args.Has("--per-layer"), KeepExistingZeros: args.Has("--keep-sparsity"));
    }

    static int PositiveInt(Arguments args, string name, int fallback)
    {
        if (args.Get(name) is not { } text) return fallback;
        return int.TryParse(text, NumberStyles.None, C, out int n) && n > 0 ? n : throw new UsageException($"{name} must be a positive integer");
    }

    static string Describe(FineTuneSettings s)
    {
        var t = s.Training;
        string text = string.Format(C, "optimizer {0} lr {1} schedule {2} epochs {3} batch {4} l1 {5} l2 {6} seed {7}",
            t.Optimizer, t.LearningRate, t.Schedule, t.Epochs, t.BatchSize, t.Regularization.L1, t.Regularization.L2, t.Seed);
        if (s.Pruning is { } p) text += string.Format(C, "; gradual {0} magnitude pruning to {1} in {2} step(s)", s.GlobalPruning ? "global" : "per-layer", p.FinalSparsity, p.Steps);
        return text;
    }
}
