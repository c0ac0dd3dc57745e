using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Reduction;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>
/// Softmax, LogSoftmax and Hardmax. Before opset 13 the input is coerced to 2-D at <c>axis</c> (default 1) and the
/// op runs over all dimensions from <c>axis</c> on; from opset 13 it runs along the one axis (default −1).
/// </summary>
public sealed class SoftmaxLowering : OpLowering
{
    readonly string _opType;

    /// <summary>Creates the lowering for Softmax, LogSoftmax or Hardmax.</summary>
    public SoftmaxLowering(string opType) => _opType = opType;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16)) throw op.Fail($"element type {type} is not supported");
        Layout(op);
        op.SetOutput(0, type, op.Shape(0));
    }

    /// <summary>The input viewed as [outer, count, inner] with the op running over count.</summary>
    static (int Outer, int Count, int Inner) Layout(OpContext op)
    {
        int[] shape = op.Shape(0);
        if (shape.Length == 0) throw op.Fail("input must have rank ≥ 1");
        bool coerce = op.Opset < 13;
        int axis = op.Axis(op.Attributes.Int("axis", coerce ? 1 : -1), shape.Length);
        int outer = ReductionAxes.Product(shape, 0, axis);
        return coerce
            ? (outer, ReductionAxes.Product(shape, axis, shape.Length), 1)
            : (outer, shape[axis], ReductionAxes.Product(shape, axis + 1, shape.Length));
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (outer, count, inner) = Layout(op);
        if (_opType == "Hardmax")
        {
            code.Writer.Line($"{EmitContext.Kernels}.Normalization.Softmax.Hardmax<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {outer}, {count}, {inner});");
            return;
        }
        var spans = new ComputeSpans(op, code);
        var computeType = ComputeSpans.ComputeType(op.Type(0));
        string x = spans.In(0), y = spans.Out(0);
        string scratch = inner > 1 ? code.Scratch(computeType, 2 * inner) : "default";
        code.Writer.Line($"{EmitContext.Kernels}.Normalization.Softmax.Run<{DataTypes.CSharpName(computeType)}>({x}, {y}, {outer}, {count}, {inner}, " +
                         $"logarithm: {(_opType == "LogSoftmax" ? "true" : "false")}, {scratch});");
        spans.Finish();
    }
}
