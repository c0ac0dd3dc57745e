using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// Trilu (opset 14): keeps the upper (<c>upper</c>=1, default) or lower triangle of the last two dimensions,
/// shifted by the optional int64 input k, which is read at run time.
/// </summary>
public sealed class TriluLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Trilu" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var shape = op.Shape(0);
        if (shape.Length < 2) throw op.Fail($"input must have rank 2 or more, got {shape.Length}");
        if (op.HasInput(1))
        {
            if (op.Type(1) != DataType.Int64) throw op.Fail($"k must be int64, got {op.Type(1)}");
            if (op.Input(1).ElementCount != 1) throw op.Fail("k must hold exactly one element");
        }
        op.SetOutput(0, op.Type(0), shape);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var shape = op.Shape(0);
        string k = op.HasInput(1) ? code.In(1) : "0L";
        string upper = op.Attributes.Int("upper", 1) != 0 ? "true" : "false";
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.Trilu.Run<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, " +
                         $"{Literals.Int(shape[shape.Length - 2])}, {Literals.Int(shape[shape.Length - 1])}, {k}, {upper});");
    }
}
