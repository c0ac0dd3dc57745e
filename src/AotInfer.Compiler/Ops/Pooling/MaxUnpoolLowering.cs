using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Convolution;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Pooling;

/// <summary>
/// MaxUnpool (opsets 9, 11, 22): scatters X to the int64 indices I in a zeroed output. The output shape is the
/// optional output_shape input (must be constant) or, without it, the inferred (in − 1)·stride + kernel − pads per
/// spatial dimension from the kernel_shape, strides and pads attributes. As in the ONNX reference, indices always
/// address the inferred shape, whose tensor then sits at the origin of a larger output_shape.
/// </summary>
public sealed class MaxUnpoolLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "MaxUnpool" };

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) => inputIndex < 2;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!DataTypes.IsSupportedAtRunTime(type) || type == DataType.Bool) throw op.Fail($"element type {type} is not supported");
        var x = op.Shape(0);
        if (x.Length < 3) throw op.Fail($"input 0 (X) must have rank 3 or more [N, C, spatial...], not {Literals.Shape(x)}");
        if (op.Type(1) != DataType.Int64 || !op.Shape(1).SequenceEqual(x))
            throw op.Fail($"input 1 (I) must be int64 with X's shape {Literals.Shape(x)}");
        int rank = x.Length - 2;
        int[] kernel = WindowGeometry.KernelShape(op, rank, null);
        long[] strides = op.Attributes.Ints("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
        long[] pads = op.Attributes.Ints("pads") ?? new long[2 * rank];
        if (strides.Length != rank || pads.Length != 2 * rank || strides.Any(s => s <= 0))
            throw op.Fail($"attributes 'strides' ({strides.Length}, positive) and 'pads' ({pads.Length}) must have {rank} and {2 * rank} entries");
        var inferred = InferredShape(op, x, kernel, strides, pads);
        int[] shape = inferred;
        if (op.HasInput(2))
        {
            shape = op.ConstantInput(2, "output_shape").ToInt64().Select(v => checked((int)v)).ToArray();
            if (shape.Length != x.Length || shape.Zip(inferred, (s, i) => s < i).Any(smaller => smaller))
                throw op.Fail($"output_shape {Literals.Shape(shape)} must have X's rank and be at least the inferred shape {Literals.Shape(inferred)} in every dimension");
        }
        op.SetOutput(0, type, shape);
    }

    static int[] InferredShape(OpContext op, int[] x, int[] kernel, long[] strides, long[] pads)
    {
        int rank = x.Length - 2;
        var shape = new int[x.Length];
        shape[0] = x[0];
        shape[1] = x[1];
        for (int d = 0; d < rank; d++)
            shape[d + 2] = checked((int)((x[d + 2] - 1) * strides[d] + kernel[d] - pads[d] - pads[rank + d]));
        if (shape.Any(v => v <= 0)) throw op.Fail($"inferred output shape {Literals.Shape(shape)} is not positive");
        return shape;
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var x = op.Shape(0);
        int rank = x.Length - 2;
        var inferred = InferredShape(op, x, WindowGeometry.KernelShape(op, rank, null),
            op.Attributes.Ints("strides") ?? Enumerable.Repeat(1L, rank).ToArray(), op.Attributes.Ints("pads") ?? new long[2 * rank]);
        code.Writer.Line($"{EmitContext.Kernels}.Pooling.MaxUnpool.Run<{code.InType(0)}>({code.In(0)}, {code.In(1)}, {code.Out(0)}, " +
                         $"{code.IntArray(inferred)}, {code.IntArray(op.Output(0)!.Shape!)});");
    }
}
