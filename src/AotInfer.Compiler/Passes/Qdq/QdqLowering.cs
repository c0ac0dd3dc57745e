using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// Lowers QDQ patterns (DequantizeLinear → float op → QuantizeLinear) to integer ops, the way ONNX Runtime's QDQ
/// transformer executes QDQ models, so results agree with ONNX Runtime's int8 path instead of simulating the
/// quantisation in float: Conv → QLinearConv, Gemm → QGemm, MatMul → QLinearMatMul / MatMulIntegerToFloat,
/// Add/Mul → QLinearAdd/QLinearMul, pooling and lookup activations → their QLinear forms, Concat → QLinearConcat,
/// data movement → the op on the integers (see <see cref="QdqProductRules"/> and <see cref="QdqOperatorRules"/>).
/// Unmatched DequantizeLinear/QuantizeLinear stay float conversions; every node of a pattern is annotated with
/// the precision it runs in and why, for <c>inspect</c>.
/// </summary>
public static class QdqLowering
{
    /// <summary>
    /// Remembers every DequantizeLinear whose inputs are all constant (weights, biases) before shape inference
    /// folds it into a float constant: the lowering needs the integer weights it dequantised.
    /// </summary>
    public static FoldedDequantizations RememberConstantDequantize(Graph graph)
    {
        var map = new Dictionary<Value, Node>();
        foreach (var node in graph.Nodes)
            if (node is { OpType: "DequantizeLinear", Domain: "" } && node.Inputs.All(i => i is null || i.Constant is not null))
                map[node.Outputs[0]] = node;
        return new FoldedDequantizations(map);
    }

    /// <summary>Lowers every matching pattern of an inferred graph; returns how many nodes now run integer ops.</summary>
    public static int Run(Graph graph, OpRegistry registry, FoldedDequantizations folded)
    {
        var rewriter = new QdqRewriter(graph, registry);
        var removed = new HashSet<Node>();
        int lowered = 0;
        foreach (var node in graph.Nodes.ToArray())
        {
            if (removed.Contains(node) || node.Domain.Length != 0 || node.OpType is "QuantizeLinear" or "DequantizeLinear") continue;
            var group = QdqGroup.Find(node, folded.Map);
            if (!group.TouchesQdq) continue;
            var replacement = Lower(group, rewriter, out string reason);
            if (replacement is not null && rewriter.TryCommit(group, replacement, out reason))
            {
                foreach (var gone in group.Replaced()) removed.Add(gone);
                replacement.Annotations[PrecisionAnnotation.Key] = $"int8 (QDQ {Pattern(group)} lowered to {replacement.OpType})";
                lowered++;
                continue;
            }
            node.Annotations[PrecisionAnnotation.Key] = $"float (QDQ pattern not lowered: {reason})";
        }
        return lowered;
    }

    static Node? Lower(QdqGroup group, QdqRewriter rewriter, out string reason)
    {
        string op = group.Target.OpType;
        switch (op)
        {
            case "Conv": return QdqProductRules.Conv(group, rewriter, out reason);
            case "Gemm": return QdqProductRules.Gemm(group, rewriter, out reason);
            case "MatMul": return QdqProductRules.MatMul(group, rewriter, out reason);
            case "Add" or "Mul": return QdqOperatorRules.Binary(group, rewriter, out reason);
            case "Concat": return QdqOperatorRules.Concat(group, rewriter, out reason);
        }
        if (QdqOperatorRules.UnaryOps.ContainsKey(op)) return QdqOperatorRules.Unary(group, rewriter, out reason);
        if (QdqOperatorRules.PassThroughOps.Contains(op)) return QdqOperatorRules.PassThrough(group, rewriter, out reason);
        reason = $"{op} has no integer lowering";
        return null;
    }

    /// <summary>"DequantizeLinear → Conv → Relu → QuantizeLinear", for the annotation.</summary>
    static string Pattern(QdqGroup group) =>
        string.Join(" → ", new[] { group.Inputs.Any(i => i is not null) ? "DequantizeLinear" : null, group.Target.OpType, group.RedundantActivation is null ? null : group.RedundantActivation.OpType + " (implied by the output range)",
            group.Quantize is null ? null : "QuantizeLinear" }.Where(s => s is not null));
}

/// <summary>DequantizeLinear nodes of constants that shape inference folds, by the value they produced (see <see cref="QdqLowering.RememberConstantDequantize"/>).</summary>
public sealed class FoldedDequantizations
{
    internal FoldedDequantizations(IReadOnlyDictionary<Value, Node> map) => Map = map;

    internal IReadOnlyDictionary<Value, Node> Map { get; }
}
