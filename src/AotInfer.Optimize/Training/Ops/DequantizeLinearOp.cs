using System;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// DequantizeLinear of an activation, per tensor: y = (q − zero point)·scale; dq = dy·scale. It reads the scale and
/// zero point from the context, where the <see cref="QuantizeLinearOp"/> that shares them keeps them up to date
/// during quantisation-aware training.
/// </summary>
public sealed class DequantizeLinearOp : TrainingOp
{
    readonly float _constantZeroPoint;

    /// <summary>Wraps <paramref name="node"/>; the input must come from a node and the scale and zero point must be constant scalars.</summary>
    public DequantizeLinearOp(NodeProto node, OpSetup setup) : base(node)
    {
        if (setup.Constant(node.Input[0]) is not null)
            throw new InvalidOperationException($"{Description}: dequantised constants (int8 weights) cannot be trained; quantise the float model after training instead");
        if (node.Input.Count < 2 || setup.Constant(node.Input[1]) is not { } scale || scale.Length != 1)
            throw new InvalidOperationException($"{Description}: training needs a constant scalar scale (per-tensor quantisation)");
        var zeroPoint = node.Input.Count > 2 && node.Input[2].Length > 0 ? setup.Constant(node.Input[2]) : null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0 && (zeroPoint is null || zeroPoint.Length != 1))
            throw new InvalidOperationException($"{Description}: training needs a constant scalar zero point");
        _constantZeroPoint = zeroPoint is null ? 0 : (float)zeroPoint.ToDouble()[0];
    }

    float ZeroPoint(TrainingContext context) =>
        Inputs.Count > 2 && context.HasValue(Inputs[2]) ? context.Value(Inputs[2]).Span[0] : _constantZeroPoint;

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var q = context.Value(Inputs[0]);
        float scale = context.Value(Inputs[1]).Span[0], zeroPoint = ZeroPoint(context);
        Span<float> input = q.Span, output = context.Output(Outputs[0], q.Shape).Span;
        for (int i = 0; i < input.Length; i++) output[i] = (input[i] - zeroPoint) * scale;
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dy) return;
        float scale = context.Value(Inputs[1]).Span[0];
        Span<float> dyv = dy.Span, dx = context.GradientTarget(Inputs[0], out bool accumulate);
        for (int i = 0; i < dyv.Length; i++) dx[i] = accumulate ? dx[i] + dyv[i] * scale : dyv[i] * scale;
    }
}
