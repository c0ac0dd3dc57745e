using AotInfer.Optimize.Evaluation;

namespace AotInfer.Cli.Optimize;

/// <summary>Chooses the runtime of the optimisation verbs from <c>--runtime aotinfer|ort</c>.</summary>
public static class Runners
{
    /// <summary>The factory for <paramref name="name"/>; <paramref name="sparse"/> is AotInfer's choice of sparse kernels.</summary>
    public static ModelRunnerFactory Get(string? name, Compiler.SparseMode sparse = Compiler.SparseMode.Auto) => name switch
    {
        null or "aotinfer" => (model, dir, extra) => new AotInferRunner(model, dir, extra, sparse),
        "ort" or "onnxruntime" => (model, dir, extra) => new OnnxRuntimeRunner(model, dir, extra),
        _ => throw new UsageException($"--runtime '{name}' must be aotinfer or ort"),
    };
}
