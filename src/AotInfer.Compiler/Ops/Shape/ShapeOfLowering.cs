using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Shape (with the <c>start</c>/<c>end</c> attributes of opset 15) and Size. Shapes are static, so both always
/// fold to int64 constants, even when their input is computed at run time.
/// </summary>
public sealed class ShapeOfLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Shape", "Size" };

    /// <inheritdoc/>
    public override bool EvaluatesFromShapes => true;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var result = Compute(op);
        op.SetOutput(0, result.Type, result.Shape);
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op) => new[] { Compute(op) };

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) =>
        throw op.Fail($"{op.Node.OpType} is folded at compile time and never emitted");

    static Tensor Compute(OpContext op)
    {
        int[] shape = op.Shape(0);
        if (op.Node.OpType == "Size")
            return Tensor.FromInt64(new long[] { ShapeMath.ElementCount(shape) });
        int rank = shape.Length;
        if (op.Opset < 15 && (op.Attributes.Has("start") || op.Attributes.Has("end")))
            throw op.Fail("attributes 'start' and 'end' exist from opset 15");
        // Negative bounds count from the end; out-of-range bounds clamp to [0, rank] (not an error).
        int start = Clamp(op.Attributes.Int("start", 0), rank);
        int end = Clamp(op.Attributes.Int("end", rank), rank);
        int length = Math.Max(0, end - start);
        var dims = new long[length];
        for (int i = 0; i < length; i++) dims[i] = shape[start + i];
        return Tensor.FromInt64(dims, length);
    }

    static int Clamp(long bound, int rank)
    {
        if (bound < 0) bound += rank;
        return (int)Math.Max(0, Math.Min(rank, bound));
    }
}
