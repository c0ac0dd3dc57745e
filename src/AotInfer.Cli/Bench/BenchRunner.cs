using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using AotInfer.Cli.Check;
using AotInfer.Compiler;
using AotInfer.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace AotInfer.Cli.Bench;

/// <summary>Settings of one <c>bench</c> measurement.</summary>
/// <param name="Rounds">Interleaved rounds per side (A B A B …); the medians are over these.</param>
/// <param name="Threads">ONNX Runtime intra-op threads; the generated code is compiled for the same count (CompileOptions.Threads).</param>
/// <param name="RoundMilliseconds">Target duration of one round of one side.</param>
/// <param name="WarmupMilliseconds">Minimum warm-up per side; it then continues until the JIT is quiet and the time per call is stable (<see cref="SteadyStateWarmup"/>).</param>
/// <param name="Seed">Seed of the random inputs.</param>
/// <param name="InputsFolder">
/// A test-data folder (<c>input_0.pb</c>, <c>input_1.pb</c>… as in <c>test_data_set_0</c>) whose tensors both sides run on
/// instead of random inputs: real data has the zeros (an image's background) that random values lack, and the
/// generated code skips work on zero inputs.
/// </param>
public sealed record BenchSettings(int Rounds = 15, int Threads = 1, double RoundMilliseconds = 20, double WarmupMilliseconds = 1000, int Seed = 1234,
    string? InputsFolder = null);

/// <summary>The outcome of one measurement; times are medians of per-round means, in microseconds per inference.</summary>
/// <param name="Model">The model file.</param>
/// <param name="AotInferMicroseconds">Median time of the generated code.</param>
/// <param name="OrtMicroseconds">Median time of ONNX Runtime.</param>
/// <param name="AllocatedBytesPerRun">Managed bytes the generated code allocated per inference (should be 0).</param>
/// <param name="Rounds">Rounds per side.</param>
/// <param name="AotInferIterations">Inferences per generated-code round.</param>
/// <param name="OrtIterations">Inferences per ONNX Runtime round.</param>
/// <param name="MaxAbsoluteDifference">Largest output difference seen while verifying.</param>
public sealed record BenchResult(string Model, double AotInferMicroseconds, double OrtMicroseconds, double AllocatedBytesPerRun,
    int Rounds, int AotInferIterations, int OrtIterations, double MaxAbsoluteDifference)
{
    /// <summary>ONNX Runtime time over generated-code time (above 1: generated code is faster).</summary>
    public double Speedup => OrtMicroseconds / AotInferMicroseconds;

    /// <summary>
    /// Median CPU time of the benchmarking thread per generated inference: unlike wall time it does not count the
    /// time the thread waits for a core, so it stays meaningful on a loaded machine (NaN where unavailable).
    /// </summary>
    public double AotInferCpuMicroseconds { get; init; } = double.NaN;

    /// <summary>The same for ONNX Runtime (with one intra-op thread it computes on the calling thread).</summary>
    public double OrtCpuMicroseconds { get; init; } = double.NaN;

    /// <summary>
    /// True when both sides reached steady state (JIT quiet, per-call time stable) before timing; false means the
    /// warm-up hit its time limit and the times may include partly optimised code.
    /// </summary>
    public bool WarmupSettled { get; init; } = true;

    /// <summary>Ratio of the CPU-time medians.</summary>
    public double CpuSpeedup => OrtCpuMicroseconds / AotInferCpuMicroseconds;
}

/// <summary>The calling thread's CPU time (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>; NaN elsewhere).</summary>
internal static class ThreadCpuTime
{
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    /// <summary>Microseconds of CPU time this thread has used.</summary>
    public static double Microseconds()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        return ClockGetTime(ThreadCpuClock, out var t) == 0 ? t.Seconds * 1e6 + t.Nanoseconds / 1e3 : double.NaN;
    }
}

/// <summary>Thrown when the inputs given to <c>bench --inputs</c> do not fit the model.</summary>
public sealed class BenchInputException(string message) : Exception(message);

/// <summary>Thrown when the two sides disagree on the benchmark inputs, so timing them would be meaningless.</summary>
public sealed class BenchMismatchException(string message) : Exception(message);

