using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using AotInfer.Compiler;
using AotInfer.Kernels;
using AotInfer.Onnx;

namespace AotInfer.Cli.Check;

/// <summary>Settings of a <c>check</c> run.</summary>
public sealed record CheckSettings(OutputComparer Comparer, int BatchSize = 64, TimeSpan? RunTimeout = null);

/// <summary>
/// Compiles each model with the generator's compiler, builds the generated classes in memory in batches, runs every
/// test set and compares with the reference outputs.
/// </summary>
public static class CheckRunner
{
    sealed record Prepared(ModelFolder Folder, List<(string ClassKey, List<TestSet> Sets, string[] InputNames)> Variants, CheckResult? Early, Dictionary<string, string> Sources)
    {
        /// <summary>Per graph output computed by a per-tensor DequantizeLinear: its scale (one quantum), see <see cref="OutputQuanta"/>.</summary>
        public Dictionary<string, double> Quanta { get; init; } = new();
    }

    /// <summary>Checks the folders, reporting each result as soon as it is known.</summary>
    public static List<CheckResult> Run(IReadOnlyList<ModelFolder> folders, CheckSettings settings, Action<CheckResult> report)
    {
        var results = new List<CheckResult>();
        for (int start = 0; start < folders.Count; start += settings.BatchSize)
        {
            var batch = folders.Skip(start).Take(settings.BatchSize).ToList();
            var prepared = new Prepared[batch.Count];
            Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                i => prepared[i] = Prepare(batch[i], $"B{start / settings.BatchSize}_{i}"));
            var sources = prepared.SelectMany(p => p.Sources).ToDictionary(kv => kv.Key, kv => kv.Value);
            var failures = new Dictionary<string, string>();
            var assembly = sources.Count > 0 ? InMemoryCompiler.CompileBatch(sources, failures) : null;
            foreach (var p in prepared)
            {
                var result = p.Early ?? Execute(p, assembly, failures, settings);
                results.Add(result);
                report(result);
            }
        }
        return results;
    }

    static Prepared Prepare(ModelFolder folder, string key)
    {
        var sources = new Dictionary<string, string>();
        var variants = new List<(string, List<TestSet>, string[])>();
        var quanta = new Dictionary<string, double>();
        try
        {
            byte[] bytes = File.ReadAllBytes(folder.ModelPath);
            string[] inputNames;
            try
            {
                var model = OnnxModelLoader.Parse(bytes, folder.ModelPath);
                var initializers = new HashSet<string>(model.Graph.Initializer.Select(t => t.Name));
                var inputs = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
                inputNames = inputs.Select(i => i.Name).ToArray();
                quanta = OutputQuanta.Find(model.Graph);
                // Sequence, optional and map values have test data in other protobuf messages than TensorProto.
                var nonTensor = inputs.Concat(model.Graph.Output).FirstOrDefault(v => v.Type?.TensorType is null);
                if (nonTensor is not null)
                    return new Prepared(folder, variants, new CheckResult(folder.Name, CheckStatus.Unsupported,
                        $"{DiagnosticIds.UnsupportedType}: graph input/output '{nonTensor.Name}' is not a tensor ({nonTensor.Type?.ValueCase.ToString() ?? "no type"}); only tensors are supported"), sources);
            }
            catch (InvalidModelException e)
            {
                return new Prepared(folder, variants, new CheckResult(folder.Name, CheckStatus.Unsupported, $"{DiagnosticIds.InvalidModel}: {e.Message}"), sources);
            }
            List<TestSet> sets;
            try { sets = folder.LoadTestSets(); }
            catch (InvalidModelException e)
            {
                // Sequence, map and optional test values are not TensorProtos; AotInfer only runs tensors.
                return new Prepared(folder, variants, new CheckResult(folder.Name, CheckStatus.Unsupported, $"{DiagnosticIds.UnsupportedType}: test data is not a tensor AotInfer can read: {e.Message}"), sources);
            }
            if (sets.Count == 0) return new Prepared(folder, variants, new CheckResult(folder.Name, CheckStatus.Error, "no test_data_set_* folder"), sources);
            // Test sets with different input shapes need classes of their own: shapes are compile-time constants.
            foreach (var group in sets.GroupBy(s => string.Join(";", s.Inputs.Select(i => string.Join(",", i.Tensor.Shape)))))
            {
                var first = group.First();
                var options = new CompileOptions
                {
                    ClassName = "Model",
                    Namespace = $"AotInferCheck.{key}_{variants.Count}",
                    ModelDirectory = folder.Directory,
                    ModelFileName = folder.Name + "/model.onnx",
                };
                for (int i = 0; i < inputNames.Length && i < first.Inputs.Count; i++) options.InputShapes[inputNames[i]] = first.Inputs[i].Tensor.Shape;
                var result = ModelCompiler.Compile(bytes, options);
                if (!result.Success && result.Diagnostics.Any(d => d.Id == DiagnosticIds.ValueNotConstant) && group.Count() == sets.Count)
                {
                    // Inputs that decide shapes (Reshape's shape, Pad's pads...) are fixed to the test's values; the
                    // generated code then checks at run time that it is given exactly those values.
                    for (int i = 0; i < inputNames.Length && i < first.Inputs.Count; i++)
                        if (DataTypes.IsInteger(first.Inputs[i].Tensor.Type) && sets.All(s => SameValues(s.Inputs[i].Tensor, first.Inputs[i].Tensor)))
                            options.InputValues[inputNames[i]] = first.Inputs[i].Tensor;
                    if (options.InputValues.Count > 0) result = ModelCompiler.Compile(bytes, options);
                }
                if (!result.Success)
                {
                    var errors = result.Diagnostics.Where(d => d.Severity == Compiler.DiagnosticSeverity.Error).ToList();
                    var status = errors.Any(d => d.Id == DiagnosticIds.InternalError) ? CheckStatus.Error : CheckStatus.Unsupported;
                    return new Prepared(folder, variants, new CheckResult(folder.Name, status, string.Join(" | ", errors.Take(5))), sources);
                }
                string classKey = options.Namespace;
                sources[classKey] = result.Source!;
                variants.Add((classKey, group.ToList(), inputNames));
            }
            return new Prepared(folder, variants, null, sources) { Quanta = quanta };
        }
        catch (Exception e)
        {
            return new Prepared(folder, variants, new CheckResult(folder.Name, CheckStatus.Error, $"{e.GetType().Name}: {e.Message}"), sources);
        }
    }

    static bool SameValues(Tensor a, Tensor b) =>
        a.Type == b.Type && a.Shape.SequenceEqual(b.Shape) && a.ToInt64().SequenceEqual(b.ToInt64());

    static CheckResult Execute(Prepared p, System.Reflection.Assembly? assembly, Dictionary<string, string> failures, CheckSettings settings)
    {
        var name = p.Folder.Name;
        foreach (var (classKey, sets, inputNames) in p.Variants)
        {
            if (failures.TryGetValue(classKey, out var why)) return new CheckResult(name, CheckStatus.Error, "generated code does not compile: " + why);
            var type = assembly?.GetType(classKey + ".Model");
            if (type is null) return new CheckResult(name, CheckStatus.Error, "generated class not found after compilation");
            foreach (var set in sets)
            {
                string? problem;
                try
                {
                    var model = (IGeneratedModel)Activator.CreateInstance(type)!;
                    var task = Task.Run(() => RunSet(model, set, settings.Comparer, p.Quanta));
                    if (!task.Wait(settings.RunTimeout ?? TimeSpan.FromSeconds(120)))
                        return new CheckResult(name, CheckStatus.Error, $"{set.Name}: did not finish within the time limit");
                    problem = task.Result;
                }
                catch (Exception e)
                {
                    var inner = e is AggregateException a ? a.InnerException ?? e : e;
                    if (inner is System.Reflection.TargetInvocationException t && t.InnerException is not null) inner = t.InnerException;
                    return new CheckResult(name, CheckStatus.Error, $"{set.Name}: {inner.GetType().Name}: {inner.Message}");
                }
                if (problem is not null) return new CheckResult(name, CheckStatus.Fail, $"{set.Name}: {problem}");
            }
        }
        return new CheckResult(name, CheckStatus.Pass, "");
    }

    static string? RunSet(IGeneratedModel model, TestSet set, OutputComparer comparer, Dictionary<string, double> quanta)
    {
        var info = model.Info;
        if (set.Inputs.Count != info.Inputs.Length)
            return $"the test set has {set.Inputs.Count} inputs but the model takes {info.Inputs.Length}";
        var inputs = set.Inputs.Select(i => RuntimeArrays.FromTensor(i.Tensor)).ToArray();
        var outputs = info.Outputs.Select(RuntimeArrays.Allocate).ToArray();
        model.Run(inputs, outputs);
        for (int i = 0; i < set.Outputs.Count && i < outputs.Length; i++)
        {
            var expectedShape = set.Outputs[i].Tensor.Shape;
            if (!expectedShape.SequenceEqual(info.Outputs[i].Shape))
                return $"output '{info.Outputs[i].Name}' has shape [{string.Join(",", info.Outputs[i].Shape)}], expected [{string.Join(",", expectedShape)}]";
            var expected = RuntimeArrays.Comparable(set.Outputs[i].Tensor);
            var problem = comparer.Compare(RuntimeArrays.Comparable(outputs[i], info.Outputs[i]), expected, info.Outputs[i].Name, quanta.TryGetValue(info.Outputs[i].Name, out double quantum) ? quantum : 0);
            if (problem is not null) return problem;
        }
        if (set.Outputs.Count != outputs.Length) return $"the test set has {set.Outputs.Count} outputs but the model has {outputs.Length}";
        return null;
    }
}
