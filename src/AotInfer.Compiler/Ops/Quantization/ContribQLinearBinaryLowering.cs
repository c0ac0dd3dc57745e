using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// com.microsoft QLinearAdd and QLinearMul: (A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
/// C_zero_point) with numpy broadcasting, int8 or uint8, per-tensor constant scales. The arithmetic follows ONNX
/// Runtime's MLAS kernels (see <c>AotInfer.Kernels.Quantization.QLinearAddOperator</c>).
/// </summary>
public sealed class ContribQLinearBinaryLowering : OpLowering
{
    readonly string _opType;
    readonly string _operator;

    /// <summary>Creates the lowering of QLinearAdd or QLinearMul.</summary>
    public ContribQLinearBinaryLowering(string opType, string operatorStruct)
    {
        _opType = opType;
        _operator = operatorStruct;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override string Domain => "com.microsoft";

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var a = op.Input(0);
        var b = op.Input(3);
        ContribQuantization.CheckEightBit(op, a.Type, "input A");
        if (b.Type != a.Type) throw op.Fail($"inputs A ({a.Type}) and B ({b.Type}) must have the same element type");
        var (qa, qb, qc) = Parameters(op);
        op.Node.Annotations["precision"] = "int8";
        op.Node.Annotations["quantization"] = $"A {qa}; B {qb}; C {qc}";
        op.SetOutput(0, a.Type, ShapeRules.Broadcast(a.Shape!, b.Shape!));
    }

    static (QuantizationParameters A, QuantizationParameters B, QuantizationParameters C) Parameters(OpContext op)
    {
        var type = op.Type(0);
        return (ContribQuantization.Read(op, 1, 2, type, "A"), ContribQuantization.Read(op, 4, 5, type, "B"),
                ContribQuantization.Read(op, 6, 7, type, "C"));
    }

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) => inputIndex is 0 or 3;

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (qa, qb, qc) = Parameters(op);
        string t = code.InType(0);
        string k = EmitContext.Kernels;
        if (_opType == "QLinearAdd" && System.Linq.Enumerable.SequenceEqual(op.Shape(0), op.Shape(3)))
        {
            // Same shapes (residual connections): the operator's vectorised span form.
            code.Writer.Line($"new {k}.Quantization.{_operator}<{t}>({qa.Arguments}, {qb.Arguments}, {qc.Arguments}).Invoke({code.In(0)}, {code.In(3)}, {code.Out(0)});");
            return;
        }
        code.Writer.Line($"{k}.Elementwise.Broadcast.Binary<{t}, {t}, {k}.Quantization.{_operator}<{t}>>(" +
                         $"{code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(3)}, {code.IntArray(op.Shape(3))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)}, " +
                         $"new {k}.Quantization.{_operator}<{t}>({qa.Arguments}, {qb.Arguments}, {qc.Arguments}));");
    }
}
