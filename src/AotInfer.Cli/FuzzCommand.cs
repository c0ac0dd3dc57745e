using System;
using System.IO;
using System.Linq;
using AotInfer.Cli.Fuzz;

namespace AotInfer.Cli;

/// <summary>
/// <c>fuzz [FOLDER...] [--seconds N] [--seed S] [--models N] [--no-run] [--node-stride K]</c>: the long fuzz run
/// (hidden from the usage text). Folders default to ../shared/models, ../shared/real-models and
/// ../shared/onnx-node-tests/node. Exit code 1 when anything was found.
/// </summary>
public static class FuzzCommand
{
    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(Arguments args)
    {
        var folders = args.Positional.Count > 0 ? args.Positional.ToList()
            : new[] { "../shared/models", "../shared/real-models", "../shared/onnx-node-tests/node" }.Where(Directory.Exists).ToList();
        if (folders.Count == 0) throw new UsageException("fuzz needs model folders (none given and ../shared not found)");
        var corpus = FuzzRunner.LoadCorpus(folders, (int)args.GetDouble("--node-stride", 10));
        var settings = new FuzzSettings
        {
            Seed = (int)args.GetDouble("--seed", 1),
            Duration = TimeSpan.FromSeconds(args.GetDouble("--seconds", 60)),
            MaxModels = (long)args.GetDouble("--models", 0),
            RunGenerated = !args.Has("--no-run"),
        };
        Console.WriteLine($"fuzz: corpus of {corpus.Count} models, seed {settings.Seed}, {settings.Duration.TotalSeconds:F0} s");
        var report = FuzzRunner.Run(new ModelMutator(corpus), settings, Console.WriteLine);
        foreach (var finding in report.Findings) Console.WriteLine(finding);
        Console.WriteLine(report);
        return report.Findings.Count == 0 ? 0 : 1;
    }
}
