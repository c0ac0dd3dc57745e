using System;
using System.Globalization;
using System.IO;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Reporting;
using AotInfer.Optimize.Training;
using AotInfer.Optimize.Training.Compression;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>finetune MODEL -o OUT --dataset SPEC --shared-weights [training options]</c>: fine-tunes the centroids of a clustered
/// (and usually pruned) model, Deep Compression's third step; zeros stay zero and each layer keeps its number of
/// distinct values. Prints the stored size (<see cref="StoredSize"/>) against fp32.
/// </summary>
public static class SharedWeightsCommand
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        var (input, output) = TransformCommands.Paths(args, "finetune --shared-weights");
        if (args.Has("--prune")) throw new UsageException("--shared-weights fine-tunes a clustered model as it is; prune and cluster before");
        var baseline = FinetuneCommand.Settings(args);
        var train = EvalCommand.LoadDataset(args);
        var test = args.Get("--test") is not null ? EvalCommand.LoadDataset(args, "--test", "--test-limit") : null;
        var model = ModelWriter.Load(input);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(input));
        var hook = new SharedWeights();
        var settings = baseline with { Training = baseline.Training with { Hook = hook, Label = "centroids" }, KeepExistingZeros = true };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rounds = FineTuning.Run(model, directory, settings, train, test);
        double seconds = clock.Elapsed.TotalSeconds;
        TrainingOutput.PrintEpochs(rounds.SelectMany(r => r.Epochs));
        foreach (var (name, count) in hook.CentroidCounts)
            Console.WriteLine(string.Format(C, "  {0,-28} {1,6} shared values", name, count));
        ModelWriter.Stamp(model, "finetune", "shared-weight (centroid) fine-tuning; " + DistillCommand.Describe(settings.Training));
        ModelWriter.Write(model, output);
        Console.WriteLine(string.Format(C, "fine-tuned the centroids on {0} samples × {1} epoch(s) in {2:F1} s; {3}", train.Count, settings.Training.Epochs, seconds, TransformCommands.Sizes(input, output)));
        Console.WriteLine(SizeLine(model, directory));
        TrainingOutput.WriteJson(args, new { model = input, output, dataset = train.Description, seconds, storedBytes = StoredSize.Estimate(model, directory).Bytes, epochs = TrainingOutput.Json(rounds.SelectMany(r => r.Epochs)) });
        return 0;
    }

    /// <summary>"stored size N bytes (weights W, other O) vs fp32 F bytes: R× smaller".</summary>
    public static string SizeLine(ModelProto model, string? directory)
    {
        var size = StoredSize.Estimate(model, directory);
        long fp32 = 4 * size.Parameters;
        return string.Format(C, "stored size {0:N0} bytes (weights {1:N0}: {2:N0} non-zero, indices + palettes; other initializers {3:N0}) vs fp32 {4:N0} bytes: {5:F1}x smaller",
            size.Bytes, size.WeightBytes, size.NonZeroWeights, size.OtherBytes, fp32, (double)fp32 / size.Bytes);
    }
}
