using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// GatherElements (opsets 11, 13): the output has the indices' shape; each element reads the data at its own
/// coordinates with the <c>axis</c> coordinate replaced by its index (negative counts from the end).
/// </summary>
public sealed class GatherElementsLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "GatherElements" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var data = op.Shape(0);
        var indices = op.Shape(1);
        if (op.Type(1) is not (DataType.Int32 or DataType.Int64)) throw op.Fail($"indices must be int32 or int64, got {op.Type(1)}");
        if (data.Length != indices.Length) throw op.Fail($"indices rank {indices.Length} differs from data rank {data.Length}");
        int axis = op.Axis(op.Attributes.Int("axis", 0), data.Length);
        for (int d = 0; d < data.Length; d++)
            if (d != axis && indices[d] > data[d])
                throw op.Fail($"indices dimension {d} ({indices[d]}) exceeds the data dimension ({data[d]})");
        if (data[axis] == 0 && ShapeMath.ElementCount(indices) > 0) throw op.Fail("cannot gather from an empty axis");
        op.SetOutput(0, op.Type(0), indices);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int axis = op.Axis(op.Attributes.Int("axis", 0), op.Shape(0).Length);
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.GatherElements.Run<{code.InType(0)}, {code.InType(1)}>({code.In(0)}, {code.IntArray(op.Shape(0))}, " +
                         $"{code.In(1)}, {code.IntArray(op.Shape(1))}, {Literals.Int(axis)}, {code.Out(0)});");
    }
}
