using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Cli.Check;
using AotInfer.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace AotInfer.Cli.Bench;

/// <summary>
/// ONNX Runtime set up at its best for repeated batch-1 calls: ORT_ENABLE_ALL, the given intra-op threads, and an
/// IOBinding over OrtValues created once over the input arrays and <see cref="Outputs"/>, reused by every
/// <see cref="Run"/>.
/// </summary>
internal sealed class OrtRunner : IDisposable
{
    readonly SessionOptions _options;
    readonly InferenceSession _session;
    readonly RunOptions _runOptions = new();
    readonly OrtIoBinding _binding;
    readonly List<OrtValue> _values = new();

    /// <summary>Opens a session; <paramref name="profilePrefix"/>, when given, turns on ORT's per-node profiler writing to that path prefix.</summary>
    public OrtRunner(byte[] modelBytes, ModelInfo info, Array[] inputs, int threads, string? profilePrefix = null)
    {
        _options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (profilePrefix is not null)
        {
            _options.EnableProfiling = true;
            _options.ProfileOutputPathPrefix = profilePrefix;
        }
        _session = new InferenceSession(modelBytes, _options);
        _binding = _session.CreateIoBinding();
        Outputs = info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
        for (int i = 0; i < info.Inputs.Length; i++) _binding.BindInput(info.Inputs[i].Name, Bind(inputs[i], info.Inputs[i].Shape));
        for (int o = 0; o < info.Outputs.Length; o++) _binding.BindOutput(info.Outputs[o].Name, Bind(Outputs[o], info.Outputs[o].Shape));
    }

    /// <summary>The arrays ONNX Runtime writes its outputs to.</summary>
    public Array[] Outputs { get; }

    /// <summary>One inference.</summary>
    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>Stops ORT's profiler and returns the trace file it wrote.</summary>
    public string EndProfiling() => _session.EndProfiling();

    OrtValue Bind(Array data, int[] shape)
    {
        long[] dims = shape.Select(d => (long)d).ToArray();
        OrtValue value = data switch
        {
            float[] f => OrtValue.CreateTensorValueFromMemory(f, dims),
            double[] d => OrtValue.CreateTensorValueFromMemory(d, dims),
            int[] i => OrtValue.CreateTensorValueFromMemory(i, dims),
            long[] l => OrtValue.CreateTensorValueFromMemory(l, dims),
            byte[] b => OrtValue.CreateTensorValueFromMemory(b, dims),
            sbyte[] s => OrtValue.CreateTensorValueFromMemory(s, dims),
            bool[] b => OrtValue.CreateTensorValueFromMemory(b, dims),
            _ => throw new UsageException($"bench cannot bind a {data.GetType().Name} to ONNX Runtime yet"),
        };
        _values.Add(value);
        return value;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var v in _values) v.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
