using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>
/// Mod (opsets 10, 13) with broadcasting. fmod=1 is C fmod (the sign of the dividend); fmod=0 is the floor
/// modulo with the sign of the divisor, for integers and, as numpy's <c>mod</c>, for floats too.
/// </summary>
public sealed class ModLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Mod" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!DataTypes.IsFloat(type) && !DataTypes.IsInteger(type)) throw op.Fail($"element type {type} is not supported");
        if (op.Type(1) != type) throw op.Fail($"inputs have different element types {type} and {op.Type(1)}");
        long fmod = op.Attributes.Int("fmod", 0);
        if (fmod is not (0 or 1)) throw op.Fail($"fmod must be 0 or 1, got {fmod}");
        op.SetOutput(0, type, ShapeRules.Broadcast(op.Shape(0), op.Shape(1)));
    }

    static bool Truncating(OpContext op) => op.Attributes.Int("fmod", 0) != 0;

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var a = op.Input(0).Constant!;
        var b = op.Input(1).Constant!;
        if (!ConstantEvaluation.CanEvaluate(a.Type) || a.Type == DataType.UInt64) return null;
        bool truncating = Truncating(op);
        var output = op.Output(0)!;
        return new[]
        {
            ConstantEvaluation.Binary(a, b, output.Shape!, output.Type,
                (x, y) =>
                {
                    double r = x % y;
                    return !truncating && r != 0 && (r < 0) != (y < 0) ? r + y : r;
                },
                (x, y) =>
                {
                    if (y == 0) throw op.Fail("division by zero in a constant Mod");
                    long r = y == -1 ? 0 : x % y;
                    return !truncating && r != 0 && (r < 0) != (y < 0) ? r + y : r;
                }),
        };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string t = code.InType(0);
        string opStruct = Truncating(op) ? "TruncModOperator" : "FloorModOperator";
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Binary<{t}, {t}, {EmitContext.Kernels}.Elementwise.{opStruct}<{t}>>(" +
                         $"{code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, {code.IntArray(op.Shape(1))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)});");
    }
}
