using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>eval MODEL --dataset SPEC [--reference MODEL] [--limit N] [--json FILE] [--runtime aotinfer|ort] [--sparse MODE]
/// [--reference-sparse MODE]</c>: top-1 accuracy (and agreement with the reference; the sparse modes choose AotInfer's
/// sparse kernels for each side, so that one pruned model can be compared sparse against dense).
/// </summary>
public static class EvalCommand
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        if (args.Positional.Count != 1) throw new UsageException("eval needs one model file");
        string modelPath = args.Positional[0];
        var data = LoadDataset(args);
        var factory = Runners.Get(args.Get("--runtime"), CompileCommand.ParseSparse(args.Get("--sparse") ?? "auto"));
        using var model = Open(factory, modelPath);
        var referenceFactory = Runners.Get(args.Get("--reference-runtime", args.Get("--runtime")), CompileCommand.ParseSparse(args.Get("--reference-sparse") ?? "auto"));
        using var reference = args.Get("--reference") is { } referencePath ? Open(referenceFactory, referencePath) : null;
        var result = AccuracyEvaluator.Evaluate(model, reference, data);
        Print(modelPath, args.Get("--reference"), data, result);
        if (args.Get("--json") is { } jsonPath)
        {
            var json = new
            {
                model = modelPath,
                reference = args.Get("--reference"),
                dataset = data.Description,
                runtime = args.Get("--runtime", "aotinfer"),
                samples = result.Samples,
                accuracy = result.Accuracy,
                referenceAccuracy = double.IsNaN(result.ReferenceAccuracy) ? (double?)null : result.ReferenceAccuracy,
                agreement = double.IsNaN(result.AgreementRate) ? (double?)null : result.AgreementRate,
                modelBytes = new FileInfo(modelPath).Length,
                perClass = result.PerClass.Select(c => new { label = c.Label, count = c.Count, correct = c.Correct, accuracy = c.Accuracy }),
                seconds = result.Seconds,
            };
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    /// <summary>Loads <c>--dataset</c>, cut to <c>--limit</c>.</summary>
    public static LabeledImages LoadDataset(Arguments args, string option = "--dataset", string limitOption = "--limit")
    {
        string spec = args.Get(option) ?? throw new UsageException($"{option} SPEC is required (fashion-mnist:DIR, idx:IMAGES,LABELS, pb:IMAGES.pb,LABELS.pb)");
        LabeledImages data;
        try { data = DatasetLoader.Load(spec); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (args.Get(limitOption) is { } limit)
            data = data.Take(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new UsageException($"{limitOption} must be a positive integer"));
        return data;
    }

    /// <summary>Opens a model file with a runner.</summary>
    public static IModelRunner Open(ModelRunnerFactory factory, string path)
    {
        if (!File.Exists(path)) throw new UsageException($"model file '{path}' does not exist");
        return factory(ModelWriter.Load(path), Path.GetDirectoryName(Path.GetFullPath(path)), Array.Empty<string>());
    }

    static void Print(string modelPath, string? referencePath, LabeledImages data, EvaluationResult r)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Format(c, "model     {0} ({1:N0} bytes)", modelPath, new FileInfo(modelPath).Length));
        Console.WriteLine(string.Format(c, "dataset   {0}, {1} samples, {2:F1} s", data.Description, r.Samples, r.Seconds));
        Console.WriteLine(string.Format(c, "accuracy  {0:F2}% ({1}/{2})", 100 * r.Accuracy, r.Correct, r.Samples));
        if (referencePath is not null)
        {
            Console.WriteLine(string.Format(c, "reference {0}: accuracy {1:F2}%", referencePath, 100 * r.ReferenceAccuracy));
            Console.WriteLine(string.Format(c, "agreement {0:F2}% of top-1 predictions", 100 * r.AgreementRate));
        }
        Console.WriteLine("class  count  correct  accuracy");
        foreach (var k in r.PerClass)
            Console.WriteLine(string.Format(c, "{0,5}  {1,5}  {2,7}  {3,7:F2}%", k.Label, k.Count, k.Correct, 100 * k.Accuracy));
    }
}
