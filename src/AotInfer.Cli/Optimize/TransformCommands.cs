using System;
using System.Globalization;
using System.IO;
using System.Linq;
using AotInfer.Optimize.Clustering;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Pruning;
using AotInfer.Optimize.Reporting;

namespace AotInfer.Cli.Optimize;

/// <summary>The ONNX-to-ONNX verbs that need no data: <c>fold</c>, <c>prune</c> and <c>cluster</c>.</summary>
public static class TransformCommands
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary><c>fold MODEL -o OUT</c>.</summary>
    public static int Fold(Arguments args)
    {
        var (input, output) = Paths(args, "fold");
        var model = ModelWriter.Load(input);
        var report = ModelFolding.Fold(model, Path.GetDirectoryName(Path.GetFullPath(input)));
        foreach (var line in report.Changes) Console.WriteLine("  " + line);
        ModelWriter.Write(model, output);
        Console.WriteLine($"folded {report.BatchNormsFolded} BatchNormalization, removed {report.PassThroughsRemoved} Identity/Dropout, folded {report.ConstantsFolded} constants; {Sizes(input, output)}");
        return 0;
    }

    /// <summary>
    /// <c>prune MODEL -o OUT --sparsity S [--global (default)|--per-layer] [--nm N:M] [--dataset SPEC [--samples N]]
    /// [--structured channels --ratio R [--norm l1|l2]]</c>; with <c>--dataset</c> the kept Gemm/MatMul weights are
    /// re-fitted by least squares (<see cref="PrunedWeightReconstruction"/>).
    /// </summary>
    public static int Prune(Arguments args)
    {
        var (input, output) = Paths(args, "prune");
        var model = ModelWriter.Load(input);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(input));
        if (args.Get("--structured") is { } structured)
        {
            if (args.Has("--dataset")) throw new UsageException("--dataset (least-squares re-fit) applies to magnitude and N:M pruning, not --structured");
            if (structured != "channels") throw new UsageException("--structured supports 'channels' (Conv output channels and Gemm neurons)");
            double ratio = args.GetDouble("--ratio", 0.25);
            var steps = StructuredPruning.Prune(model, ratio, args.Get("--norm", "l1") == "l2", directory);
            foreach (var s in steps) Console.WriteLine($"  {s.Layer}: {s.Before} -> {s.After} units (rewired {s.Consumer})");
            if (steps.Count == 0) Console.Error.WriteLine("warning: no layer could be pruned structurally (every output reaches a branch, a graph output or an unsupported op)");
        }
        else
        {
            var original = model.Clone();
            var layers = args.Get("--nm") is { } nm
                ? MagnitudePruning.PruneNofM(model, ParseNm(nm).N, ParseNm(nm).M, directory)
                : MagnitudePruning.Prune(model, args.GetDouble("--sparsity", 0.5), !args.Has("--per-layer"), directory);
            if (args.Has("--dataset"))
            {
                // Least-squares re-fit of the kept Gemm/MatMul weights on calibration data (256 samples unless --samples).
                var data = EvalCommand.LoadDataset(args, "--dataset", "--samples");
                if (!args.Has("--samples")) data = data.Take(256);
                var refitted = PrunedWeightReconstruction.Reconstruct(model, original, data, Runners.Get(args.Get("--runtime")), directory);
                Console.WriteLine($"re-fitted the kept weights of {refitted.Count} Gemm/MatMul layers on {data.Count} samples ({string.Join(", ", refitted)})");
            }
            foreach (var l in layers) Console.WriteLine(string.Format(C, "  {0,-28} {1,9} weights {2,6:F1}% zero", l.Layer, l.Weights, 100 * l.Sparsity));
            int total = layers.Sum(l => l.Weights), zeros = layers.Sum(l => l.Zeros);
            Console.WriteLine(string.Format(C, "overall sparsity {0:F1}% of {1} weights", 100.0 * zeros / Math.Max(total, 1), total));
        }
        ModelWriter.Write(model, output);
        Console.WriteLine(Sizes(input, output));
        return 0;
    }

    /// <summary>
    /// <c>cluster MODEL -o OUT --k 16 [--per-channel] [--init kmeans++|optimal] [--codebook fp32|fp16] [--seed N]</c>;
    /// prints the constant bytes the generator emits for the input and the output model.
    /// </summary>
    public static int Cluster(Arguments args)
    {
        var (input, output) = Paths(args, "cluster");
        var model = ModelWriter.Load(input);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(input));
        int k = (int)args.GetDouble("--k", 16);
        int seed = (int)args.GetDouble("--seed", 1234);
        var init = args.Get("--init", "kmeans++") switch
        {
            "kmeans++" => ClusterInit.KMeansPlusPlus,
            "optimal" => ClusterInit.Optimal,
            var i => throw new UsageException($"--init '{i}' must be kmeans++ or optimal"),
        };
        var codebook = ParseCodebook(args.Get("--codebook") ?? "fp32");
        long? before = GeneratedWeightSize.TryMeasure(model, directory, out _);
        var layers = WeightClustering.Cluster(model, k, args.Has("--per-channel"), seed, modelDirectory: directory, init: init, codebook: codebook);
        foreach (var l in layers) Console.WriteLine(string.Format(C, "  {0,-28} {1,9} weights {2,4} distinct values  SQNR {3,6:F1} dB", l.Layer, l.Weights, l.DistinctValues, l.Sqnr));
        // The sizes are what AotInfer's generated class stores; a model it cannot compile is still clustered.
        long? after = GeneratedWeightSize.TryMeasure(model, directory, out string? errors);
        Console.WriteLine(before is { } b && after is { } a
            ? string.Format(C, "{0} weights; generated constant bytes {1:N0} (input {2:N0}, {3:F2}x smaller)", layers.Sum(l => l.Weights), a, b, (double)b / Math.Max(a, 1))
            : $"{layers.Sum(l => l.Weights)} weights; no generated size: AotInfer cannot compile the model ({errors})");
        ModelWriter.Write(model, output);
        Console.WriteLine(Sizes(input, output));
        return 0;
    }

    /// <summary>The <c>--codebook</c> value: fp32 (the default) or fp16.</summary>
    public static CodebookPrecision ParseCodebook(string text) => text switch
    {
        "fp32" => CodebookPrecision.Float32,
        "fp16" => CodebookPrecision.Float16,
        _ => throw new UsageException($"--codebook '{text}' must be fp32 or fp16"),
    };

    static (int N, int M) ParseNm(string text)
    {
        var parts = text.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, C, out int n) && int.TryParse(parts[1], NumberStyles.None, C, out int m) && m > 0 && n <= m) return (n, m);
        throw new UsageException($"--nm '{text}' must be N:M with N ≤ M (e.g. 2:4)");
    }

    /// <summary>The input model and the -o output path.</summary>
    public static (string Input, string Output) Paths(Arguments args, string verb)
    {
        if (args.Positional.Count != 1) throw new UsageException($"{verb} needs one model file");
        string input = args.Positional[0];
        if (!File.Exists(input)) throw new UsageException($"model file '{input}' does not exist");
        string output = args.Get("-o") ?? args.Get("--output") ?? throw new UsageException($"{verb} needs -o OUT.onnx");
        return (input, output);
    }

    /// <summary>"wrote OUT (N bytes, was M)".</summary>
    public static string Sizes(string input, string output) =>
        string.Format(C, "wrote {0} ({1:N0} bytes; input {2:N0} bytes)", output, new FileInfo(output).Length, new FileInfo(input).Length);
}
