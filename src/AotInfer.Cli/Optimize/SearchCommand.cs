using System;
using System.Globalization;
using System.IO;
using System.Linq;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training.Search;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>finetune MODEL -o OUT --dataset SPEC --search grid|random [--lr 1e-4,1e-3] [--epochs 1,3] [--prune 0,0.9] [--prune-steps K]
/// [--trials N] [--validation 0.1] [other finetune options]</c>: hyper-parameter search; prints a table of the trials scored on a validation
/// split of the training data and writes the best trial's model.
/// </summary>
public static class SearchCommand
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Runs the search.</summary>
    public static int Run(Arguments args)
    {
        var (input, output) = TransformCommands.Paths(args, "finetune --search");
        string mode = args.Get("--search")!;
        if (mode is not ("grid" or "random")) throw new UsageException($"--search '{mode}' must be grid or random");
        if (args.Has("--test")) throw new UsageException("--search scores trials on a validation split of the training data; judge the chosen model with eval on the test set afterwards");
        var baseline = FinetuneCommand.Settings(args.Without("--lr", "--epochs", "--prune", "--prune-steps", "--search", "--trials", "--validation"));
        var space = new SearchSpace(
            Numbers(args, "--lr", baseline.Training.LearningRate, v => v > 0, "positive learning rates").Select(v => (float)v).ToList(),
            Numbers(args, "--epochs", baseline.Training.Epochs, v => v >= 1 && v == Math.Floor(v), "positive whole epoch counts").Select(v => (int)v).ToList(),
            Numbers(args, "--prune", 0, v => v >= 0 && v < 1, "sparsities in [0, 1)"));
        int seed = baseline.Training.Seed;
        var trials = mode == "grid" ? HyperparameterSearch.Grid(space) : HyperparameterSearch.Random(space, PositiveInt(args, "--trials", 8), seed);
        double fraction = args.GetDouble("--validation", 0.1);
        if (!(fraction > 0 && fraction < 1)) throw new UsageException("--validation must be a fraction in (0, 1), e.g. 0.1");
        var data = EvalCommand.LoadDataset(args);
        var (train, validation) = HyperparameterSearch.Split(data, fraction, seed);

        var model = ModelWriter.Load(input);
        Console.WriteLine($"{mode} search: {trials.Count} trial(s), {train.Count} training and {validation.Count} validation samples");
        Console.WriteLine("trial  learning rate  epochs  sparsity  validation  seconds");
        var (results, best) = HyperparameterSearch.Run(model, Path.GetDirectoryName(Path.GetFullPath(input)), baseline, trials, train, validation,
            t => Console.WriteLine(string.Format(C, "{0,5}  {1,13:G4}  {2,6}  {3,8:F3}  {4,9:F2}%  {5,7:F1}", t.Number, t.Settings.LearningRate, t.Settings.Epochs, t.Settings.Sparsity, 100 * t.ValidationAccuracy, t.Seconds)),
            PositiveInt(args, "--prune-steps", 1));
        var winner = results.OrderByDescending(t => t.ValidationAccuracy).ThenBy(t => t.Number).First();
        Console.WriteLine(string.Format(C, "best: trial {0} (lr {1:G4}, {2} epoch(s), sparsity {3:F3}) at {4:F2}% validation accuracy", winner.Number, winner.Settings.LearningRate, winner.Settings.Epochs, winner.Settings.Sparsity, 100 * winner.ValidationAccuracy));
        ModelWriter.Stamp(best, "finetune", string.Format(C, "{0} search winner: lr {1} epochs {2} sparsity {3}", mode, winner.Settings.LearningRate, winner.Settings.Epochs, winner.Settings.Sparsity));
        ModelWriter.Write(best, output);
        Console.WriteLine(TransformCommands.Sizes(input, output));
        TrainingOutput.WriteJson(args, new
        {
            model = input,
            output,
            search = mode,
            training = train.Count,
            validation = validation.Count,
            trials = results.Select(t => new { trial = t.Number, learningRate = t.Settings.LearningRate, epochs = t.Settings.Epochs, sparsity = t.Settings.Sparsity, validationAccuracy = t.ValidationAccuracy, seconds = t.Seconds }),
            best = winner.Number,
        });
        return 0;
    }

    static double[] Numbers(Arguments args, string name, double fallback, Func<double, bool> valid, string what)
    {
        var items = TrainingOutput.List(args, name);
        if (items.Count == 0) return args.Has(name) ? throw new UsageException($"{name} needs at least one value") : new[] { fallback };
        var values = new double[items.Count];
        for (int i = 0; i < items.Count; i++)
            if (!double.TryParse(items[i], NumberStyles.Float, C, out values[i]) || !valid(values[i]))
                throw new UsageException($"{name} '{args.Get(name)}' must be comma-separated {what}");
        return values;
    }

    static int PositiveInt(Arguments args, string name, int fallback)
    {
        if (args.Get(name) is not { } text) return fallback;
        return int.TryParse(text, NumberStyles.None, C, out int n) && n > 0 ? n : throw new UsageException($"{name} must be a positive integer");
    }
}
