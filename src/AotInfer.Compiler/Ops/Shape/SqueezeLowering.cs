using System.Collections.Generic;
using System.Linq;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Squeeze and Unsqueeze: remove or insert dimensions of size 1. The axes are an attribute before opset 13 and a
/// constant int64 input from 13. Squeeze without axes removes every dimension of size 1; Unsqueeze's axes count in
/// the output's rank and may come in any order.
/// </summary>
public sealed class SqueezeLowering : ViewLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Squeeze", "Unsqueeze" };

    /// <inheritdoc/>
    protected override int[] OutputShape(OpContext op)
    {
        int[] input = op.Shape(0);
        long[]? axes = IntArguments.Read(op, "axes", 1, 13);
        return op.Node.OpType == "Squeeze" ? Squeeze(op, input, axes) : Unsqueeze(op, input, axes);
    }

    static int[] Squeeze(OpContext op, int[] input, long[]? axes)
    {
        if (axes is null) return input.Where(d => d != 1).ToArray();
        var remove = IntArguments.Axes(op, axes, input.Length);
        foreach (int a in remove)
            if (input[a] != 1) throw op.Fail($"cannot squeeze axis {a} of size {input[a]} (only size-1 dimensions)");
        return input.Where((_, i) => !remove.Contains(i)).ToArray();
    }

    static int[] Unsqueeze(OpContext op, int[] input, long[]? axes)
    {
        if (axes is null) throw op.Fail(op.Opset < 13 ? "attribute 'axes' is required" : "input 1 (axes) is required");
        int rank = input.Length + axes.Length;
        var insert = new HashSet<int>(IntArguments.Axes(op, axes, rank));
        var shape = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) shape[i] = insert.Contains(i) ? 1 : input[j++];
        return shape;
    }
}
