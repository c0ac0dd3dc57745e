using AotInfer.Optimize.Evaluation;

namespace AotInfer.Cli.Optimize;

/// <summary>Chooses the runtime of the optimisation verbs from <c>--runtime aotinfer|ort</c>.</summary>
public static class Runners
{
    /// <summary>The factory for <paramref name="name"/>.</summary>
    public static ModelRunnerFactory Get(string? name) => name switch
    {
        null or "aotinfer" => (model, dir, extra) => new AotInferRunner(model, dir, extra),
        "ort" or "onnxruntime" => (model, dir, extra) => new OnnxRuntimeRunner(model, dir, extra),
        _ => throw new UsageException($"--runtime '{name}' must be aotinfer or ort"),
    };
}
