using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Concat along <c>axis</c> (required from opset 4, 1 before; negative from opset 11). Every input is copied as
/// blocks: for each index over the leading dimensions, its contiguous run lands at its offset in the output row.
/// Inputs the arena planner placed inside the output (<see cref="Planning.ConcatInPlace"/>) are already there.
/// </summary>
public sealed class ConcatLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Concat" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.InputCount == 0) throw op.Fail("needs at least one input");
        var first = op.Input(0);
        int rank = first.Shape!.Length;
        int axis = Axis(op, rank);
        var shape = (int[])first.Shape.Clone();
        long total = 0;
        for (int i = 0; i < op.InputCount; i++)
        {
            var input = op.Input(i);
            if (input.Type != first.Type) throw op.Fail($"input {i} is {input.Type} but input 0 is {first.Type}");
            var s = input.Shape!;
            if (s.Length != rank) throw op.Fail($"input {i} has rank {s.Length} but input 0 has rank {rank}");
            for (int d = 0; d < rank; d++)
                if (d != axis && s[d] != shape[d])
                    throw op.Fail($"input {i} shape {Literals.Shape(s)} does not match input 0 shape {Literals.Shape(first.Shape)} outside axis {axis}");
            total += s[axis];
        }
        if (total > ShapeMath.MaxElements) throw op.Fail("the concatenated axis is too long");
        shape[axis] = (int)total;
        op.SetOutput(0, first.Type, shape);
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var parts = Enumerable.Range(0, op.InputCount).Select(i => op.Input(i).Constant!).ToArray();
        var output = op.Output(0)!;
        return new[] { ConstantData.Concat(parts, Axis(op, output.Shape!.Length), output.Shape!) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int[] outShape = op.Output(0)!.Shape!;
        int axis = Axis(op, outShape.Length);
        int outer = ConstantData.Product(outShape, 0, axis);
        int row = ConstantData.Product(outShape, axis, outShape.Length);
        int offset = 0;
        for (int i = 0; i < op.InputCount; i++)
        {
            int[] s = op.Shape(i);
            int chunk = ConstantData.Product(s, axis, s.Length);
            if (code.InputWrittenInPlace(i))
                code.Writer.Line($"// input {i} was written in place by its producer");
            else if (chunk > 0 && outer > 0)
                code.Writer.Line($"{EmitContext.Kernels}.Shape.BlockCopy.Copy<{code.InType(i)}>({code.In(i)}, {chunk}, {code.Out(0)}.Slice({offset}), {row}, {outer}, {chunk});");
            offset += chunk;
        }
    }

    static int Axis(OpContext op, int rank)
    {
        if (op.Opset >= 4 && !op.Attributes.Has("axis")) throw op.Fail("attribute 'axis' is required from opset 4");
        long axis = op.Attributes.Int("axis", 1);
        if (axis < 0 && op.Opset < 11) throw op.Fail($"negative axis {axis} is allowed from opset 11");
        return op.Axis(axis, rank);
    }
}
