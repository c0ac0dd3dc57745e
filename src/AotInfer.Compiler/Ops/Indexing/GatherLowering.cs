using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// Gather (opsets 1, 11, 13): slices of the data along <c>axis</c> picked by int32/int64 indices of any rank
/// (a scalar index removes the axis); negative indices count from the end. Folds at compile time when data and
/// indices are constant, which is how shape sub-graphs (Shape → Gather) become constant.
/// </summary>
public sealed class GatherLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Gather" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var data = op.Shape(0);
        var indices = op.Shape(1);
        if (op.Type(1) is not (DataType.Int32 or DataType.Int64)) throw op.Fail($"indices must be int32 or int64, got {op.Type(1)}");
        int axis = op.Axis(op.Attributes.Int("axis", 0), data.Length);
        op.SetOutput(0, op.Type(0), data.Take(axis).Concat(indices).Concat(data.Skip(axis + 1)).ToArray());
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var data = op.Input(0).Constant!;
        var indices = op.Input(1).Constant!.ToInt64();
        int axis = op.Axis(op.Attributes.Int("axis", 0), data.Shape.Length);
        int outer = TensorSelection.Product(data.Shape, 0, axis), size = data.Shape[axis];
        int inner = TensorSelection.Product(data.Shape, axis + 1, data.Shape.Length);
        var source = new int[outer * indices.Length * inner];
        int k = 0;
        for (int o = 0; o < outer; o++)
            foreach (long index in indices)
            {
                int start = (o * size + TensorSelection.Index(op, index, size, "index")) * inner;
                for (int i = 0; i < inner; i++) source[k++] = start + i;
            }
        return new[] { TensorSelection.Take(data, op.Output(0)!.Shape!, source) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var data = op.Shape(0);
        int axis = op.Axis(op.Attributes.Int("axis", 0), data.Length);
        int outer = TensorSelection.Product(data, 0, axis), inner = TensorSelection.Product(data, axis + 1, data.Length);
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.Gather.Run<{code.InType(0)}, {code.InType(1)}>({code.In(0)}, " +
                         $"{Literals.Int(outer)}, {Literals.Int(data[axis])}, {Literals.Int(inner)}, {code.In(1)}, {code.Out(0)});");
    }
}
