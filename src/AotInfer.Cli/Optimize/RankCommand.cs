using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Pruning;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>prune MODEL --rank --dataset SPEC [--sparsity 0.5] [--limit N] [--runtime aotinfer|ort] [--json FILE]</c>:
/// prunes each layer alone and prints the accuracy drop per layer, most sensitive first. Writes no model.
/// </summary>
public static class RankCommand
{
    /// <summary>Runs the ranking.</summary>
    public static int Run(Arguments args)
    {
        if (args.Positional.Count != 1) throw new UsageException("prune --rank needs one model file");
        string input = args.Positional[0];
        if (!File.Exists(input)) throw new UsageException($"model file '{input}' does not exist");
        if (args.Has("-o") || args.Has("--output")) throw new UsageException("prune --rank writes no model; drop -o");
        double sparsity = args.GetDouble("--sparsity", 0.5);
        if (!(sparsity > 0 && sparsity < 1)) throw new UsageException($"--sparsity {sparsity.ToString(CultureInfo.InvariantCulture)} must be in (0, 1)");
        var data = EvalCommand.LoadDataset(args);
        var ranking = LayerImportance.Rank(ModelWriter.Load(input), data, sparsity, Runners.Get(args.Get("--runtime")), Path.GetDirectoryName(Path.GetFullPath(input)));

        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Format(c, "baseline accuracy {0:F2}% on {1} samples; each layer pruned alone to {2:P0} sparsity:", 100 * ranking.BaselineAccuracy, data.Count, sparsity));
        Console.WriteLine("rank  layer                          op      weights  accuracy %  drop (points)");
        int rank = 1;
        foreach (var l in ranking.Layers)
            Console.WriteLine(string.Format(c, "{0,4}  {1,-30} {2,-6} {3,8}  {4,10:F2}  {5,13:+0.00;-0.00;0.00}", rank++, l.Layer, l.OpType, l.Weights, 100 * l.Accuracy, 100 * l.Drop));
        if (args.Get("--json") is { } json)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                model = input,
                sparsity,
                samples = data.Count,
                baselineAccuracy = ranking.BaselineAccuracy,
                layers = ranking.Layers.Select(l => new { layer = l.Layer, op = l.OpType, weights = l.Weights, accuracy = l.Accuracy, drop = l.Drop }),
            }, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }
}
