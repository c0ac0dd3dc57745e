using System;
using System.Globalization;
using System.IO;
using System.Text.Json;
using AotInfer.Cli.Bench;

namespace AotInfer.Cli;

/// <summary>
/// <c>bench MODEL --vs onnxruntime [--json FILE] [--rounds N] [--threads T] [--inputs DIR] [--profile]</c>: times the generated code
/// against ONNX Runtime in one process (see <see cref="BenchRunner"/>) and prints the medians and their ratio; with
/// <c>--profile</c>, then a table of time per layer on both sides (see <see cref="LayerProfiler"/>).
/// </summary>
public static class BenchCommand
{
    /// <summary>Runs the verb, printing results to <paramref name="output"/> (standard output by default; errors always go to standard error).</summary>
    public static int Run(Arguments args, TextWriter? output = null)
    {
        output ??= Console.Out;
        if (args.Positional.Count != 1) throw new UsageException("bench needs one model file (or a folder holding model.onnx)");
        string vs = args.Get("--vs", "onnxruntime")!;
        if (vs != "onnxruntime") throw new UsageException($"--vs {vs}: only onnxruntime is supported");
        string path = args.Positional[0];
        if (Directory.Exists(path)) path = Path.Combine(path, "model.onnx");
        var settings = new BenchSettings(
            Rounds: PositiveInt(args, "--rounds", 15),
            Threads: CompileCommand.ThreadCount(args) is 0 ? Environment.ProcessorCount : CompileCommand.ThreadCount(args),
            RoundMilliseconds: args.GetDouble("--round-ms", 20),
            WarmupMilliseconds: args.GetDouble("--warmup-ms", 1000),
            InputsFolder: args.Get("--inputs"));
        bool quiet = args.Has("--quiet");

        var compiled = CompileCommand.Compile(path, args, pinUnknownDimsToOne: true);
        foreach (var d in compiled.Diagnostics) Console.Error.WriteLine(d);
        if (!compiled.Success) return 1;

        string name = ModelName(path);
        BenchResult result;
        try
        {
            result = BenchRunner.Measure(name, File.ReadAllBytes(path), compiled, settings, quiet ? null : m => output.WriteLine("  " + m));
        }
        catch (BenchInputException e)
        {
            Console.Error.WriteLine($"aotinfer: {name}: {e.Message}");
            return 1;
        }
        catch (BenchMismatchException e)
        {
            Console.Error.WriteLine($"aotinfer: {name}: outputs disagree, not timing: {e.Message}");
            return 1;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: aotinfer {result.AotInferMicroseconds:F1} µs, onnxruntime {result.OrtMicroseconds:F1} µs, speedup {result.Speedup:F2}×, " +
            $"allocated {result.AllocatedBytesPerRun:F0} B/run ({result.Rounds} rounds, threads {settings.Threads}); " +
            $"thread CPU time: aotinfer {result.AotInferCpuMicroseconds:F1} µs, onnxruntime {result.OrtCpuMicroseconds:F1} µs, speedup {result.CpuSpeedup:F2}×"));
        if (!result.WarmupSettled)
            Console.Error.WriteLine($"aotinfer: {name}: warning: the warm-up did not reach steady state (JIT still compiling or times still moving); the times may include partly optimised code");
        if (args.Get("--json") is { } json) WriteJson(json, result, settings);
        if (args.Has("--profile"))
        {
            // A second build with a clock stamp per layer: the timing above is of the unstamped code.
            var profiled = CompileCommand.Compile(path, args, pinUnknownDimsToOne: true, profile: true);
            if (!profiled.Success) return 1;
            ProfileTable.Write(output, LayerProfiler.Measure(File.ReadAllBytes(path), profiled, settings));
        }
        return 0;
    }

    /// <summary>The folder name for <c>…/name/model.onnx</c>, else the file name.</summary>
    static string ModelName(string path)
    {
        string file = Path.GetFileName(path);
        return file == "model.onnx" ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? file : file;
    }

    static int PositiveInt(Arguments args, string name, int fallback)
    {
        string? text = args.Get(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0)
            throw new UsageException($"{name} must be a positive integer, got '{text}'");
        return v;
    }

    static void WriteJson(string file, BenchResult result, BenchSettings settings)
    {
        using var stream = File.Create(file);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("model", result.Model);
        w.WriteNumber("aotinfer_us", Math.Round(result.AotInferMicroseconds, 3));
        w.WriteNumber("ort_us", Math.Round(result.OrtMicroseconds, 3));
        w.WriteNumber("speedup", Math.Round(result.Speedup, 4));
        w.WriteNumber("allocated_bytes_per_run", Math.Round(result.AllocatedBytesPerRun, 3));
        if (!double.IsNaN(result.CpuSpeedup))
        {
            w.WriteNumber("aotinfer_cpu_us", Math.Round(result.AotInferCpuMicroseconds, 3));
            w.WriteNumber("ort_cpu_us", Math.Round(result.OrtCpuMicroseconds, 3));
            w.WriteNumber("cpu_speedup", Math.Round(result.CpuSpeedup, 4));
        }
        w.WriteNumber("rounds", result.Rounds);
        w.WriteNumber("aotinfer_iterations_per_round", result.AotInferIterations);
        w.WriteNumber("ort_iterations_per_round", result.OrtIterations);
        w.WriteNumber("threads", settings.Threads);
        w.WriteNumber("max_abs_difference", result.MaxAbsoluteDifference);
        w.WriteBoolean("warmup_settled", result.WarmupSettled);
        w.WriteString("processor", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " logical cores, " + System.Runtime.InteropServices.RuntimeInformation.OSArchitecture);
        w.WriteString("date", DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
