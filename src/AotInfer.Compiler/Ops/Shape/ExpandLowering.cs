using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Expand: broadcasts the input against a constant int64 shape in both directions (a 1 in the shape keeps the
/// input's dimension), through the shared <c>Broadcast.Expand</c> kernel. A constant input folds unless the result
/// would be a large block of repeated values, which is cheaper to expand at run time.
/// </summary>
public sealed class ExpandLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Expand" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var dims = IntArguments.Values(op, op.ConstantInput(1, "shape"), "input 1 (shape)");
        if (dims.Any(d => d < 0)) throw op.Fail($"input 1 (shape) has a negative dimension: [{string.Join(",", dims)}]");
        int[] target = ShapeMath.ToIntShape(dims, "Expand shape");
        op.SetOutput(0, op.Type(0), ShapeRules.Broadcast(op.Shape(0), target));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (ConstantData.TooRepetitiveToFold(x.Length, op.Output(0)!)) return null;
        int[] outShape = op.Output(0)!.Shape!;
        return new[] { ConstantData.Take(x, outShape, ConstantData.StridedMap(outShape, 0, BroadcastStrides(x.Shape, outShape))) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) =>
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Expand<{code.InType(0)}>({code.In(0)}, {code.IntArray(op.Shape(0))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)});");

    /// <summary>Strides of <paramref name="shape"/> right-aligned against <paramref name="target"/>, 0 where it repeats.</summary>
    internal static long[] BroadcastStrides(int[] shape, int[] target)
    {
        var strides = new long[target.Length];
        long stride = 1;
        int offset = target.Length - shape.Length;
        for (int d = target.Length - 1; d >= 0; d--)
        {
            int size = d - offset >= 0 ? shape[d - offset] : 1;
            strides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }
        return strides;
    }
}
