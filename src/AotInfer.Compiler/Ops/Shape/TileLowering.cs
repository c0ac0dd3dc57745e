using System.Collections.Generic;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Tile: repeats the input <c>repeats[d]</c> times along each axis (a constant int64 input). Tiling [a, b] by
/// [r, s] is broadcasting the view [1, a, 1, b] to [r, a, s, b], whose row-major order is the tiled [r·a, s·b], so
/// it runs on the broadcast kernel; axes repeated once need no extra dimension. Like Expand, a constant input folds
/// unless the result is large.
/// </summary>
public sealed class TileLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Tile" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        int[] input = op.Shape(0);
        long[] repeats = Repeats(op, input.Length);
        var shape = new long[input.Length];
        for (int d = 0; d < input.Length; d++) shape[d] = input[d] * repeats[d];
        op.SetOutput(0, op.Type(0), ShapeMath.ToIntShape(shape, "Tile output"));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (ConstantData.TooRepetitiveToFold(x.Length, op.Output(0)!)) return null;
        var (viewShape, tiledShape) = BroadcastForm(x.Shape, Repeats(op, x.Shape.Length));
        var map = ConstantData.StridedMap(tiledShape, 0, ExpandLowering.BroadcastStrides(viewShape, tiledShape));
        return new[] { ConstantData.Take(x, op.Output(0)!.Shape!, map) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (viewShape, tiledShape) = BroadcastForm(op.Shape(0), Repeats(op, op.Shape(0).Length));
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Expand<{code.InType(0)}>({code.In(0)}, {code.IntArray(viewShape)}, {code.Out(0)}, {code.IntArray(tiledShape)});");
    }

    static long[] Repeats(OpContext op, int rank)
    {
        var repeats = IntArguments.Values(op, op.ConstantInput(1, "repeats"), "input 1 (repeats)");
        if (repeats.Length != rank) throw op.Fail($"input 1 (repeats) has {repeats.Length} entries for an input of rank {rank}");
        foreach (long r in repeats) if (r < 0) throw op.Fail($"input 1 (repeats) has a negative count {r}");
        return repeats;
    }

    /// <summary>The input view and the broadcast target whose row-major order is the tiled output.</summary>
    static (int[] View, int[] Target) BroadcastForm(int[] input, long[] repeats)
    {
        var view = new List<int>();
        var target = new List<int>();
        for (int d = 0; d < input.Length; d++)
        {
            if (repeats[d] != 1 && input[d] != 1)
            {
                view.Add(1);
                target.Add((int)repeats[d]);
            }
            view.Add(input[d]);
            // A size-1 axis is simply broadcast to the repeat count.
            target.Add(input[d] == 1 ? (int)repeats[d] : input[d]);
        }
        return (view.ToArray(), target.ToArray());
    }
}
