using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>Graph surgery the fusion passes share: finding a node's only reader and absorbing it.</summary>
internal static class FusionGraph
{
    /// <summary>
    /// The only node that reads <paramref name="node"/>'s first output, when that output is not also a graph output
    /// (a fused intermediate disappears, so nobody else may need it); null otherwise.
    /// </summary>
    public static Node? SoleReader(Node node)
    {
        if (node.Outputs.Count == 0) return null;
        var output = node.Outputs[0];
        if (output.IsGraphOutput || output.Consumers.Count != 1) return null;
        var reader = output.Consumers[0];
        // The reader's other outputs (e.g. BatchNormalization's training statistics) must be unused.
        if (reader.Outputs.Skip(1).Any(o => o.IsGraphOutput || o.Consumers.Count > 0)) return null;
        return reader.Inputs.Count(i => i == output) == 1 ? reader : null;
    }

    /// <summary><paramref name="producer"/> now computes <paramref name="absorbed"/>'s first output; <paramref name="absorbed"/> leaves the graph.</summary>
    public static void Absorb(Graph graph, Node producer, Node absorbed)
    {
        var intermediate = producer.Outputs[0];
        var result = absorbed.Outputs[0];
        graph.Remove(absorbed);
        producer.Outputs[0] = result;
        result.Producer = producer;
        graph.Values.Remove(intermediate.Name);
    }

    /// <summary>
    /// Replaces the nodes <paramref name="replaced"/> by <paramref name="replacement"/> (inputs set, no outputs yet),
    /// which is to compute <paramref name="result"/>, inserted where <paramref name="anchor"/> was. The replacement is
    /// first inferred detached, by its own lowering: only when that lowering accepts it and computes exactly the
    /// result's type and shape does the graph change; otherwise returns false with the reason and the graph untouched.
    /// </summary>
    public static bool TryReplace(Graph graph, OpRegistry registry, IReadOnlyCollection<Node> replaced, Node replacement, Value result, Node anchor, out string reason)
    {
        var probe = new Value(result.Name);
        replacement.Outputs.Add(probe);
        try
        {
            if (registry.Find(replacement) is not { } lowering)
            {
                reason = $"{replacement.OpType} has no lowering";
                return false;
            }
            lowering.Infer(new OpContext(replacement));
        }
        catch (Exception e) when (e is UnsupportedModelException or InvalidModelException)
        {
            reason = $"{replacement.OpType} cannot take it: {e.Message}";
            return false;
        }
        if (probe.Type != result.Type || probe.Shape is null || !probe.Shape.SequenceEqual(result.Shape!))
        {
            reason = $"{replacement.OpType} would compute {probe}, not {result}";
            return false;
        }

        int index = graph.Nodes.IndexOf(anchor);
        foreach (var node in replaced)
        {
            graph.Remove(node);
            foreach (var output in node.Outputs)
                if (output != result) graph.Values.Remove(output.Name);
        }
        replacement.Outputs[0] = result;
        result.Producer = replacement;
        foreach (var input in replacement.Inputs) input?.Consumers.Add(replacement);
        graph.Nodes.Insert(Math.Min(index, graph.Nodes.Count), replacement);
        reason = "";
        return true;
    }

    /// <summary>Replaces input <paramref name="index"/> of <paramref name="node"/> (appending empty slots as needed) by a new constant.</summary>
    public static void SetConstantInput(Graph graph, Node node, int index, string name, Tensor value)
    {
        var constant = new Value(name) { Type = value.Type, Shape = value.Shape, Constant = value };
        int unique = 1;
        while (graph.Values.ContainsKey(constant.Name)) constant = new Value(name + "_" + unique++) { Type = value.Type, Shape = value.Shape, Constant = value };
        graph.Values[constant.Name] = constant;
        while (node.Inputs.Count <= index) node.Inputs.Add(null);
        node.Inputs[index]?.Consumers.Remove(node);
        node.Inputs[index] = constant;
        constant.Consumers.Add(node);
    }

    /// <summary>The float data of a constant input, or null when it is absent, not constant or not float.</summary>
    public static float[]? FloatConstant(Value? value) =>
        value?.Constant is { Type: DataType.Float } t ? t.As<float>() : null;

    /// <summary>The dimensions after removing leading ones.</summary>
    public static int[] WithoutLeadingOnes(int[] shape) => shape.SkipWhile(d => d == 1).ToArray();
}