/// <summary>
/// Measures generated code against ONNX Runtime in one process, as <c>docs/BENCHMARKING</c> asks: same random
/// inputs (fixed seed) for both, outputs verified before timing, warm-up until tiered JIT settles and the time per
/// call is stable (<see cref="SteadyStateWarmup"/>), interleaved
/// rounds, median per side and the ratio of medians. ONNX Runtime runs at its best: ORT_ENABLE_ALL, the given
/// thread count, and an IOBinding over pre-allocated OrtValues reused for every call.
/// </summary>
public static class BenchRunner
{
    /// <summary>Compiles <paramref name="result"/>'s source in memory and benchmarks it against ONNX Runtime on <paramref name="modelBytes"/>.</summary>
    public static BenchResult Measure(string modelName, byte[] modelBytes, CompileResult result, BenchSettings settings, Action<string>? log = null)
    {
        log ??= _ => { };
        var model = Instantiate(result);
        var info = model.Info;
        Array[] inputs = Inputs(info, settings);
        Array[] outputs = info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
        using var ort = new OrtRunner(modelBytes, info, inputs, settings.Threads);
        Array[] ortOutputs = ort.Outputs;
        Action runGenerated = () => model.Run(inputs, outputs);
        Action runOrt = ort.Run;

        runGenerated();
        runOrt();
        double difference = Verify(info, outputs, ortOutputs);
        log($"outputs agree (max |difference| {difference:G3})");

        var generatedWarmup = SteadyStateWarmup.Run(runGenerated, settings.WarmupMilliseconds, settings.RoundMilliseconds);
        var ortWarmup = SteadyStateWarmup.Run(runOrt, settings.WarmupMilliseconds, settings.RoundMilliseconds);
        int generatedIterations = generatedWarmup.IterationsPerRound, ortIterations = ortWarmup.IterationsPerRound;
        log($"warm-up: generated code {Describe(generatedWarmup)}, ONNX Runtime {Describe(ortWarmup)}; " +
            $"{generatedIterations} generated / {ortIterations} ORT inferences per round");

        var generatedTimes = new double[settings.Rounds];
        var ortTimes = new double[settings.Rounds];
        var generatedCpu = new double[settings.Rounds];
        var ortCpu = new double[settings.Rounds];
        long allocated = 0;
        for (int r = 0; r < settings.Rounds; r++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            generatedTimes[r] = TimeRound(runGenerated, generatedIterations, out generatedCpu[r]);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            ortTimes[r] = TimeRound(runOrt, ortIterations, out ortCpu[r]);
        }
        // The timed rounds must not have changed the answer (e.g. a kernel that keeps state between calls).
        Verify(info, outputs, ortOutputs);
        return new BenchResult(modelName, Median(generatedTimes), Median(ortTimes), (double)allocated / (settings.Rounds * generatedIterations),
            settings.Rounds, generatedIterations, ortIterations, difference)
        {
            AotInferCpuMicroseconds = Median(generatedCpu),
            OrtCpuMicroseconds = Median(ortCpu),
            WarmupSettled = generatedWarmup.Settled && ortWarmup.Settled,
        };
    }

    /// <summary>Compiles generated source in memory and creates the model it declares.</summary>
    public static IGeneratedModel Instantiate(CompileResult result)
    {
        var failures = new Dictionary<string, string>();
        var assembly = InMemoryCompiler.CompileBatch(new Dictionary<string, string> { ["bench"] = result.Source! }, failures)
            ?? throw new InvalidOperationException("generated code does not compile: " + string.Join(" | ", failures.Values));
        var type = assembly.GetTypes().Single(t => typeof(IGeneratedModel).IsAssignableFrom(t) && !t.IsAbstract);
        return (IGeneratedModel)Activator.CreateInstance(type)!;
    }

    /// <summary>The inputs both sides run on: <see cref="BenchSettings.InputsFolder"/>'s tensors, else random ones.</summary>
    public static Array[] Inputs(ModelInfo info, BenchSettings settings) =>
        settings.InputsFolder is { } folder ? FolderInputs(info, folder) : RandomInputs(info, settings.Seed);

