using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Split along <c>axis</c> into the node's outputs. Part sizes come from <c>split</c> (an attribute before opset 13,
/// a constant input from 13; opset 1 accepts either), else from <c>num_outputs</c> (opset 18: parts of
/// ceil(dim / n), the last one smaller), else equal parts.
/// </summary>
public sealed class SplitLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Split" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        int[] input = op.Shape(0);
        int axis = Axis(op, input.Length);
        int[] sizes = PartSizes(op, input[axis]);
        for (int i = 0; i < sizes.Length; i++)
        {
            var shape = (int[])input.Clone();
            shape[axis] = sizes[i];
            op.SetOutput(i, op.Type(0), shape);
        }
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        int axis = Axis(op, x.Shape.Length);
        long[] strides = ConstantData.Strides(x.Shape);
        var results = new Tensor[op.OutputCount];
        long start = 0;
        for (int i = 0; i < results.Length; i++)
        {
            int[] shape = op.Output(i)!.Shape!;
            results[i] = ConstantData.Take(x, shape, ConstantData.StridedMap(shape, start * strides[axis], strides));
            start += shape[axis];
        }
        return results;
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int[] input = op.Shape(0);
        int axis = Axis(op, input.Length);
        int outer = ConstantData.Product(input, 0, axis);
        int row = ConstantData.Product(input, axis, input.Length);
        int offset = 0;
        for (int i = 0; i < op.OutputCount; i++)
        {
            int[] s = op.Output(i)!.Shape!;
            int chunk = ConstantData.Product(s, axis, s.Length);
            if (chunk > 0 && outer > 0)
                code.Writer.Line($"{EmitContext.Kernels}.Shape.BlockCopy.Copy<{code.InType(0)}>({code.In(0)}.Slice({offset}), {row}, {code.Out(i)}, {chunk}, {outer}, {chunk});");
            offset += chunk;
        }
    }

    static int Axis(OpContext op, int rank)
    {
        long axis = op.Attributes.Int("axis", 0);
        if (axis < 0 && op.Opset < 11) throw op.Fail($"negative axis {axis} is allowed from opset 11");
        return op.Axis(axis, rank);
    }

    static int[] PartSizes(OpContext op, int dim)
    {
        int parts = op.OutputCount;
        long[]? split = op.Opset == 1 && op.HasInput(1)
            ? IntArguments.Values(op, op.ConstantInput(1, "split"), "input 1 (split)")
            : IntArguments.Read(op, "split", 1, 13);
        bool hasNumOutputs = op.Attributes.Has("num_outputs");
        if (hasNumOutputs && op.Opset < 18) throw op.Fail("attribute 'num_outputs' exists from opset 18");
        if (split is not null)
        {
            if (hasNumOutputs) throw op.Fail("give either 'split' or 'num_outputs', not both");
            if (split.Length != parts) throw op.Fail($"'split' has {split.Length} entries for {parts} outputs");
            if (split.Any(s => s < 0)) throw op.Fail($"'split' [{string.Join(",", split)}] has a negative size");
            if (split.Sum() != dim) throw op.Fail($"'split' [{string.Join(",", split)}] does not add up to the axis length {dim}");
            return split.Select(s => (int)s).ToArray();
        }
        if (hasNumOutputs)
        {
            long n = op.Attributes.Int("num_outputs");
            if (n != parts) throw op.Fail($"'num_outputs' is {n} but the node has {parts} outputs");
        }
        else if (op.Opset >= 18) throw op.Fail("from opset 18 one of 'split' and 'num_outputs' is required");
        if (parts < 1) throw op.Fail("needs at least one output");
        if (!hasNumOutputs && dim % parts != 0)
            throw op.Fail($"an axis of length {dim} does not split into {parts} equal parts; give 'split'");
        // Parts of ceil(dim / n); the last takes what remains.
        int chunk = (dim + parts - 1) / parts;
        var sizes = new int[parts];
        for (int i = 0; i < parts; i++) sizes[i] = Math.Max(0, Math.Min(chunk, dim - i * chunk));
        if (sizes[parts - 1] == 0 && dim > 0) throw op.Fail($"an axis of length {dim} cannot split into {parts} non-empty parts of {chunk}");
        return sizes;
    }
}
