using System;
using System.Collections.Generic;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Evaluation;

/// <summary>
/// Runs one model on one sample at a time (batch dimension 1). The toolkit does not know how: the CLI provides a
/// runner over AotInfer's own compiled code and one over ONNX Runtime.
/// </summary>
public interface IModelRunner : IDisposable
{
    /// <summary>Names of the outputs <see cref="Run"/> returns, in order.</summary>
    IReadOnlyList<string> OutputNames { get; }

    /// <summary>Runs the model on one sample (the first graph input); the returned arrays may be reused by the next call.</summary>
    IReadOnlyList<float[]> Run(ReadOnlySpan<float> sample);
}

/// <summary>
/// Creates a runner for <paramref name="model"/> whose outputs are the graph outputs followed by
/// <paramref name="extraOutputs"/> (intermediate values observed for calibration and error reports).
/// </summary>
public delegate IModelRunner ModelRunnerFactory(ModelProto model, string? modelDirectory, IReadOnlyList<string> extraOutputs);

/// <summary>Helpers for runners.</summary>
public static class ModelRunners
{
    /// <summary>A copy of <paramref name="model"/> that also outputs <paramref name="extraOutputs"/> (float values).</summary>
    public static ModelProto WithExtraOutputs(ModelProto model, IReadOnlyList<string> extraOutputs)
    {
        if (extraOutputs.Count == 0) return model;
        var copy = model.Clone();
        foreach (var name in extraOutputs)
        {
            bool present = false;
            foreach (var o in copy.Graph.Output) present |= o.Name == name;
            if (!present) copy.Graph.Output.Add(Onnx.GraphEditor.FloatValueInfo(name));
        }
        return copy;
    }
}