    /// <summary>
    /// The tensors of <c>input_N.pb</c> in <paramref name="folder"/>, one per model input in order; a missing file, or a
    /// tensor whose type or element count is not the input's, is an error naming both.
    /// </summary>
    public static Array[] FolderInputs(ModelInfo info, string folder)
    {
        if (!System.IO.Directory.Exists(folder)) throw new BenchInputException($"--inputs {folder}: no such folder");
        var inputs = new Array[info.Inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var expected = info.Inputs[i];
            string file = System.IO.Path.Combine(folder, $"input_{i}.pb");
            if (!System.IO.File.Exists(file)) throw new BenchInputException($"--inputs {folder}: {System.IO.Path.GetFileName(file)} is missing (model input {i}, '{expected.Name}')");
            Onnx.Tensor tensor;
            try
            {
                tensor = Onnx.TensorProtoReader.Read(Onnx.OnnxModelLoader.LoadTensorFile(file), folder);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new BenchInputException($"{file}: not a readable TensorProto: {e.Message}");
            }
            int count = Onnx.ShapeMath.ElementCount(tensor.Shape);
            if (tensor.Type.ToString() != expected.ElementType || count != expected.Length)
                throw new BenchInputException($"{file}: a {tensor.Type} tensor of {count} elements, but model input '{expected.Name}' is {expected.ElementType} with {expected.Length}");
            inputs[i] = RuntimeArrays.FromTensor(tensor);
        }
        return inputs;
    }

    /// <summary>One random array per model input, drawn with a fixed seed.</summary>
    public static Array[] RandomInputs(ModelInfo info, int seed)
    {
        var random = new Random(seed);
        return info.Inputs.Select(i => RandomArray(i, random)).ToArray();
    }

    /// <summary>Microseconds per call (wall clock), and in <paramref name="cpuMicroseconds"/> this thread's CPU time per call.</summary>
    static double TimeRound(Action run, int iterations, out double cpuMicroseconds) => SteadyStateWarmup.TimeBurst(run, iterations, out cpuMicroseconds);

    static double Median(double[] values) => SteadyStateWarmup.Median(values);

    static string Describe(WarmupOutcome w) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{(w.Settled ? "settled" : "NOT settled")} after {w.Calls} calls in {w.Milliseconds / 1000:F1} s");

    /// <summary>Largest absolute difference; throws when any element differs by more than 1e-4 + 1e-3·|expected|.</summary>
    static double Verify(ModelInfo info, Array[] actual, Array[] expected)
    {
        double worst = 0;
        for (int o = 0; o < actual.Length; o++)
            for (int i = 0; i < actual[o].Length; i++)
            {
                double a = RuntimeArrays.At(actual[o], i), e = RuntimeArrays.At(expected[o], i);
                if (double.IsNaN(a) && double.IsNaN(e)) continue;
                double diff = Math.Abs(a - e);
                if (!(diff <= 1e-4 + 1e-3 * Math.Abs(e)))
                    throw new BenchMismatchException($"output '{info.Outputs[o].Name}'[{i}]: generated {a:G9}, ONNX Runtime {e:G9}");
                worst = Math.Max(worst, diff);
            }
        return worst;
    }

    /// <summary>Random values for one input: floats uniform in [-1, 1), integers in [0, 4), booleans fair.</summary>
    static Array RandomArray(TensorInfo input, Random random)
    {
        int n = input.Length;
        switch (input.ElementType)
        {
            case "Float": { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(random.NextDouble() * 2 - 1); return a; }
            case "Double": { var a = new double[n]; for (int i = 0; i < n; i++) a[i] = random.NextDouble() * 2 - 1; return a; }
            case "Int32": { var a = new int[n]; for (int i = 0; i < n; i++) a[i] = random.Next(4); return a; }
            case "Int64": { var a = new long[n]; for (int i = 0; i < n; i++) a[i] = random.Next(4); return a; }
            case "UInt8": { var a = new byte[n]; random.NextBytes(a); return a; }
            case "Bool": { var a = new bool[n]; for (int i = 0; i < n; i++) a[i] = random.Next(2) == 1; return a; }
            default: throw new UsageException($"input '{input.Name}' has element type {input.ElementType}, which bench cannot fill yet");
        }
    }
}
