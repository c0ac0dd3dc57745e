using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// com.microsoft QLinearSigmoid and QLinearLeakyRelu (X, X_scale, X_zero_point, Y_scale, Y_zero_point): like ONNX
/// Runtime, a 256-entry table of quantize(f(dequantize(x))) built here from the constant scales, applied at run
/// time by <c>QLinearLookup.Apply</c>.
/// </summary>
public sealed class ContribQLinearLookupLowering : OpLowering
{
    readonly string _opType;

    /// <summary>Creates the lowering of QLinearSigmoid or QLinearLeakyRelu.</summary>
    public ContribQLinearLookupLowering(string opType) => _opType = opType;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override string Domain => "com.microsoft";

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var x = op.Input(0);
        ContribQuantization.CheckEightBit(op, x.Type, "input X");
        var (qx, qy) = Parameters(op);
        Function(op);
        op.Node.Annotations["precision"] = "int8";
        op.Node.Annotations["quantization"] = $"X {qx}; Y {qy}; 256-entry table";
        op.SetOutput(0, x.Type, x.Shape!);
    }

    static (QuantizationParameters X, QuantizationParameters Y) Parameters(OpContext op) =>
        (ContribQuantization.Read(op, 1, 2, op.Type(0), "X"), ContribQuantization.Read(op, 3, 4, op.Type(0), "Y"));

    Func<float, float> Function(OpContext op)
    {
        if (_opType == "QLinearSigmoid") return x => (float)(1.0 / (1.0 + Math.Exp(-x)));
        float alpha = op.Attributes.Float("alpha", 0.01f);
        return x => x >= 0 ? x : x * alpha;
    }

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) => inputIndex == 0;

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (qx, qy) = Parameters(op);
        var type = op.Type(0);
        string table = code.Constant(ContribQuantization.LookupTable(type, qx, qy, Function(op)), _opType + "Table");
        code.Writer.Line($"{EmitContext.Kernels}.Quantization.QLinearLookup.Apply<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {table});");
    }
}
