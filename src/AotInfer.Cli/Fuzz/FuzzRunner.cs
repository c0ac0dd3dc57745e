using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using AotInfer.Cli.Check;
using AotInfer.Compiler;
using AotInfer.Kernels;

namespace AotInfer.Cli.Fuzz;

/// <summary>One bug the fuzzer found: what happened, and the seed and mutations that rebuild the model.</summary>
/// <param name="Kind">crash (exception out of Compile), internal-error (AOTI0006), hang, generated-code, run-crash.</param>
/// <param name="Model">The mutated model.</param>
/// <param name="Message">The exception or diagnostic.</param>
public sealed record FuzzFinding(string Kind, MutatedModel Model, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: seed {Model.Seed} from {Model.Source} [{Model.Description}]: {Message}";
}

/// <summary>Limits and size of one fuzz run.</summary>
public sealed class FuzzSettings
{
    /// <summary>First seed; model i uses seed <c>Seed + i</c>.</summary>
    public int Seed { get; set; } = 1;
    /// <summary>Stop after this long.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Stop after this many models (0: no limit).</summary>
    public long MaxModels { get; set; }
    /// <summary>
    /// A compile slower than this is a hang. Generous because xunit runs other test classes beside the fuzz test and
    /// a 2-core machine under load stretches a one-second compile many times over.
    /// </summary>
    public TimeSpan CompileTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// Two runs of a generated model slower than this are a hang. Generous because the first run executes
    /// unoptimised (tier-0) code and large models such as super-resolution take seconds on a loaded machine.
    /// </summary>
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Build and run the models that compile (slower: Roslyn per batch).</summary>
    public bool RunGenerated { get; set; } = true;
    /// <summary>Models per in-memory build.</summary>
    public int BatchSize { get; set; } = 40;
    /// <summary>Models whose arena is larger are compiled but not run (keeps memory bounded).</summary>
    public long MaxRunArenaBytes { get; set; } = 64L << 20;
}

