using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Bitwise;

/// <summary>BitwiseNot (opset 18): flips every bit of an integer tensor. Folds when the input is constant.</summary>
public sealed class BitwiseNotLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "BitwiseNot" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!DataTypes.IsInteger(type)) throw op.Fail($"input element type {type} is not an integer type");
        op.SetOutput(0, type, op.Shape(0));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (x.Type == DataType.UInt64) return null;
        return new[] { ConstantEvaluation.FromLongs(x.Type, x.Shape, x.ToInt64().Select(v => ~v).ToArray()) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string t = code.InType(0);
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Unary<{t}, {t}, {EmitContext.Kernels}.Bitwise.BitwiseNotOperator<{t}>>({code.In(0)}, {code.Out(0)});");
    }
}
