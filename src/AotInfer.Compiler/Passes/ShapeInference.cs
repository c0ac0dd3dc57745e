using System;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Infers every value's type and shape in topological order, and folds nodes whose inputs are all constant when
/// their op can evaluate at compile time (this is how shape sub-graphs such as Shape→Gather→Concat→Reshape vanish).
/// A float16 node whose op has only float kernels is widened to float (<see cref="Float16Widening"/>).
/// </summary>
public static class ShapeInference
{
    /// <summary>Runs inference; reports problems per node; returns false when a node could not be inferred.</summary>
    public static bool Run(Graph graph, OpRegistry registry, DiagnosticBag diagnostics, CompileBudget? budget = null)
    {
        foreach (var node in graph.Nodes.ToList())
        {
            try
            {
                budget?.CheckTime($"node {node}");
                Node[]? narrowing = null;
                try { Infer(node, registry); }
                catch (UnsupportedModelException) when (node.Domain.Length == 0 && (narrowing = Float16Widening.Widen(graph, node)) is not null)
                {
                    // The op rejected float16: it now reads float copies of its inputs and its results are cast back.
                    Infer(node, registry);
                }
                Fold(graph, node, registry, budget);
                foreach (var cast in narrowing ?? Array.Empty<Node>())
                {
                    Infer(cast, registry);
                    Fold(graph, cast, registry, budget);
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
            catch (OverflowException)
            {
                // Shape rules compute in checked arithmetic: an overflow means an attribute or dimension is absurd.
                diagnostics.Error(DiagnosticIds.InvalidModel, $"node {node} (opset {node.Opset}): an attribute or input dimension is out of range (the output shape overflows)", node);
                return false;
            }
        }
        return true;
    }

    static void Infer(Node node, OpRegistry registry)
    {
        var lowering = registry.Find(node)!;
        foreach (var input in node.Inputs)
            if (input is not null && input.Shape is null)
                throw new UnsupportedModelException($"input '{input.Name}' has no known shape");
        lowering.Infer(new OpContext(node));
        foreach (var output in node.Outputs)
            if (output.Shape is null)
                // Lowerings infer the outputs their operator defines; an extra output is the model's fault.
                throw new UnsupportedModelException($"output '{output.Name}' (output {node.Outputs.IndexOf(output)} of {node.Outputs.Count}) is not defined by operator {node.OpType}: the node has more outputs than the operator produces");
    }

    /// <summary>Replaces the node by constants when its op can evaluate it at compile time.</summary>
    static void Fold(Graph graph, Node node, OpRegistry registry, CompileBudget? budget)
    {
        var lowering = registry.Find(node)!;
        var context = new OpContext(node);
        if (!(context.AllInputsConstant || lowering.EvaluatesFromShapes)) return;
        // Charge the outputs before evaluating: folding a huge ConstantOfShape must stop before it allocates.
        long charged = 0;
        if (budget is not null)
            foreach (var output in node.Outputs)
                charged += budget.AddConstant(output.ElementCount, output.Type, $"folding node {node} into a constant");
        if (lowering.Evaluate(context) is not { } results) { budget?.Release(charged); return; }
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
