using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using AotInfer.Optimize.Training;

namespace AotInfer.Cli.Optimize;

/// <summary>Console lines and JSON of the training verbs added beside <c>finetune</c> (distill, transfer, qat, search).</summary>
public static class TrainingOutput
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>One line per epoch.</summary>
    public static void PrintEpochs(IEnumerable<EpochReport> epochs)
    {
        foreach (var e in epochs)
            Console.WriteLine(string.Format(C, "  epoch {0,2}  loss {1:F4}  train {2:F2}%  {3}lr {4:G3}  {5:F2} s (cpu {6:F2} s)",
                e.Epoch, e.Loss, 100 * e.TrainAccuracy, double.IsNaN(e.TestAccuracy) ? "" : string.Format(C, "test {0:F2}%  ", 100 * e.TestAccuracy), e.LearningRate, e.Seconds, e.CpuSeconds));
    }

    /// <summary>The epochs as JSON objects.</summary>
    public static IEnumerable<object> Json(IEnumerable<EpochReport> epochs) => epochs.Select(e => new
    {
        epoch = e.Epoch,
        loss = e.Loss,
        trainAccuracy = e.TrainAccuracy,
        testAccuracy = double.IsNaN(e.TestAccuracy) ? (double?)null : e.TestAccuracy,
        learningRate = e.LearningRate,
        seconds = e.Seconds,
        cpuSeconds = e.CpuSeconds,
    });

    /// <summary>Writes <paramref name="value"/> to the <c>--json</c> file when one was asked for.</summary>
    public static void WriteJson(Arguments args, object value)
    {
        if (args.Get("--json") is { } path)
            File.WriteAllText(path, JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The comma-separated list option <paramref name="name"/> (empty when absent).</summary>
    public static List<string> List(Arguments args, string name) =>
        args.Get(name) is { } text ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() : new List<string>();

    /// <summary>Comma-separated positive integers (layer widths).</summary>
    public static int[] PositiveInts(Arguments args, string name)
    {
        var items = List(args, name);
        var values = new int[items.Count];
        for (int i = 0; i < items.Count; i++)
            if (!int.TryParse(items[i], NumberStyles.None, C, out values[i]) || values[i] < 1)
                throw new UsageException($"{name} '{args.Get(name)}' must be comma-separated positive integers (e.g. 64,32)");
        if (values.Length == 0) throw new UsageException($"{name} needs at least one value");
        return values;
    }
}
