using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Reduction;

/// <summary>
/// Which axes a reduction folds, read from the <c>axes</c> attribute or input, and the canonical shape the
/// reduction kernels take (size-1 dimensions dropped, neighbouring reduced or kept dimensions merged).
/// </summary>
internal sealed class ReductionAxes
{
    ReductionAxes(int[] inputShape, bool[] reduced, bool keepDims)
    {
        InputShape = inputShape;
        Reduced = reduced;
        KeepDims = keepDims;
    }

    /// <summary>The input's shape.</summary>
    public int[] InputShape { get; }

    /// <summary>Per input dimension, true when it is reduced.</summary>
    public bool[] Reduced { get; }

    /// <summary>True when reduced dimensions stay as size 1.</summary>
    public bool KeepDims { get; }

    /// <summary>The output shape.</summary>
    public int[] OutputShape =>
        InputShape.Select((d, i) => Reduced[i] ? (KeepDims ? 1 : -1) : d).Where(d => d >= 0).ToArray();

    /// <summary>The output shape with reduced dimensions kept as 1 (for broadcasting statistics back).</summary>
    public int[] KeepDimsShape => InputShape.Select((d, i) => Reduced[i] ? 1 : d).ToArray();

    /// <summary>Number of input elements folded into each output element.</summary>
    public int ReducedCount => InputShape.Where((d, i) => Reduced[i]).Aggregate(1, (a, b) => a * b);

    /// <summary>The canonical blocks: sizes and whether each is reduced (never empty).</summary>
    public (int[] Dims, int[] Reduced) Canonical()
    {
        var dims = new List<int>();
        var flags = new List<int>();
        for (int i = 0; i < InputShape.Length; i++)
        {
            if (InputShape[i] == 1) continue;
            int flag = Reduced[i] ? 1 : 0;
            if (flags.Count > 0 && flags[flags.Count - 1] == flag) dims[dims.Count - 1] *= InputShape[i];
            else { dims.Add(InputShape[i]); flags.Add(flag); }
        }
        if (dims.Count == 0) { dims.Add(1); flags.Add(0); }
        return (dims.ToArray(), flags.ToArray());
    }

    /// <summary>
    /// Reads the reduced axes of a Reduce* node: the <c>axes</c> attribute before <paramref name="axesInputSince"/>,
    /// the optional <c>axes</c> input from then on (with <c>noop_with_empty_axes</c>).
    /// </summary>
    public static ReductionAxes ForReduce(OpContext op, int axesInputSince)
    {
        int[] shape = op.Shape(0);
        bool keepDims = op.Attributes.Int("keepdims", 1) != 0;
        long[]? axes;
        bool noopWhenEmpty = false;
        if (op.Opset >= axesInputSince)
        {
            if (op.Attributes.Has("axes")) throw op.Fail($"opset {op.Opset} takes axes as input 1, not as an attribute");
            noopWhenEmpty = op.Attributes.Int("noop_with_empty_axes", 0) != 0;
            axes = op.HasInput(1) ? AxesInput(op, 1) : null;
        }
        else
        {
            if (op.InputCount > 1) throw op.Fail($"opset {op.Opset} takes axes as an attribute; an axes input needs opset {axesInputSince}");
            axes = op.Attributes.Ints("axes");
        }
        var reduced = new bool[shape.Length];
        if (axes is null || axes.Length == 0)
        {
            if (!noopWhenEmpty) for (int i = 0; i < reduced.Length; i++) reduced[i] = true;
        }
        else
        {
            foreach (long axis in axes)
            {
                int a = op.Axis(axis, shape.Length, "axes entry");
                if (reduced[a]) throw op.Fail($"axes lists axis {axis} twice");
                reduced[a] = true;
            }
        }
        return new ReductionAxes(shape, reduced, keepDims);
    }

    /// <summary>One reduced axis (ArgMax, LpNormalization...).</summary>
    public static ReductionAxes Single(int[] shape, int axis, bool keepDims)
    {
        var reduced = new bool[shape.Length];
        reduced[axis] = true;
        return new ReductionAxes(shape, reduced, keepDims);
    }

    /// <summary>Explicit axes (MeanVarianceNormalization).</summary>
    public static ReductionAxes Of(OpContext op, int[] shape, long[] axes, bool keepDims)
    {
        var reduced = new bool[shape.Length];
        foreach (long axis in axes)
        {
            int a = op.Axis(axis, shape.Length, "axes entry");
            if (reduced[a]) throw op.Fail($"axes lists axis {axis} twice");
            reduced[a] = true;
        }
        return new ReductionAxes(shape, reduced, keepDims);
    }

    /// <summary>
    /// An axes input's values. It must be constant, except that an input with no elements is known to be empty
    /// whatever feeds it (the ONNX tests pass "reduce all" as an empty graph input).
    /// </summary>
    public static long[] AxesInput(OpContext op, int index)
    {
        var input = op.Input(index);
        if (input.Type != DataType.Int64) throw op.Fail($"input {index} (axes) must be int64, got {input.Type}");
        if (input.Constant is null && input.Shape is { } s && ShapeMath.ElementCount(s) == 0) return Array.Empty<long>();
        return op.ConstantInput(index, "axes").ToInt64();
    }

    /// <summary>Product of dimensions [from, to).</summary>
    public static int Product(int[] shape, int from, int to)
    {
        int p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p;
    }
}
