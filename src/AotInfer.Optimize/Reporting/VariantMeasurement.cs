using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Quantization;

namespace AotInfer.Optimize.Reporting;

/// <summary>What the report shows of one model: size, accuracy, latency, per-layer error and weights.</summary>
/// <param name="Name">Display name (the file name without extension, or its folder for model.onnx).</param>
/// <param name="Path">Model file.</param>
/// <param name="FileBytes">Size of the ONNX file.</param>
/// <param name="Stored">Stored-size estimate (<see cref="StoredSize"/>).</param>
/// <param name="GeneratedWeightBytes">Constant bytes the generator emits for the model (<see cref="GeneratedWeightSize"/>).</param>
/// <param name="Accuracy">Top-1 accuracy on the dataset.</param>
/// <param name="LatencyMicroseconds">Median time of one batch-1 run of AotInfer's compiled code.</param>
/// <param name="LayerErrors">The quantiser's per-layer error report kept in the model (empty for other models).</param>
/// <param name="Weights">All real-valued layer weights (dequantised; integer weights without a scale are left out).</param>
public sealed record VariantMeasurement(string Name, string Path, long FileBytes, StoredSizeEstimate Stored, long GeneratedWeightBytes, double Accuracy, double LatencyMicroseconds, IReadOnlyList<LayerError> LayerErrors, float[] Weights);

/// <summary>Measures models for the report.</summary>
public static class VariantMeasurements
{
    /// <summary>
    /// Measures <paramref name="path"/>: accuracy on <paramref name="data"/> with <paramref name="accuracyRunners"/>,
    /// latency with <paramref name="latencyRunners"/> (<paramref name="latencyRuns"/> timed runs after warm-up, median of 5 rounds).
    /// <paramref name="warmUp"/> calls the run it is given until it runs at steady state (tiered JIT done); without it
    /// the warm-up is half a second.
    /// </summary>
    public static VariantMeasurement Measure(string path, LabeledImages data, ModelRunnerFactory accuracyRunners, ModelRunnerFactory latencyRunners, int latencyRuns = 200,
        Action<Action>? warmUp = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        var model = ModelWriter.Load(path);
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        double accuracy;
        using (var runner = accuracyRunners(model, directory, Array.Empty<string>()))
            accuracy = AccuracyEvaluator.Evaluate(runner, null, data, "accuracy " + DisplayName(path)).Accuracy;
        double latency;
        using (var runner = latencyRunners(model, directory, Array.Empty<string>()))
            latency = MedianMicroseconds(runner, data.Sample(0).ToArray(), latencyRuns, warmUp);
        var weights = WeightValues.Find(model, directory).Where(w => w.RealValued).SelectMany(w => w.Values).ToArray();
        return new VariantMeasurement(DisplayName(path), path, new FileInfo(path).Length, StoredSize.Estimate(model, directory), GeneratedWeightSize.Measure(model, directory), accuracy, latency,
            QuantizationMetadata.ReadLayerErrors(model), weights);
    }

    /// <summary>"model" files are named after their folder (the shared models' layout), others after the file.</summary>
    public static string DisplayName(string path)
    {
        string name = System.IO.Path.GetFileNameWithoutExtension(path);
        string? folder = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)));
        return name == "model" && !string.IsNullOrEmpty(folder) ? folder : name;
    }

    /// <summary>
    /// Median over 5 rounds of the mean time of one run, in microseconds, after <paramref name="warmUp"/> (or, without
    /// it, a warm-up of at least half a second and <paramref name="runsPerRound"/> runs).
    /// </summary>
    public static double MedianMicroseconds(IModelRunner runner, float[] sample, int runsPerRound, Action<Action>? warmUp = null)
    {
        if (runsPerRound < 1) throw new ArgumentOutOfRangeException(nameof(runsPerRound), runsPerRound, "at least one run per round");
        // Tiered compilation promotes hot code in the background some time after its 30th call: a warm-up counted
        // in runs left the first models of a report on slower code than the later ones, which share the kernels.
        if (warmUp is not null) warmUp(() => runner.Run(sample));
        else
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < runsPerRound || clock.ElapsedMilliseconds < 500; i++) runner.Run(sample);
        }
        var rounds = new double[5];
        for (int r = 0; r < rounds.Length; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < runsPerRound; i++) runner.Run(sample);
            rounds[r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / runsPerRound;
        }
        Array.Sort(rounds);
        return rounds[rounds.Length / 2];
    }
}
