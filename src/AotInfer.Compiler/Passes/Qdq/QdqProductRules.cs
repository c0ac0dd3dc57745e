using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// The QDQ patterns around matrix products, lowered as ONNX Runtime's QDQ transformer does:
/// DQ(x) + DQ(w) [+ DQ(int32 bias)] → Conv → [Relu/Clip] → Q becomes QLinearConv; the same around Gemm becomes
/// com.microsoft QGemm (with a float result when no Q follows); around MatMul, QLinearMatMul, or
/// com.microsoft MatMulIntegerToFloat when no Q follows. The integer lowerings of those ops then run one int8
/// GEMM with requantisation (float multiplier, round half to even, saturate), as ONNX Runtime's kernels do.
/// </summary>
internal static class QdqProductRules
{
    /// <summary>DQ → Conv → Q as QLinearConv, or null with the reason.</summary>
    public static Node? Conv(QdqGroup g, QdqRewriter r, out string reason)
    {
        var conv = g.Target;
        if (!Operands(g, out var x, out var w, out reason)) return null;
        if (!w!.PerTensor && w.Axis != 0) { reason = $"the weights are quantised along axis {w.Axis}, not the output channels"; return null; }
        if (!Bias(g, x!, w, out var bias, out reason)) return null;
        if (QdqOperatorRules.QuantizedLike(g, x!) is { } problem) { reason = problem; return null; }
        var y = g.Output!;
        if ((r.Signed.SignedProduct(x!) ?? r.Signed.TypesDisagree(new[] { x!, y })) is { } ort) { reason = ort; return null; }
        reason = "";
        return QdqRewriter.NewNode(conv, "QLinearConv", "", QdqRewriter.AttributesOf(conv),
            x!.Data, x.Scale, r.ZeroPoint(x), w.Data, w.Scale, r.ZeroPoint(w), y.Scale, r.ZeroPoint(y), bias);
    }

    /// <summary>DQ → Gemm → [Q] as com.microsoft QGemm, or null with the reason.</summary>
    public static Node? Gemm(QdqGroup g, QdqRewriter r, out string reason)
    {
        var gemm = g.Target;
        if (!Operands(g, out var a, out var b, out reason)) return null;
        int columns = gemm.Attributes.Int("transB", 0) != 0 ? 0 : 1;
        if (!b!.PerTensor && b.Axis != columns) { reason = $"B is quantised along axis {b.Axis}, not its columns"; return null; }
        if (r.Signed.Effective(a!) == DataType.Int8 && b.IntegerType != DataType.Int8) { reason = "ONNX Runtime fuses an int8 A only with int8 B"; return null; }
        if (!Bias(g, a!, b, out var bias, out reason)) return null;
        if (bias is not null && gemm.Attributes.Float("beta", 1f) != 1f) { reason = "beta is not 1 with a quantised bias"; return null; }
        Value? yScale = null, yZero = null;
        if (g.Quantize is not null || g.OutputProblem is not null)
        {
            if ((QdqOperatorRules.QuantizedLike(g, a!) ?? r.Signed.TypesDisagree(new[] { a!, g.Output! })) is { } problem) { reason = problem; return null; }
            yScale = g.Output!.Scale;
            yZero = r.ZeroPoint(g.Output);
        }
        reason = "";
        return QdqRewriter.NewNode(gemm, "QGemm", "com.microsoft", QdqRewriter.AttributesOf(gemm, "beta"),
            a!.Data, a.Scale, r.ZeroPoint(a), b.Data, b.Scale, r.ZeroPoint(b), bias, yScale, yZero);
    }

    /// <summary>DQ → MatMul → [Q] as QLinearMatMul or com.microsoft MatMulIntegerToFloat, or null with the reason.</summary>
    public static Node? MatMul(QdqGroup g, QdqRewriter r, out string reason)
    {
        var matMul = g.Target;
        if (!Operands(g, out var a, out var b, out reason)) return null;
        if (!b!.PerTensor && !(b.Data.Shape!.Length == 2 && b.Axis == 1)) { reason = $"B is quantised along axis {b.Axis}, not the columns of a matrix"; return null; }
        if (r.Signed.SignedProduct(a!) is { } signed) { reason = signed; return null; }
        if (g.Quantize is null && g.OutputProblem is null)
        {
            reason = "";
            return QdqRewriter.NewNode(matMul, "MatMulIntegerToFloat", "com.microsoft", QdqRewriter.AttributesOf(matMul),
                a!.Data, b.Data, a.Scale, b.Scale, r.ZeroPoint(a), r.ZeroPoint(b));
        }
        if ((QdqOperatorRules.QuantizedLike(g, a!) ?? r.Signed.TypesDisagree(new[] { a!, g.Output! })) is { } problem) { reason = problem; return null; }
        var y = g.Output!;
        reason = "";
        return QdqRewriter.NewNode(matMul, "QLinearMatMul", "", QdqRewriter.AttributesOf(matMul),
            a!.Data, a.Scale, r.ZeroPoint(a), b.Data, b.Scale, r.ZeroPoint(b), y.Scale, r.ZeroPoint(y));
    }

    /// <summary>The dequantised activation (per tensor) and weights (8-bit) of inputs 0 and 1.</summary>
    static bool Operands(QdqGroup g, out QdqParameters? activation, out QdqParameters? weights, out string reason)
    {
        activation = weights = null;
        if (g.RequireDequantized(0, 1) is { } missing) { reason = missing; return false; }
        activation = g.Inputs[0]!;
        weights = g.Inputs[1]!;
        reason = !activation.IsEightBit || !weights.IsEightBit ? $"the operands are {activation.IntegerType} and {weights.IntegerType}; the integer kernels take int8 and uint8"
            : !activation.PerTensor ? "input 0 is quantised per axis; the integer kernels take one activation scale"
            : "";
        return reason.Length == 0;
    }

    /// <summary>
    /// The optional bias (input 2): absent, or DequantizeLinear of int32 with zero point 0 and scale input scale ×
    /// weight scale (what quantisers write), whose integers are then added to the accumulators as they are.
    /// </summary>
    static bool Bias(QdqGroup g, QdqParameters activation, QdqParameters weights, out Value? bias, out string reason)
    {
        bias = null;
        reason = "";
        if (g.Target.Input(2) is null) return true;
        if (g.RequireDequantized(2) is { } missing) { reason = $"the bias is float ({missing}); ONNX Runtime fuses only a DequantizeLinear(int32) bias"; return false; }
        if (g.Inputs[2]!.IntegerType != DataType.Int32) { reason = $"the bias is dequantised from {g.Inputs[2]!.IntegerType}, not int32"; return false; }
        var b = g.Inputs[2]!;
        if (b.ZeroPoints.Any(z => z != 0)) { reason = "the bias zero point is not 0"; return false; }
        float xScale = activation.Scales[0];
        float[] wScales = weights.Scales, bScales = b.Scales;
        int count = System.Math.Max(wScales.Length, bScales.Length);
        for (int c = 0; c < count; c++)
        {
            float expected = xScale * wScales[wScales.Length == 1 ? 0 : c], actual = bScales[bScales.Length == 1 ? 0 : c];
            if (System.Math.Abs(actual - expected) > 1e-5f * expected) { reason = $"the bias scale {actual} is not input scale × weight scale ({expected}), so its integers cannot be added to the accumulators"; return false; }
        }
        bias = b.Data;
        return true;
    }
}
