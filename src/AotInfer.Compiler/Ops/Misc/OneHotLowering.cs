using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Indexing;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>
/// OneHot (opsets 9, 11): inserts an axis of size depth (a constant input, since it fixes the output shape) holding
/// values[1] at each index and values[0] elsewhere. Indices of any numeric type (floats truncate); negative
/// indices count from the end; out-of-range indices give an all-"off" row.
/// </summary>
public sealed class OneHotLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "OneHot" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var indices = op.Shape(0);
        if (op.Type(0) == DataType.Bool) throw op.Fail("indices must be numeric, got Bool");
        if (op.Input(2).ElementCount != 2) throw op.Fail($"values must hold two elements [off, on], got {op.Input(2).ElementCount}");
        int depth = Depth(op);
        int axis = op.Axis(op.Attributes.Int("axis", -1), indices.Length + 1);
        var shape = indices.Take(axis).Concat(new[] { depth }).Concat(indices.Skip(axis)).ToArray();
        op.SetOutput(0, op.Type(2), shape);
    }

    static int Depth(OpContext op)
    {
        var depth = op.ConstantInput(1, "depth");
        if (depth.Length != 1) throw op.Fail($"depth must hold one element, got {depth.Length}");
        double value = depth.ToDouble()[0];
        if (!(value >= 1) || value > int.MaxValue) throw op.Fail($"depth {value} must be a positive integer");
        return (int)value;
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var indices = op.Input(0).Constant!;
        var values = op.Input(2).Constant!;
        int depth = Depth(op);
        int axis = op.Axis(op.Attributes.Int("axis", -1), indices.Shape.Length + 1);
        int outer = TensorSelection.Product(indices.Shape, 0, axis), inner = TensorSelection.Product(indices.Shape, axis, indices.Shape.Length);
        var positions = indices.ToDouble();
        var source = new int[outer * depth * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long index = (long)System.Math.Truncate(positions[o * inner + i]);
                if (index < 0) index += depth;
                for (int d = 0; d < depth; d++) source[(o * depth + d) * inner + i] = d == index ? 1 : 0;
            }
        return new[] { TensorSelection.Take(values, op.Output(0)!.Shape!, source) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var indices = op.Shape(0);
        int axis = op.Axis(op.Attributes.Int("axis", -1), indices.Length + 1);
        int outer = TensorSelection.Product(indices, 0, axis), inner = TensorSelection.Product(indices, axis, indices.Length);
        code.Writer.Line($"{EmitContext.Kernels}.Misc.OneHot.Run<{code.InType(0)}, {code.InType(2)}>({code.In(0)}, {Literals.Int(outer)}, {Literals.Int(inner)}, " +
                         $"{Literals.Int(Depth(op))}, {code.In(2)}, {code.Out(0)});");
    }
}
