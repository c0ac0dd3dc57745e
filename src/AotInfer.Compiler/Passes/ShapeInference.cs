using System;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Infers every value's type and shape in topological order, and folds nodes whose inputs are all constant when
/// their op can evaluate at compile time (this is how shape sub-graphs such as Shape→Gather→Concat→Reshape vanish).
/// </summary>
public static class ShapeInference
{
    /// <summary>Runs inference; reports problems per node; returns false when a node could not be inferred.</summary>
    public static bool Run(Graph graph, OpRegistry registry, DiagnosticBag diagnostics)
    {
        foreach (var node in graph.Nodes.ToList())
        {
            var lowering = registry.Find(node)!;
            var context = new OpContext(node);
            try
            {
                foreach (var input in node.Inputs)
                    if (input is not null && input.Shape is null)
                        throw new UnsupportedModelException($"input '{input.Name}' has no known shape");
                lowering.Infer(context);
                foreach (var output in node.Outputs)
                    if (output.Shape is null) throw new InvalidOperationException($"{lowering.GetType().Name} left output '{output.Name}' without a shape");
                if ((context.AllInputsConstant || lowering.EvaluatesFromShapes) && lowering.Evaluate(context) is { } results)
                {
                    for (int i = 0; i < node.Outputs.Count && i < results.Length; i++)
                    {
                        var output = node.Outputs[i];
                        if (results[i].Type != output.Type || !results[i].Shape.SequenceEqual(output.Shape!))
                            throw new InvalidOperationException($"{lowering.GetType().Name} evaluated {results[i]} but inferred {output}");
                        output.Constant = results[i];
                    }
                    graph.Remove(node);
                }
            }
            catch (UnsupportedModelException e)
            {
                diagnostics.Error(e.Id, $"node {node} (opset {node.Opset}): {e.Message}", node);
                return false;
            }
            catch (InvalidModelException e)
            {
                diagnostics.Error(DiagnosticIds.InvalidModel, $"node {node} (opset {node.Opset}): {e.Message}", node);
                return false;
            }
        }
        return true;
    }
}
