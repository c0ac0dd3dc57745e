using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Signal;

/// <summary>
/// DFT (opset 17: axis attribute, default 1; opset 20: axis input, default -2), with optional dft_length, inverse and
/// onesided. Input [..., 1] (real) or [..., 2] (complex); output [..., 2].
/// </summary>
public sealed class DftLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "DFT" };

    sealed record Plan(int Outer, int InputLength, int Inner, int Components, int DftLength, int OutputLength, int Axis);

    static Plan MakePlan(OpContext op)
    {
        int[] shape = op.Shape(0);
        int rank = shape.Length;
        if (rank < 2) throw op.Fail($"input rank {rank} is too small: the last axis holds the real/imaginary components");
        int components = shape[rank - 1];
        if (components is not (1 or 2)) throw op.Fail($"the last axis must have 1 (real) or 2 (complex) components, got {components}");
        long axis = op.Opset >= 20
            ? (op.OptionalConstantInput(2, "axis")?.ToInt64()[0] ?? -2)
            : op.Attributes.Int("axis", 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank - 1) throw op.Fail($"axis {axis} must name a signal axis (not the last, component axis)");
        int a = (int)axis;
        int length = shape[a];
        int dftLength = length;
        if (op.OptionalConstantInput(1, "dft_length") is { } given)
        {
            long value = given.ToInt64()[0];
            if (value < 1 || value > 1 << 24) throw op.Fail($"dft_length {value} is out of range");
            dftLength = (int)value;
        }
        bool onesided = op.Attributes.Int("onesided", 0) != 0;
        if (onesided && op.Attributes.Int("inverse", 0) != 0) throw op.Fail("onesided inverse transforms are not supported");
        int outputLength = onesided ? dftLength / 2 + 1 : dftLength;
        int outer = shape.Take(a).Aggregate(1, (p, d) => p * d);
        int inner = shape.Skip(a + 1).Take(rank - a - 2).Aggregate(1, (p, d) => p * d);
        return new Plan(outer, length, inner, components, dftLength, outputLength, a);
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.Type(0) != DataType.Float) throw op.Fail($"only float input is supported, got {op.Type(0)}");
        var plan = MakePlan(op);
        var shape = (int[])op.Shape(0).Clone();
        shape[plan.Axis] = plan.OutputLength;
        shape[shape.Length - 1] = 2;
        op.SetOutput(0, DataType.Float, shape);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var p = MakePlan(op);
        bool inverse = op.Attributes.Int("inverse", 0) != 0;
        code.Writer.Line($"{EmitContext.Kernels}.Signal.FourierTransform.Transform({code.In(0)}, {code.Out(0)}, {p.Outer}, {p.InputLength}, {p.Inner}, {p.Components}, " +
                         $"{p.DftLength}, {p.OutputLength}, {(inverse ? "true" : "false")});");
    }
}
