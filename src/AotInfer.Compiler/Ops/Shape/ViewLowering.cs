using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// The base of ops that keep the elements in order and only change the shape (Reshape, Flatten, Squeeze,
/// Unsqueeze, Identity): folding shares the data under the new shape, and at run time the span is copied into the
/// output buffer, unless the arena planner placed the input there already.
/// </summary>
public abstract class ViewLowering : OpLowering
{
    /// <summary>The output shape; validates attributes and the constant inputs the shape depends on.</summary>
    protected abstract int[] OutputShape(OpContext op);

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        int[] shape = OutputShape(op);
        if (ShapeMath.ElementCount(shape) != op.Input(0).ElementCount)
            throw op.Fail($"output shape {Literals.Shape(shape)} does not hold the {op.Input(0).ElementCount} elements of input {Literals.Shape(op.Shape(0))}");
        op.SetOutput(0, op.Type(0), shape);
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op) =>
        op.Input(0).Constant is { } data ? new[] { ConstantData.WithShape(data, op.Output(0)!.Shape!) } : null;

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        // The arena planner may have placed the input in the output's bytes (Planning/ViewInPlace): nothing to copy.
        if (code.InputWrittenInPlace(0)) code.Writer.Line("// the input already lives in the output's bytes");
        else code.Writer.Line($"{code.In(0)}.CopyTo({code.Out(0)});");
    }
}
