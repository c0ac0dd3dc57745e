using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Cli.Check;
using AotInfer.Kernels;

namespace AotInfer.Cli.Bench;

/// <summary>One row of the per-layer comparison: one of our layers with the ORT nodes matched to it, or an ORT node matched to none.</summary>
/// <param name="Layer">Our layer's name, or the unmatched ORT node's.</param>
/// <param name="Op">Our op type, or ORT's op for an unmatched node.</param>
/// <param name="AotInferMicroseconds">Our time per call (NaN for an ORT-only row).</param>
/// <param name="OrtMicroseconds">The summed kernel times of the ORT nodes matched to the layer (0 when none).</param>
/// <param name="OrtNodes">Those ORT nodes, as <c>name (op)</c>.</param>
public sealed record LayerTime(string Layer, string Op, double AotInferMicroseconds, double OrtMicroseconds, IReadOnlyList<string> OrtNodes);

/// <summary>
/// <c>bench --profile</c>: runs a model compiled with <see cref="CompileOptions.Profile"/> (each layer stamps a clock)
/// and ONNX Runtime with its per-node profiler on the same random inputs, in interleaved rounds of the same number of
/// calls after a warm-up; per layer and per node, the lowest round mean counts (a busy machine inflates it least).
/// ORT's nodes are matched to our layers by name: the layer of that name, else the layer a node was folded into
/// (a fused Relu or bias), else the layer one of whose names or aliases (<see cref="IProfiledModel.LayerAliases"/>)
/// begins ORT's before a separator (ORT names a fused or re-laid-out node after its output, e.g.
/// <c>ReLU32_Output_0_nchwc</c>, and a fusion by suffix, <c>Times212/MatMulAddFusion</c>). Nodes ORT adds (layout
/// reorders) get rows of their own. Both sides pay for their stamps, ORT rather more: compare shares and ratios, not totals.
/// </summary>
public static class LayerProfiler
{
    const int Rounds = 10;

    /// <summary>Profiles <paramref name="profiled"/> (compiled with profiling) against ONNX Runtime on <paramref name="modelBytes"/>.</summary>
    public static List<LayerTime> Measure(byte[] modelBytes, CompileResult profiled, BenchSettings settings)
    {
        var model = BenchRunner.Instantiate(profiled);
        if (model is not IProfiledModel layers) throw new InvalidOperationException("the model was not compiled with profiling (CompileOptions.Profile)");
        var info = model.Info;
        Array[] inputs = BenchRunner.Inputs(info, settings);
        Array[] outputs = info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
        string prefix = Path.Combine(Path.GetTempPath(), $"aotinfer-ort-profile-{Environment.ProcessId}");
        string? trace = null;
        try
        {
            using var ort = new OrtRunner(modelBytes, info, inputs, settings.Threads, prefix);
            Action runGenerated = () => model.Run(inputs, outputs);
            int warmup = CallsFor(runGenerated, settings.WarmupMilliseconds);
            for (int i = 0; i < warmup; i++) { runGenerated(); ort.Run(); }
            // About a second of calls per side, bounded so that ORT's trace (three events per node per call) stays small.
            int perRound = Math.Clamp(CallsFor(runGenerated, 1000) / Rounds, 2, 200);
            var ticks = new long[layers.LayerTicks.Length];
            Array.Fill(ticks, long.MaxValue);
            for (int r = 0; r < Rounds; r++)
            {
                Array.Clear(layers.LayerTicks);
                for (int i = 0; i < perRound; i++) runGenerated();
                for (int l = 0; l < ticks.Length; l++) ticks[l] = Math.Min(ticks[l], layers.LayerTicks[l]);
                for (int i = 0; i < perRound; i++) ort.Run();
            }
            trace = ort.EndProfiling();
            return Match(layers, ticks, perRound, OrtTrace.NodeTimes(trace, Rounds, perRound));
        }
        finally
        {
            if (trace is not null && File.Exists(trace)) File.Delete(trace);
        }
    }

    /// <summary>How many calls of <paramref name="run"/> take about <paramref name="milliseconds"/> (at least 1).</summary>
    static int CallsFor(Action run, double milliseconds)
    {
        var clock = Stopwatch.StartNew();
        run();
        double one = Math.Max(clock.Elapsed.TotalMilliseconds, 1e-3);
        return (int)Math.Clamp(milliseconds / one, 1, 100_000);
    }

    /// <summary>
    /// Our layers in Run order with their matched ORT nodes, then ORT nodes that match no layer; <paramref name="ticks"/>
    /// are each layer's Stopwatch ticks over <paramref name="calls"/> calls.
    /// </summary>
    public static List<LayerTime> Match(IProfiledModel layers, long[] ticks, int calls, IReadOnlyList<OrtNodeTime> ortNodes)
    {
        string[] names = layers.LayerNames;
        var byName = new Dictionary<string, int>();
        for (int i = 0; i < names.Length; i++) byName.TryAdd(names[i], i);
        var byAlias = new Dictionary<string, int>();
        for (int i = 0; i < names.Length; i++)
            foreach (string alias in layers.LayerAliases[i]) byAlias.TryAdd(alias, i);
        var ortTimes = new double[names.Length];
        var ortMatched = names.Select(_ => new List<string>()).ToArray();
        var unmatched = new List<LayerTime>();
        foreach (var node in ortNodes)
        {
            int layer = byName.TryGetValue(node.Name, out int exact) ? exact
                : byAlias.TryGetValue(node.Name, out int aliased) ? aliased
                : LongestPrefix(layers, node.Name);
            if (layer < 0)
            {
                unmatched.Add(new LayerTime(node.Name, node.Op, double.NaN, node.Microseconds, new[] { $"{node.Name} ({node.Op})" }));
                continue;
            }
            ortTimes[layer] += node.Microseconds;
            ortMatched[layer].Add($"{node.Name} ({node.Op})");
        }
        double microsecondsPerTick = 1e6 / Stopwatch.Frequency / calls;
        var rows = new List<LayerTime>();
        for (int i = 0; i < names.Length; i++)
            rows.Add(new LayerTime(names[i], layers.LayerOps[i], ticks[i] * microsecondsPerTick, ortTimes[i], ortMatched[i]));
        rows.AddRange(unmatched);
        return rows;
    }

    /// <summary>
    /// The layer with the longest name or alias that begins <paramref name="ortName"/> followed by <c>_</c> or <c>/</c>
    /// (so a short name such as <c>r</c> does not claim every node starting with that letter); −1 when none does.
    /// </summary>
    static int LongestPrefix(IProfiledModel layers, string ortName)
    {
        int best = -1, bestLength = 0;
        for (int i = 0; i < layers.LayerNames.Length; i++)
            foreach (string name in layers.LayerAliases[i].Prepend(layers.LayerNames[i]))
                if (name.Length > bestLength && name.Length < ortName.Length && ortName[name.Length] is '_' or '/' && ortName.StartsWith(name, StringComparison.Ordinal))
                { best = i; bestLength = name.Length; }
        return best;
    }
}
