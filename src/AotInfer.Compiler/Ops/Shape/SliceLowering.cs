using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Slice: opset 1 takes <c>starts</c>/<c>ends</c>/<c>axes</c> attributes; opset 10 moves them to constant inputs and
/// adds <c>steps</c> (negative steps walk backwards). Negative starts and ends count from the end of the axis, then
/// clamp to [0, dim] for positive steps and to [0, dim-1] / [-1, dim-1] for negative ones, exactly as the spec.
/// </summary>
public sealed class SliceLowering : OpLowering
{
    /// <summary>The slice resolved against a concrete input shape: one start and step per input dimension.</summary>
    sealed record Window(int[] Starts, int[] Steps, int[] Shape);

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Slice" };

    /// <inheritdoc/>
    public override void Infer(OpContext op) => op.SetOutput(0, op.Type(0), Resolve(op).Shape);

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        var window = Resolve(op);
        long[] strides = ConstantData.Strides(x.Shape);
        long offset = 0;
        var stepStrides = new long[strides.Length];
        for (int d = 0; d < strides.Length; d++)
        {
            offset += window.Starts[d] * strides[d];
            stepStrides[d] = window.Steps[d] * strides[d];
        }
        return new[] { ConstantData.Take(x, window.Shape, ConstantData.StridedMap(window.Shape, offset, stepStrides)) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var window = Resolve(op);
        if (ShapeMath.ElementCount(window.Shape) == 0) return;
        code.Writer.Line($"{EmitContext.Kernels}.Shape.StridedSlice.Run<{code.InType(0)}>({code.In(0)}, {code.IntArray(op.Shape(0))}, " +
                         $"{code.IntArray(window.Starts)}, {code.IntArray(window.Steps)}, {code.Out(0)}, {code.IntArray(window.Shape)});");
    }

    static Window Resolve(OpContext op)
    {
        int[] input = op.Shape(0);
        int rank = input.Length;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (op.Opset < 10)
        {
            starts = op.Attributes.Ints("starts") ?? throw op.Fail("attribute 'starts' is required");
            ends = op.Attributes.Ints("ends") ?? throw op.Fail("attribute 'ends' is required");
            axes = op.Attributes.Ints("axes");
        }
        else
        {
            starts = IntArguments.Values(op, op.ConstantInput(1, "starts"), "input 1 (starts)");
            ends = IntArguments.Values(op, op.ConstantInput(2, "ends"), "input 2 (ends)");
            axes = op.OptionalConstantInput(3, "axes") is { } a ? IntArguments.Values(op, a, "input 3 (axes)") : null;
            steps = op.OptionalConstantInput(4, "steps") is { } s ? IntArguments.Values(op, s, "input 4 (steps)") : null;
        }
        if (ends.Length != starts.Length) throw op.Fail($"starts has {starts.Length} entries but ends has {ends.Length}");
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (axes.Length != starts.Length || steps.Length != starts.Length)
            throw op.Fail($"starts, ends, axes and steps must have the same length ({starts.Length}, {ends.Length}, {axes.Length}, {steps.Length})");
        if (axes.Any(a => a < 0) && op.Opset < 11) throw op.Fail("negative axes are allowed from opset 11");
        int[] axis = IntArguments.Axes(op, axes, rank);

        var window = new Window(new int[rank], Enumerable.Repeat(1, rank).ToArray(), (int[])input.Clone());
        for (int i = 0; i < axis.Length; i++)
        {
            int d = axis[i];
            long dim = input[d], step = steps[i];
            if (step == 0) throw op.Fail($"step for axis {d} is 0");
            if (step > int.MaxValue || step < -int.MaxValue) throw op.Fail($"step {step} for axis {d} is out of range");
            long start = starts[i] < 0 ? starts[i] + dim : starts[i];
            long end = ends[i] < 0 ? ends[i] + dim : ends[i];
            long count;
            if (step > 0)
            {
                start = Clamp(start, 0, dim);
                end = Clamp(end, 0, dim);
                count = end > start ? (end - start + step - 1) / step : 0;
            }
            else
            {
                start = Clamp(start, 0, dim - 1);
                end = Clamp(end, -1, dim - 1);
                count = start > end ? (start - end + (-step) - 1) / -step : 0;
            }
            // An empty axis keeps start 0 so that the strided view never points outside the input.
            window.Starts[d] = count > 0 ? (int)start : 0;
            window.Steps[d] = (int)step;
            window.Shape[d] = (int)count;
        }
        return window;
    }

    static long Clamp(long v, long lo, long hi) => Math.Max(lo, Math.Min(hi, v));
}
