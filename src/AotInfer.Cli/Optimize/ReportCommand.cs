using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using AotInfer.Cli.Bench;
using AotInfer.Optimize.Reporting;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// <c>report MODEL VARIANT... --dataset SPEC -o report.html [--limit N] [--latency-runs N] [--runtime aotinfer|ort] [--json FILE] [--markdown FILE]</c>:
/// measures the base model and its optimised variants (accuracy, file and stored size, latency of AotInfer's compiled
/// code, the quantiser's per-layer error, weight distributions) and writes one self-contained HTML page of plots.
/// </summary>
public static class ReportCommand
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        if (args.Positional.Count < 1) throw new UsageException("report needs the base model and optionally its variants: report MODEL VARIANT... --dataset SPEC -o report.html");
        foreach (var path in args.Positional)
            if (!File.Exists(path)) throw new UsageException($"model file '{path}' does not exist");
        string output = args.Get("-o") ?? args.Get("--output") ?? throw new UsageException("report needs -o report.html");
        int latencyRuns = (int)args.GetDouble("--latency-runs", 200);
        if (latencyRuns < 1) throw new UsageException("--latency-runs must be at least 1");
        var data = EvalCommand.LoadDataset(args);
        var accuracyRunners = Runners.Get(args.Get("--runtime"));
        // Latency is always that of AotInfer's compiled code: the report is about what the generator will ship.
        var latencyRunners = Runners.Get("aotinfer");
        var measurements = new List<VariantMeasurement>();
        foreach (var path in args.Positional)
            measurements.Add(VariantMeasurements.Measure(path, data, accuracyRunners, latencyRunners, latencyRuns, SteadyStateWarmUp));

        string html = HtmlReport.Render(measurements, data.Description);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        File.WriteAllText(output, html);

        var c = CultureInfo.InvariantCulture;
        var baseline = measurements[0];
        Console.WriteLine("model                                  accuracy %   Δ points   file bytes  stored bytes  compression  generated weight bytes  weights ×  latency µs");
        foreach (var m in measurements)
            Console.WriteLine(string.Format(c, "{0,-38} {1,10:F2} {2,10:+0.00;-0.00;0.00} {3,12:N0} {4,13:N0} {5,11:F1}× {6,23:N0} {7,9:F2}× {8,11:F1}",
                m.Name, 100 * m.Accuracy, 100 * (m.Accuracy - baseline.Accuracy), m.FileBytes, m.Stored.Bytes, (double)baseline.Stored.Bytes / Math.Max(1, m.Stored.Bytes),
                m.GeneratedWeightBytes, (double)baseline.GeneratedWeightBytes / Math.Max(1, m.GeneratedWeightBytes), m.LatencyMicroseconds));
        Console.WriteLine($"wrote {output}");
        if (args.Get("--markdown") is { } markdown) File.WriteAllText(markdown, MarkdownReport.Table(measurements));
        if (args.Get("--json") is { } json)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                dataset = data.Description,
                samples = data.Count,
                variants = measurements.Select(m => new
                {
                    name = m.Name,
                    path = m.Path,
                    accuracy = m.Accuracy,
                    fileBytes = m.FileBytes,
                    storedBytes = m.Stored.Bytes,
                    storedWeightBytes = m.Stored.WeightBytes,
                    generatedWeightBytes = m.GeneratedWeightBytes,
                    parameters = m.Stored.Parameters,
                    nonZeroWeights = m.Stored.NonZeroWeights,
                    latencyMicroseconds = m.LatencyMicroseconds,
                    layerErrors = m.LayerErrors.Select(e => new { layer = e.Layer, op = e.OpType, sqnr = double.IsFinite(e.Sqnr) ? e.Sqnr : (double?)null, maxError = e.MaxError }),
                }),
            }, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>The bench's warm-up: runs until tiered JIT has finished and the time per run is stable (at least half a second).</summary>
    static void SteadyStateWarmUp(Action run) => SteadyStateWarmup.Run(run, minimumMilliseconds: 500, roundMilliseconds: 100);
}
