using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>ReverseSequence: reverses the first <c>sequence_lens[b]</c> steps along the time axis of every batch entry.</summary>
public sealed class ReverseSequenceLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "ReverseSequence" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var shape = op.Shape(0);
        if (shape.Length < 2) throw op.Fail($"input 0 must have rank at least 2, got {shape.Length}");
        var (batchAxis, timeAxis) = Axes(op);
        if (op.Type(1) != DataType.Int64) throw op.Fail($"input 1 (sequence_lens) must be int64, got {op.Type(1)}");
        if (!op.Shape(1).SequenceEqual(new[] { shape[batchAxis] }))
            throw op.Fail($"input 1 (sequence_lens) has shape {Literals.Shape(op.Shape(1))}, expected [{shape[batchAxis]}]");
        _ = timeAxis;
        op.SetOutput(0, op.Type(0), shape);
    }

    static (int Batch, int Time) Axes(OpContext op)
    {
        long batch = op.Attributes.Int("batch_axis", 1), time = op.Attributes.Int("time_axis", 0);
        if (!((batch == 0 && time == 1) || (batch == 1 && time == 0)))
            throw op.Fail($"batch_axis {batch} and time_axis {time} must be 0 and 1 in some order");
        return ((int)batch, (int)time);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var shape = op.Shape(0);
        var (batchAxis, _) = Axes(op);
        int inner = ShapeMath.ElementCount(shape.Skip(2).ToArray());
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.SelectionKernels.ReverseSequence<{code.InType(0)}>({code.In(0)}, {code.In(1)}, {code.Out(0)}, " +
                         $"{shape[batchAxis]}, {shape[1 - batchAxis]}, {inner}, {(batchAxis == 0 ? "true" : "false")});");
    }
}
