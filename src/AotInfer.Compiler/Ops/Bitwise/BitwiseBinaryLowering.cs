using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Bitwise;

/// <summary>
/// BitwiseAnd, BitwiseOr, BitwiseXor (opset 18): broadcasting bit operations on two integer tensors of the same type,
/// run by the shared broadcasting loop with an operator struct of <c>AotInfer.Kernels.Bitwise</c>. Folds when both
/// inputs are constant.
/// </summary>
public sealed class BitwiseBinaryLowering : OpLowering
{
    readonly string _opType;
    readonly string _operator;
    readonly Func<long, long, long> _evaluate;

    /// <summary>Creates the lowering of one op.</summary>
    public BitwiseBinaryLowering(string opType, string operatorStruct, Func<long, long, long> evaluate)
    {
        _opType = opType;
        _operator = operatorStruct;
        _evaluate = evaluate;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!DataTypes.IsInteger(type)) throw op.Fail($"input element type {type} is not an integer type");
        if (op.Type(1) != type) throw op.Fail($"inputs have different element types {type} and {op.Type(1)}");
        op.SetOutput(0, type, ShapeRules.Broadcast(op.Shape(0), op.Shape(1)));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var a = op.Input(0).Constant!;
        // uint64 values above long.MaxValue do not read as 64-bit signed integers; such nodes run at run time.
        if (a.Type == DataType.UInt64) return null;
        var output = op.Output(0)!;
        return new[] { ConstantEvaluation.Binary(a, op.Input(1).Constant!, output.Shape!, output.Type, (x, y) => throw new InvalidOperationException(), _evaluate) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string t = code.InType(0);
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Binary<{t}, {t}, {EmitContext.Kernels}.Bitwise.{_operator}<{t}>>(" +
                         $"{code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, {code.IntArray(op.Shape(1))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)});");
    }
}
