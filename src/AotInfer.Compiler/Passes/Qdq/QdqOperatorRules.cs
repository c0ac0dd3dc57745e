using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// The QDQ patterns around element-wise, pooling and data-movement ops, lowered as ONNX Runtime's QDQ transformer
/// does: Add/Mul become com.microsoft QLinearAdd/QLinearMul; AveragePool, GlobalAveragePool, Sigmoid and
/// LeakyRelu their com.microsoft QLinear* forms (the last two a 256-entry lookup table); Concat QLinearConcat;
/// and ops that only move or select values (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, MaxPool) run on the
/// integers directly when input and output quantisation agree, dropping the DQ/Q pair.
/// </summary>
internal static class QdqOperatorRules
{
    /// <summary>Ops that move or select values, so DQ → op → Q with equal parameters is the op on the integers.</summary>
    public static readonly HashSet<string> PassThroughOps = new() { "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "MaxPool" };

    /// <summary>Single-input ops with a com.microsoft QLinear form, by op type.</summary>
    public static readonly Dictionary<string, string> UnaryOps = new()
    {
        ["AveragePool"] = "QLinearAveragePool",
        ["GlobalAveragePool"] = "QLinearGlobalAveragePool",
        ["Sigmoid"] = "QLinearSigmoid",
        ["LeakyRelu"] = "QLinearLeakyRelu",
    };

    /// <summary>Why the group's result is not quantised per tensor to <paramref name="input"/>'s type, or null when it is.</summary>
    public static string? QuantizedLike(QdqGroup g, QdqParameters input)
    {
        if (g.OutputProblem is { } problem) return problem;
        if (g.Output is null) return "the result is not quantised by a QuantizeLinear";
        if (g.Output.IntegerType != input.IntegerType) return $"the result is quantised to {g.Output.IntegerType} but the input is {input.IntegerType}";
        return null;
    }

    /// <summary>DQ(a), DQ(b) → Add/Mul → Q as QLinearAdd/QLinearMul, or null with the reason.</summary>
    public static Node? Binary(QdqGroup g, QdqRewriter r, out string reason)
    {
        if (!PerTensorEightBit(g, new[] { 0, 1 }, out reason)) return null;
        QdqParameters a = g.Inputs[0]!, b = g.Inputs[1]!;
        reason = b.IntegerType != a.IntegerType ? $"the inputs are {a.IntegerType} and {b.IntegerType}" : QuantizedLike(g, a) ?? r.Signed.TypesDisagree(new[] { a, b, g.Output! }) ?? "";
        if (reason.Length > 0) return null;
        var y = g.Output!;
        return QdqRewriter.NewNode(g.Target, "QLinear" + g.Target.OpType, "com.microsoft", QdqRewriter.AttributesOf(g.Target),
            a.Data, a.Scale, r.ZeroPoint(a), b.Data, b.Scale, r.ZeroPoint(b), y.Scale, r.ZeroPoint(y));
    }

    /// <summary>DQ → AveragePool/GlobalAveragePool/Sigmoid/LeakyRelu → Q as its com.microsoft QLinear form, or null with the reason.</summary>
    public static Node? Unary(QdqGroup g, QdqRewriter r, out string reason)
    {
        if (!PerTensorEightBit(g, new[] { 0 }, out reason)) return null;
        var x = g.Inputs[0]!;
        if ((QuantizedLike(g, x) ?? r.Signed.TypesDisagree(new[] { x, g.Output! })) is { } problem) { reason = problem; return null; }
        var y = g.Output!;
        return QdqRewriter.NewNode(g.Target, UnaryOps[g.Target.OpType], "com.microsoft", QdqRewriter.AttributesOf(g.Target),
            x.Data, x.Scale, r.ZeroPoint(x), y.Scale, r.ZeroPoint(y));
    }

    /// <summary>DQ(x…) → Concat → Q as QLinearConcat, or null with the reason.</summary>
    public static Node? Concat(QdqGroup g, QdqRewriter r, out string reason)
    {
        var indexes = Enumerable.Range(0, g.Target.Inputs.Count).ToArray();
        if (!PerTensorEightBit(g, indexes, out reason)) return null;
        var first = g.Inputs[0]!;
        if (g.Inputs.FirstOrDefault(i => i!.IntegerType != first.IntegerType) is { } other) { reason = $"the inputs mix {first.IntegerType} and {other.IntegerType}"; return null; }
        if ((QuantizedLike(g, first) ?? r.Signed.TypesDisagree(g.Inputs.Select(i => i!).Append(g.Output!))) is { } problem) { reason = problem; return null; }
        var y = g.Output!;
        var inputs = new List<Value?> { y.Scale, r.ZeroPoint(y) };
        foreach (var x in g.Inputs) inputs.AddRange(new[] { x!.Data, x.Scale, r.ZeroPoint(x) });
        return QdqRewriter.NewNode(g.Target, "QLinearConcat", "com.microsoft", QdqRewriter.AttributesOf(g.Target), inputs.ToArray());
    }

    /// <summary>DQ → Reshape/Flatten/Transpose/Squeeze/Unsqueeze/MaxPool → Q with equal parameters as the op on the integers, or null with the reason.</summary>
    public static Node? PassThrough(QdqGroup g, QdqRewriter r, out string reason)
    {
        var target = g.Target;
        if (g.RequireDequantized(0) is { } missing) { reason = missing; return null; }
        if (g.Inputs.Skip(1).Any(i => i is not null)) { reason = "only the data input may be dequantised"; return null; }
        if (target.Outputs.Count != 1) { reason = "the op has more than one output"; return null; }
        if (target.OpType == "MaxPool" && target.Opset < 12) { reason = "MaxPool before opset 12 has no 8-bit form"; return null; }
        var x = g.Inputs[0]!;
        if ((QuantizedLike(g, x) ?? r.Signed.TypesDisagree(new[] { x, g.Output! })) is { } problem) { reason = problem; return null; }
        if (!x.SameQuantization(g.Output!)) { reason = "the DequantizeLinear and QuantizeLinear parameters differ, so the values change"; return null; }
        reason = "";
        var inputs = target.Inputs.ToArray();
        inputs[0] = x.Data;
        return QdqRewriter.NewNode(target, target.OpType, "", QdqRewriter.AttributesOf(target), inputs);
    }

    /// <summary>True when every listed input comes from a per-tensor int8/uint8 DequantizeLinear.</summary>
    static bool PerTensorEightBit(QdqGroup g, int[] indexes, out string reason)
    {
        reason = g.RequireDequantized(indexes) ?? "";
        if (reason.Length > 0) return false;
        foreach (int i in indexes)
        {
            var p = g.Inputs[i]!;
            if (!p.IsEightBit) reason = $"input {i} is {p.IntegerType}; the QLinear ops take int8 and uint8";
            else if (!p.PerTensor) reason = $"input {i} is quantised per axis; the QLinear ops take one scale per tensor";
            if (reason.Length > 0) return false;
        }
        return true;
    }
}
