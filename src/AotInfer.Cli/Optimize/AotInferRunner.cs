using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Cli.Check;
using AotInfer.Compiler;
using AotInfer.Kernels;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Evaluation;
using Google.Protobuf;

namespace AotInfer.Cli.Optimize;

/// <summary>
/// Runs a model through AotInfer's own generated code: compiled with the model's symbolic dimensions pinned to 1
/// (one sample per run), built in memory with Roslyn and loaded into a collectible context.
/// </summary>
public sealed class AotInferRunner : IModelRunner
{
    readonly IGeneratedModel _model;
    readonly Array[] _inputs;
    readonly Array[] _outputs;
    readonly float[][] _floatOutputs;

    /// <summary>
    /// Compiles <paramref name="model"/> with <paramref name="extraOutputs"/> as additional outputs, with the sparse
    /// kernels <paramref name="sparse"/> allows.
    /// </summary>
    public AotInferRunner(ModelProto model, string? modelDirectory, IReadOnlyList<string> extraOutputs, SparseMode sparse = SparseMode.Auto)
    {
        var withOutputs = ModelRunners.WithExtraOutputs(model, extraOutputs);
        var initializers = new HashSet<string>(withOutputs.Graph.Initializer.Select(t => t.Name));
        var input = withOutputs.Graph.Input.First(i => !initializers.Contains(i.Name));
        string ns = "AotInferEval" + Guid.NewGuid().ToString("N");
        var options = new CompileOptions { ClassName = "Model", Namespace = ns, ModelDirectory = modelDirectory, ModelFileName = "model.onnx", Sparse = sparse };
        // The batch dimension is symbolic in exported models; one sample per run.
        options.InputShapes[input.Name] = input.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? (int)d.DimValue : 1).ToArray();
        var result = ModelCompiler.Compile(withOutputs.ToByteArray(), options);
        if (!result.Success) throw new InvalidOperationException("AotInfer cannot compile the model: " + string.Join(" | ", result.Diagnostics.Where(d => d.Severity == Compiler.DiagnosticSeverity.Error)));
        var failures = new Dictionary<string, string>();
        var assembly = InMemoryCompiler.CompileBatch(new Dictionary<string, string> { [ns] = result.Source! }, failures)
            ?? throw new InvalidOperationException("the generated code does not compile: " + string.Join(" | ", failures.Values));
        _model = (IGeneratedModel)Activator.CreateInstance(assembly.GetType(ns + ".Model")!)!;
        var info = _model.Info;
        if (info.Inputs.Length != 1 || info.Inputs[0].ElementType != "Float") throw new InvalidOperationException("evaluation needs a model with one float input");
        _inputs = new Array[] { new float[info.Inputs[0].Length] };
        _outputs = info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
        _floatOutputs = info.Outputs.Select(o => new float[o.Length]).ToArray();
        OutputNames = info.Outputs.Select(o => o.Name).ToArray();
    }

    /// <inheritdoc />
    public IReadOnlyList<string> OutputNames { get; }

    /// <inheritdoc />
    public IReadOnlyList<float[]> Run(ReadOnlySpan<float> sample)
    {
        var input = (float[])_inputs[0];
        if (sample.Length != input.Length) throw new ArgumentException($"the sample has {sample.Length} values but the model input has {input.Length}");
        sample.CopyTo(input);
        _model.Run(_inputs, _outputs);
        for (int o = 0; o < _outputs.Length; o++)
        {
            if (_outputs[o] is float[] f) f.CopyTo(_floatOutputs[o], 0);
            else for (int i = 0; i < _floatOutputs[o].Length; i++) _floatOutputs[o][i] = (float)RuntimeArrays.At(_outputs[o], i);
        }
        return _floatOutputs;
    }

    /// <inheritdoc />
    public void Dispose() { }
}
