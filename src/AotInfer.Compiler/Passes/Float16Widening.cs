using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Runs float16 nodes of ops that only have float kernels (Conv, Gemm, pooling…) in float: float16 inputs are cast
/// to float (constants converted at compile time) and the float results cast back to float16. This is what ONNX
/// Runtime's CPU provider does for most float16 ops (it computes in float and rounds the result).
/// </summary>
public static class Float16Widening
{
    /// <summary>
    /// Rewrites <paramref name="node"/> to compute in float. Returns the Cast nodes placed after it (already in the
    /// graph, still to be inferred), or null when the node has no float16 input or output.
    /// </summary>
    public static Node[]? Widen(Graph graph, Node node)
    {
        bool hasHalf = node.Inputs.Any(i => i?.Type == DataType.Float16);
        if (!hasHalf) return null;
        int at = graph.Nodes.IndexOf(node);
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var input = node.Inputs[i];
            if (input is null || input.Type != DataType.Float16) continue;
            var widened = new Value(input.Name + ":float") { Type = DataType.Float, Shape = input.Shape };
            graph.Values[widened.Name] = widened;
            if (input.Constant is { } constant)
            {
                widened.Constant = Ops.Shape.ConstantCast.Convert(constant, DataType.Float);
            }
            else
            {
                var cast = CastNode(node.Name + ":widen_input_" + i, DataType.Float);
                cast.Inputs.Add(input);
                cast.Outputs.Add(widened);
                widened.Producer = cast;
                input.Consumers.Add(cast);
                graph.Nodes.Insert(at++, cast);
            }
            input.Consumers.Remove(node);
            node.Inputs[i] = widened;
            widened.Consumers.Add(node);
        }
        var after = new System.Collections.Generic.List<Node>();
        for (int o = 0; o < node.Outputs.Count; o++)
        {
            var output = node.Outputs[o];
            var inFloat = new Value(output.Name + ":float") { Producer = node };
            graph.Values[inFloat.Name] = inFloat;
            node.Outputs[o] = inFloat;
            var narrow = CastNode(node.Name + ":narrow_output_" + o, DataType.Float16);
            narrow.Inputs.Add(inFloat);
            narrow.Outputs.Add(output);
            inFloat.Consumers.Add(narrow);
            output.Producer = narrow;
            graph.Nodes.Insert(at + 1 + o, narrow);
            after.Add(narrow);
        }
        return after.ToArray();
    }

    static Node CastNode(string name, DataType to)
    {
        var attribute = new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)to };
        return new Node(name, "Cast", "", 13, new NodeAttributes(new[] { attribute }, null));
    }
}
