using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Reduction;

/// <summary>
/// TopK: k from the attribute (opset 1) or the constant K input (opset 10+), axis (default −1), largest and
/// sorted (opset 11). Results are always sorted, which also satisfies sorted = 0; ties keep ascending index order.
/// </summary>
public sealed class TopKLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "TopK" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        // Both outputs are required by the spec, and the kernel writes both.
        if (op.Node.Outputs.Count < 2) throw op.Fail($"TopK needs both outputs (Values, Indices); the node has {op.Node.Outputs.Count}");
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16 || DataTypes.IsInteger(type)))
            throw op.Fail($"element type {type} is not supported");
        var (axis, k) = Parameters(op);
        var shape = (int[])op.Shape(0).Clone();
        shape[axis] = k;
        op.SetOutput(0, type, shape);
        op.SetOutput(1, DataType.Int64, shape);
    }

    static (int Axis, int K) Parameters(OpContext op)
    {
        int[] shape = op.Shape(0);
        if (shape.Length == 0) throw op.Fail("input must have rank ≥ 1");
        int axis = op.Axis(op.Attributes.Int("axis", -1), shape.Length);
        long k;
        if (op.Opset < 10) k = op.Attributes.Int("k");
        else
        {
            var values = op.ConstantInput(1, "K").ToInt64();
            if (values.Length != 1) throw op.Fail($"input 1 (K) must hold one value, got {values.Length}");
            k = values[0];
        }
        if (k < 0 || k > shape[axis]) throw op.Fail($"k = {k} is outside [0, {shape[axis]}] for axis {axis}");
        return (axis, (int)k);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (axis, k) = Parameters(op);
        int[] shape = op.Shape(0);
        int outer = ReductionAxes.Product(shape, 0, axis), inner = ReductionAxes.Product(shape, axis + 1, shape.Length);
        bool largest = op.Opset < 11 || op.Attributes.Int("largest", 1) != 0;
        code.Writer.Line($"{EmitContext.Kernels}.Reduction.TopK.Run<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {code.Out(1)}, {outer}, {shape[axis]}, {inner}, {k}, " +
                         $"largest: {(largest ? "true" : "false")});");
    }
}
