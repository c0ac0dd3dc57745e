using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Indexing;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>Where (opsets 9, 16): condition ? x : y with the three inputs broadcast together; folds when all are constant.</summary>
public sealed class WhereLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Where" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.Type(0) != DataType.Bool) throw op.Fail($"condition must be bool, got {op.Type(0)}");
        if (op.Type(1) != op.Type(2)) throw op.Fail($"x and y have different element types {op.Type(1)} and {op.Type(2)}");
        op.SetOutput(0, op.Type(1), ShapeRules.Broadcast(op.Shape(0), op.Shape(1), op.Shape(2)));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var condition = op.Input(0).Constant!;
        var x = op.Input(1).Constant!;
        var y = op.Input(2).Constant!;
        var shape = op.Output(0)!.Shape!;
        int count = ShapeMath.ElementCount(shape);
        var flags = (bool[])condition.Data;
        var tensor = new int[count];
        var index = new int[count];
        for (int i = 0; i < count; i++)
        {
            bool pickX = flags[ShapeRules.BroadcastIndex(i, shape, condition.Shape)];
            tensor[i] = pickX ? 0 : 1;
            index[i] = ShapeRules.BroadcastIndex(i, shape, pickX ? x.Shape : y.Shape);
        }
        return new[] { TensorSelection.Take(x.Type, shape, new[] { x, y }, tensor, index) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        code.Writer.Line($"{EmitContext.Kernels}.Misc.Where.Run<{code.InType(1)}>({code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, {code.IntArray(op.Shape(1))}, " +
                         $"{code.In(2)}, {code.IntArray(op.Shape(2))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)});");
    }
}
