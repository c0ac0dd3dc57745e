using System;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Reporting;

/// <summary>
/// The bytes of constant data (weights, biases, …) the generator stores for a model, measured by compiling it: palette
/// storage, float16 codebooks, sparse formats and folded constants count as the generated class holds them (before
/// base64). Unlike <see cref="StoredSize"/>, an estimate of what an ideal encoding would need, this is what ships.
/// </summary>
public static class GeneratedWeightSize
{
    /// <summary>Compiles <paramref name="model"/> (symbolic input dimensions pinned to 1) and returns its constant bytes.</summary>
    /// <exception cref="InvalidOperationException">The compiler cannot compile the model (its errors are in the message).</exception>
    public static long Measure(ModelProto model, string? modelDirectory = null) =>
        TryMeasure(model, modelDirectory, out string? errors) ?? throw new InvalidOperationException("AotInfer cannot compile the model: " + errors);

    /// <summary>As <see cref="Measure"/>, or null with the compiler's <paramref name="errors"/> when it cannot compile the model.</summary>
    public static long? TryMeasure(ModelProto model, string? modelDirectory, out string? errors)
    {
        var options = new CompileOptions { ModelDirectory = modelDirectory };
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        foreach (var input in model.Graph.Input.Where(i => !initializers.Contains(i.Name) && i.Type?.TensorType?.Shape is not null))
            options.InputShapes[input.Name] = input.Type.TensorType.Shape.Dim
                .Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? (int)d.DimValue : 1).ToArray();
        var result = ModelCompiler.Compile(ModelWriter.ToBytes(model), options);
        errors = result.Success ? null : string.Join(" | ", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return result.Success ? result.ConstantBytes : null;
    }
}
