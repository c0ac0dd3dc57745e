using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>
/// CumSum (opsets 11, 14) and CumProd (opset 26): running sums or products along the axis given by a one-element
/// int32/int64 input, with the <c>exclusive</c> (start from 0 or 1, shifted by one) and <c>reverse</c> attributes.
/// The axis is read at run time, so it may be a model input; it is checked at compile time when constant. Folds when
/// everything is constant.
/// </summary>
public sealed class CumulativeLowering : OpLowering
{
    readonly bool _product;

    /// <summary>Creates CumSum, or CumProd when <paramref name="product"/> is true.</summary>
    public CumulativeLowering(bool product) => _product = product;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _product ? "CumProd" : "CumSum" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!DataTypes.IsFloat(type) && !DataTypes.IsInteger(type)) throw op.Fail($"element type {type} is not supported");
        if (op.Type(1) is not (DataType.Int32 or DataType.Int64)) throw op.Fail($"axis must be int32 or int64, got {op.Type(1)}");
        if (op.Input(1).ElementCount != 1) throw op.Fail("axis must hold exactly one element");
        if (op.Shape(0).Length == 0) throw op.Fail("input must have rank 1 or more");
        if (op.Input(1).Constant is { } axis) op.Axis(axis.ToInt64()[0], op.Shape(0).Length);
        op.SetOutput(0, type, op.Shape(0));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (!ConstantEvaluation.CanEvaluate(x.Type) || x.Type == DataType.UInt64) return null;
        int axis = op.Axis(op.Input(1).Constant!.ToInt64()[0], x.Shape.Length);
        bool exclusive = op.Attributes.Int("exclusive", 0) != 0, reverse = op.Attributes.Int("reverse", 0) != 0;
        int outer = 1, inner = 1, size = x.Shape[axis];
        for (int d = 0; d < axis; d++) outer *= x.Shape[d];
        for (int d = axis + 1; d < x.Shape.Length; d++) inner *= x.Shape[d];
        bool integer = DataTypes.IsInteger(x.Type);
        long[] ints = integer ? x.ToInt64() : new long[0];
        double[] reals = integer ? new double[0] : x.ToDouble();
        var intSums = new long[ints.Length];
        var realSums = new double[reals.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long intSum = _product ? 1 : 0;
                double realSum = _product ? 1 : 0;
                for (int k = 0; k < size; k++)
                {
                    int index = (o * size + (reverse ? size - 1 - k : k)) * inner + i;
                    if (integer)
                    {
                        if (!exclusive) intSum = Combine(intSum, ints[index]);
                        intSums[index] = intSum;
                        if (exclusive) intSum = Combine(intSum, ints[index]);
                    }
                    else
                    {
                        if (!exclusive) realSum = _product ? realSum * reals[index] : realSum + reals[index];
                        realSums[index] = realSum;
                        if (exclusive) realSum = _product ? realSum * reals[index] : realSum + reals[index];
                    }
                }
            }
        return new[] { integer ? ConstantEvaluation.FromLongs(x.Type, x.Shape, intSums) : ConstantEvaluation.FromDoubles(x.Type, x.Shape, realSums) };
    }

    long Combine(long total, long value) => unchecked(_product ? total * value : total + value);

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string exclusive = op.Attributes.Int("exclusive", 0) != 0 ? "true" : "false";
        string reverse = op.Attributes.Int("reverse", 0) != 0 ? "true" : "false";
        code.Writer.Line($"{EmitContext.Kernels}.Misc.{(_product ? "CumProd" : "CumSum")}.Run<{code.InType(0)}, {code.InType(1)}>({code.In(0)}, {code.IntArray(op.Shape(0))}, " +
                         $"{code.In(1)}, {code.Out(0)}, {exclusive}, {reverse});");
    }
}
