using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Evaluation;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// Runs a model through ONNX Runtime (one thread, all graph optimisations): the independent judge of every model the
/// toolkit writes, and the runtime for QDQ models while AotInfer's int8 path is being built.
/// </summary>
public sealed class OnnxRuntimeRunner : IModelRunner
{
    readonly InferenceSession _session;
    readonly SessionOptions _options;
    readonly string _inputName;
    readonly int[] _inputShape;
    readonly string[] _outputNames;

    /// <summary>Creates a session for <paramref name="model"/> that also outputs <paramref name="extraOutputs"/>.</summary>
    public OnnxRuntimeRunner(ModelProto model, string? modelDirectory, IReadOnlyList<string> extraOutputs)
    {
        var withOutputs = ModelRunners.WithExtraOutputs(model, extraOutputs);
        _options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(withOutputs.ToByteArray(), _options);
        _inputName = _session.InputNames[0];
        _inputShape = _session.InputMetadata[_inputName].Dimensions.Select(d => d <= 0 ? 1 : d).ToArray();
        _outputNames = withOutputs.Graph.Output.Select(o => o.Name).ToArray();
        OutputNames = _outputNames;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> OutputNames { get; }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Run(ReadOnlySpan<float> sample)
    {
        var tensor = new DenseTensor<float>(sample.ToArray(), _inputShape);
        using var results = _session.Run(new[] { NamedOnnxValue.CreateFromTensor(_inputName, tensor) }, _outputNames);
        return results.Select(r => r.AsEnumerable<float>().ToArray()).ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
