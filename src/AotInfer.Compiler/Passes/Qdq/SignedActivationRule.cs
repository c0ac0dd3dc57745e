using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// How ONNX Runtime on x86 treats int8 (signed) activations, which decides which of its QDQ patterns become integer
/// kernels, so we lower the same ones and agree with its results. Its x86 kernels want uint8 activations: before
/// fusing it rewrites a QuantizeLinear → DequantizeLinear pair from int8 to uint8 (zero point + 128, the same
/// values) only when the QuantizeLinear has exactly one reader edge (a DequantizeLinear read by one node, since it
/// first gives every reader of a shared DequantizeLinear its own copy); then Conv and MatMul fuse only with uint8
/// activations, and every pattern needs its (converted) input and output types to agree. Int8 activations that
/// fan out therefore keep their Conv/MatMul in float there. The conversion changes no integer value, so our int8
/// kernels compute the same numbers; only the choice of which nodes run integer kernels follows it.
/// </summary>
internal sealed class SignedActivationRule
{
    readonly HashSet<Node> _converted;

    SignedActivationRule(HashSet<Node> converted) => _converted = converted;

    /// <summary>Finds the converted pairs of the graph as it is before any lowering.</summary>
    public static SignedActivationRule Analyze(Graph graph)
    {
        var converted = new HashSet<Node>();
        foreach (var q in graph.Nodes.Where(n => n is { OpType: "QuantizeLinear", Domain: "" }))
        {
            var output = q.Outputs[0];
            if (output.Type != DataType.Int8 || output.IsGraphOutput || output.Consumers.Count != 1) continue;
            var dq = output.Consumers[0];
            // A DequantizeLinear that is also a graph output gets a private copy per reader, each a reader edge of the QuantizeLinear.
            if (dq is not { OpType: "DequantizeLinear", Domain: "" } || dq.Outputs[0].Consumers.Count != (dq.Outputs[0].IsGraphOutput ? 0 : 1)) continue;
            converted.Add(q);
            converted.Add(dq);
        }
        return new SignedActivationRule(converted);
    }

    /// <summary>The element type ONNX Runtime sees for a DequantizeLinear input or QuantizeLinear output after its conversion.</summary>
    public DataType Effective(QdqParameters p) =>
        p.IntegerType == DataType.Int8 && _converted.Contains(p.Source) ? DataType.UInt8 : p.IntegerType;

    /// <summary>Why ONNX Runtime would not fuse a pattern whose listed parameters must share one element type, or null.</summary>
    public string? TypesDisagree(IEnumerable<QdqParameters> parameters)
    {
        var list = parameters.ToList();
        if (list.Select(Effective).Distinct().Count() <= 1) return null;
        return "ONNX Runtime keeps it float: its x86 path converts int8 activations to uint8 only where a QuantizeLinear has a single reader, " +
               $"so here the types differ ({string.Join(", ", list.Select(p => $"{p.Source.OpType} {Effective(p)}"))})";
    }

    /// <summary>Why ONNX Runtime's x86 path would keep a Conv/MatMul with this activation in float, or null.</summary>
    public string? SignedProduct(QdqParameters activation) =>
        Effective(activation) == DataType.Int8
            ? "ONNX Runtime keeps it float: on x86 it fuses Conv/MatMul only with uint8 activations, and this int8 activation fans out, so it is not converted"
            : null;
}
