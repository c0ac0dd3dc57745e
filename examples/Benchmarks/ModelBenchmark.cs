using System;
using System.IO;
using System.Linq;
using AotInfer.Kernels;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;

namespace AotInfer.Benchmarks;

/// <summary>
/// One model, batch 1: the class the generator produced from <c>models/&lt;file&gt;.onnx</c> against ONNX Runtime on
/// the same random inputs (fixed seed). ONNX Runtime runs at its best: one intra-op thread, ORT_ENABLE_ALL, and an
/// IOBinding over OrtValues created once, so each call measures inference only. ONNX Runtime is the baseline, so
/// the Ratio column is generated time over ONNX Runtime time (below 1: generated code is faster).
/// </summary>
[MemoryDiagnoser]
public abstract class ModelBenchmark<TModel> where TModel : IGeneratedModel, new()
{
    readonly TModel _model = new();
    Array[] _inputs = Array.Empty<Array>();
    Array[] _outputs = Array.Empty<Array>();
    InferenceSession? _session;
    SessionOptions? _options;
    RunOptions? _runOptions;
    OrtIoBinding? _binding;
    OrtValue[] _values = Array.Empty<OrtValue>();

    /// <summary>The model file name in <c>models/</c>.</summary>
    protected abstract string ModelFile { get; }

    /// <summary>Creates inputs, outputs and the ONNX Runtime session, and checks both sides agree.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var info = _model.Info;
        var random = new Random(1234);
        _inputs = info.Inputs.Select(i => (Array)Enumerable.Range(0, i.Length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        _outputs = info.Outputs.Select(o => (Array)new float[o.Length]).ToArray();
        var ortOutputs = info.Outputs.Select(o => new float[o.Length]).ToArray();

        _options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(Path.Combine(AppContext.BaseDirectory, "models", ModelFile), _options);
        _runOptions = new RunOptions();
        _binding = _session.CreateIoBinding();
        _values = new OrtValue[info.Inputs.Length + info.Outputs.Length];
        for (int i = 0; i < info.Inputs.Length; i++)
        {
            _values[i] = OrtValue.CreateTensorValueFromMemory((float[])_inputs[i], info.Inputs[i].Shape.Select(d => (long)d).ToArray());
            _binding.BindInput(info.Inputs[i].Name, _values[i]);
        }
        for (int o = 0; o < info.Outputs.Length; o++)
        {
            var value = OrtValue.CreateTensorValueFromMemory(ortOutputs[o], info.Outputs[o].Shape.Select(d => (long)d).ToArray());
            _values[info.Inputs.Length + o] = value;
            _binding.BindOutput(info.Outputs[o].Name, value);
        }

        AotInfer();
        OnnxRuntime();
        for (int o = 0; o < ortOutputs.Length; o++)
            for (int i = 0; i < ortOutputs[o].Length; i++)
            {
                float a = ((float[])_outputs[o])[i], e = ortOutputs[o][i];
                if (!(Math.Abs(a - e) <= 1e-4f + 1e-3f * Math.Abs(e)))
                    throw new InvalidOperationException($"{ModelFile}: output {o}[{i}] is {a} but ONNX Runtime gives {e}");
            }
    }

    /// <summary>Releases the ONNX Runtime objects.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _binding?.Dispose();
        foreach (var v in _values) v?.Dispose();
        _runOptions?.Dispose();
        _session?.Dispose();
        _options?.Dispose();
    }

    /// <summary>ONNX Runtime, the baseline.</summary>
    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _session!.RunWithBinding(_runOptions!, _binding!);

    /// <summary>The generated class.</summary>
    [Benchmark]
    public void AotInfer() => _model.Run(_inputs, _outputs);
}

/// <summary>digits_mlp: Gemm+Relu layers on 8×8 digits.</summary>
public class DigitsMlpBenchmark : ModelBenchmark<DigitsMlp> { /// <inheritdoc/>
    protected override string ModelFile => "digits_mlp.onnx"; }

/// <summary>digits_cnn: a small CNN on 8×8 digits.</summary>
public class DigitsCnnBenchmark : ModelBenchmark<DigitsCnn> { /// <inheritdoc/>
    protected override string ModelFile => "digits_cnn.onnx"; }

/// <summary>MLPerf Tiny keyword spotting (depthwise-separable CNN).</summary>
public class MlperfTinyDscnnBenchmark : ModelBenchmark<MlperfTinyDscnn> { /// <inheritdoc/>
    protected override string ModelFile => "mlperf_tiny_dscnn.onnx"; }

/// <summary>MLPerf Tiny image classification (ResNet-8).</summary>
public class MlperfTinyResnet8Benchmark : ModelBenchmark<MlperfTinyResnet8> { /// <inheritdoc/>
    protected override string ModelFile => "mlperf_tiny_resnet8.onnx"; }
