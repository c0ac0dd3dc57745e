using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Reduction;

/// <summary>ArgMax / ArgMin: int64 indices along <c>axis</c> (default 0), keepdims, select_last_index (opset 12).</summary>
public sealed class ArgReduceLowering : OpLowering
{
    readonly bool _largest;

    /// <summary>Creates ArgMax (<paramref name="largest"/>) or ArgMin.</summary>
    public ArgReduceLowering(bool largest) => _largest = largest;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _largest ? "ArgMax" : "ArgMin" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16 || DataTypes.IsInteger(type)))
            throw op.Fail($"element type {type} is not supported");
        if (op.Attributes.Int("select_last_index", 0) != 0 && op.Opset < 12) throw op.Fail("select_last_index needs opset 12");
        op.SetOutput(0, DataType.Int64, Axis(op).OutputShape);
    }

    static ReductionAxes Axis(OpContext op)
    {
        int[] shape = op.Shape(0);
        if (shape.Length == 0) throw op.Fail("input must have rank ≥ 1");
        int axis = op.Axis(op.Attributes.Int("axis", 0), shape.Length);
        return ReductionAxes.Single(shape, axis, op.Attributes.Int("keepdims", 1) != 0);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int[] shape = op.Shape(0);
        int axis = op.Axis(op.Attributes.Int("axis", 0), shape.Length);
        int outer = ReductionAxes.Product(shape, 0, axis), inner = ReductionAxes.Product(shape, axis + 1, shape.Length);
        bool selectLast = op.Attributes.Int("select_last_index", 0) != 0;
        code.Writer.Line($"{EmitContext.Kernels}.Reduction.ArgReduce.Run<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {outer}, {shape[axis]}, {inner}, " +
                         $"largest: {(_largest ? "true" : "false")}, selectLast: {(selectLast ? "true" : "false")});");
    }
}
