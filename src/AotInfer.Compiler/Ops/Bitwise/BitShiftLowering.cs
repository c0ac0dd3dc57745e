using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Bitwise;

/// <summary>
/// BitShift (opset 11): shifts unsigned integers left or right (attribute <c>direction</c>, required) by the
/// broadcast amounts of the second input; shifting by the bit width or more gives 0. Folds when both inputs are
/// constant.
/// </summary>
public sealed class BitShiftLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "BitShift" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (type is not (DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64))
            throw op.Fail($"input element type {type} is not an unsigned integer type (BitShift is defined for uint8..uint64)");
        if (op.Type(1) != type) throw op.Fail($"inputs have different element types {type} and {op.Type(1)}");
        ShiftsLeft(op);
        op.SetOutput(0, type, ShapeRules.Broadcast(op.Shape(0), op.Shape(1)));
    }

    static bool ShiftsLeft(OpContext op)
    {
        string direction = op.Attributes.String("direction", "");
        return direction switch
        {
            "LEFT" => true,
            "RIGHT" => false,
            "" => throw op.Fail("required attribute 'direction' is missing"),
            _ => throw op.Fail($"attribute 'direction' must be LEFT or RIGHT, not '{direction}'"),
        };
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var a = op.Input(0).Constant!;
        if (a.Type == DataType.UInt64) return null;
        int bits = DataTypes.SizeOf(a.Type) * 8;
        bool left = ShiftsLeft(op);
        var output = op.Output(0)!;
        // Values of uint8..uint32 are non-negative as longs, so the arithmetic >> is the logical shift here, and
        // FromLongs wraps the left-shifted value back to the element width.
        return new[]
        {
            ConstantEvaluation.Binary(a, op.Input(1).Constant!, output.Shape!, output.Type, (x, y) => throw new System.InvalidOperationException(),
                (x, y) => y >= bits ? 0 : left ? x << (int)y : x >> (int)y),
        };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string t = code.InType(0);
        string kernel = ShiftsLeft(op) ? "ShiftLeftOperator" : "ShiftRightOperator";
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Binary<{t}, {t}, {EmitContext.Kernels}.Bitwise.{kernel}<{t}>>(" +
                         $"{code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, {code.IntArray(op.Shape(1))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)});");
    }
}