/// <summary>The outcome of a fuzz run.</summary>
public sealed class FuzzReport
{
    /// <summary>Mutated models compiled.</summary>
    public long Models { get; set; }
    /// <summary>Models that compiled to C#.</summary>
    public long Compiled { get; set; }
    /// <summary>Generated models built and run.</summary>
    public long Ran { get; set; }
    /// <summary>Bugs found.</summary>
    public List<FuzzFinding> Findings { get; } = new();
    /// <summary>Peak working set of the process, in bytes.</summary>
    public long PeakWorkingSetBytes { get; set; }
    /// <summary>Wall time.</summary>
    public TimeSpan Elapsed { get; set; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"fuzz: {Models} models, {Compiled} compiled, {Ran} ran, {Findings.Count} findings, peak working set {PeakWorkingSetBytes >> 20} MiB, {Elapsed.TotalSeconds:F0} s";
}

/// <summary>
/// Load → compile → build → run for mutated models. Compile must never throw nor hang; generated code must build;
/// a generated model must not crash on valid inputs (an <see cref="ArgumentException"/> from input validation is fine).
/// </summary>
public static class FuzzRunner
{
    /// <summary>
    /// The corpus: every <c>model.onnx</c> under <paramref name="folders"/>; node tests are sampled
    /// (every <paramref name="nodeTestStride"/>-th folder, in name order) to keep the corpus varied but small.
    /// </summary>
    public static List<(string Name, byte[] Bytes)> LoadCorpus(IEnumerable<string> folders, int nodeTestStride = 10)
    {
        var corpus = new List<(string, byte[])>();
        foreach (var folder in folders)
        {
            var files = Directory.EnumerateFiles(folder, "model.onnx", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToList();
            int stride = files.Count > 50 ? Math.Max(1, nodeTestStride) : 1;
            for (int i = 0; i < files.Count; i += stride)
                corpus.Add((Path.GetFileName(Path.GetDirectoryName(files[i]))!, File.ReadAllBytes(files[i])));
        }
        return corpus;
    }

    /// <summary>Runs the fuzzer; <paramref name="progress"/> gets a line now and then.</summary>
    public static FuzzReport Run(ModelMutator mutator, FuzzSettings settings, Action<string>? progress = null)
    {
        var report = new FuzzReport();
        var clock = Stopwatch.StartNew();
        var batch = new List<(MutatedModel Model, string Namespace, string Source)>();
        var lastProgress = TimeSpan.Zero;
        for (long i = 0; clock.Elapsed < settings.Duration && (settings.MaxModels == 0 || i < settings.MaxModels); i++)
        {
            var model = mutator.Mutate(unchecked(settings.Seed + (int)i));
            report.Models++;
            string ns = "Fuzz" + (uint)model.Seed;
            var result = CompileWithTimeout(model, ns, settings, report);
            if (result?.Success == true)
            {
                report.Compiled++;
                if (settings.RunGenerated && result.Arena is { } arena && arena.TotalBytes <= settings.MaxRunArenaBytes)
                    batch.Add((model, ns, result.Source!));
            }
            if (batch.Count >= settings.BatchSize) { BuildAndRun(batch, settings, report); batch.Clear(); }
            if (clock.Elapsed - lastProgress > TimeSpan.FromSeconds(30))
            {
                lastProgress = clock.Elapsed;
                report.PeakWorkingSetBytes = Math.Max(report.PeakWorkingSetBytes, Process.GetCurrentProcess().PeakWorkingSet64);
                report.Elapsed = clock.Elapsed;
                progress?.Invoke(report.ToString());
            }
        }
        if (batch.Count > 0) BuildAndRun(batch, settings, report);
        report.Elapsed = clock.Elapsed;
        report.PeakWorkingSetBytes = Math.Max(report.PeakWorkingSetBytes, Process.GetCurrentProcess().PeakWorkingSet64);
        return report;
    }

    /// <summary>Compiles one model on a worker so a hang is detected; records crashes, internal errors and hangs.</summary>
    public static CompileResult? CompileWithTimeout(MutatedModel model, string ns, FuzzSettings settings, FuzzReport report)
    {
        var options = new CompileOptions { ClassName = "Model", Namespace = ns, ModelFileName = model.Source + ".onnx" };
        var task = Task.Run(() => ModelCompiler.Compile(model.Bytes, options));
        bool finished;
        try { finished = task.Wait(settings.CompileTimeout); }
        catch (AggregateException e)
        {
            report.Findings.Add(new FuzzFinding("crash", model, e.InnerException?.ToString() ?? e.ToString()));
            return null;
        }
        if (!finished)
        {
            report.Findings.Add(new FuzzFinding("hang", model, $"Compile took more than {settings.CompileTimeout.TotalSeconds:F0} s"));
            return null;
        }
        var result = task.Result;
        foreach (var d in result.Diagnostics.Where(d => d.Id == DiagnosticIds.InternalError))
            report.Findings.Add(new FuzzFinding("internal-error", model, d.Message));
        return result;
    }

    static void BuildAndRun(List<(MutatedModel Model, string Namespace, string Source)> batch, FuzzSettings settings, FuzzReport report)
    {
        var failures = new Dictionary<string, string>();
        var sources = batch.GroupBy(b => b.Namespace).ToDictionary(g => g.Key, g => g.First().Source);
        var assembly = InMemoryCompiler.CompileBatch(sources, failures);
        foreach (var (key, message) in failures)
            report.Findings.Add(new FuzzFinding("generated-code", batch.First(b => b.Namespace == key).Model, message));
        if (assembly is null) return;
        foreach (var (model, ns, _) in batch.GroupBy(b => b.Namespace).Select(g => g.First()))
        {
            if (failures.ContainsKey(ns)) continue;
            var type = assembly.GetType(ns + ".Model");
            if (type is null) continue;
            var task = Task.Run(() =>
            {
                var instance = (IGeneratedModel)Activator.CreateInstance(type)!;
                var random = new Random(model.Seed);
                for (int pass = 0; pass < 2; pass++)
                {
                    var inputs = instance.Info.Inputs.Select(i => Input(i, pass == 0 ? null : random)).ToArray();
                    var outputs = instance.Info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
                    try { instance.Run(inputs, outputs); }
                    catch (ArgumentException) { /* input validation (e.g. an input fixed at compile time) */ }
                    catch (DivideByZeroException) { /* integer division by zero is undefined in ONNX; .NET reports it cleanly */ }
                }
            });
            try
            {
                if (!task.Wait(settings.RunTimeout)) report.Findings.Add(new FuzzFinding("run-hang", model, "Run took too long"));
                else report.Ran++;
            }
            catch (AggregateException e)
            {
                var inner = e.InnerException is System.Reflection.TargetInvocationException t ? t.InnerException! : e.InnerException!;
                report.Findings.Add(new FuzzFinding("run-crash", model, inner.GetType().Name + ": " + inner.Message + " at " + inner.StackTrace?.Split('\n').FirstOrDefault()?.Trim()));
            }
        }
    }

    /// <summary>Zeros (<paramref name="random"/> null) or random values; integers stay 0 so that index inputs are valid.</summary>
    static Array Input(TensorInfo info, Random? random)
    {
        var array = RuntimeArrays.Allocate(info.ElementType, info.Length);
        if (random is null) return array;
        switch (array)
        {
            case float[] f: for (int i = 0; i < f.Length; i++) f[i] = (float)(random.NextDouble() * 4 - 2); break;
            case double[] d: for (int i = 0; i < d.Length; i++) d[i] = random.NextDouble() * 4 - 2; break;
            case Half[] h: for (int i = 0; i < h.Length; i++) h[i] = (Half)(random.NextDouble() * 4 - 2); break;
            case bool[] b: for (int i = 0; i < b.Length; i++) b[i] = random.Next(2) == 1; break;
        }
        return array;
    }
}
