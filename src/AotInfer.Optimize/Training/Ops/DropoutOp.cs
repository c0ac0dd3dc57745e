using System;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// Dropout: in training mode each element is kept with probability 1 − ratio and scaled by 1/(1 − ratio) (inverted
/// dropout, so evaluation is the identity); backward applies the same mask. The mask comes from the context's seeded
/// random numbers, so a run is reproducible.
/// </summary>
public sealed class DropoutOp : TrainingOp
{
    readonly float _ratio;
    float[] _mask = Array.Empty<float>();
    bool _masked;

    /// <summary>Wraps <paramref name="node"/>; the ratio is the attribute (before opset 12) or the constant second input.</summary>
    public DropoutOp(NodeProto node, OpSetup setup) : base(node)
    {
        if (node.Output.Count > 1 && node.Output[1].Length > 0 && setup.Graph.Consumers(node.Output[1]).Count > 0)
            throw new InvalidOperationException($"{Description}: the mask output is read by other nodes, which training does not support");
        if (setup.Opset < 12) _ratio = GraphEditor.GetFloat(node, "ratio", 0.5f);
        else if (node.Input.Count > 1 && node.Input[1].Length > 0)
        {
            var ratio = setup.ConstantFloats(node.Input[1]);
            if (ratio is null || ratio.Length != 1) throw new InvalidOperationException($"{Description}: the ratio must be a constant scalar to train");
            _ratio = (float)ratio[0];
        }
        else _ratio = 0.5f;
        if (_ratio < 0 || _ratio >= 1) throw new InvalidOperationException($"{Description}: ratio {_ratio} must be in [0, 1)");
    }

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        Span<float> input = x.Span, output = context.Output(Outputs[0], x.Shape).Span;
        _masked = context.Training && _ratio > 0;
        if (!_masked)
        {
            input.CopyTo(output);
            return;
        }
        if (_mask.Length < input.Length) _mask = new float[input.Length];
        float keep = 1 - _ratio, scale = 1 / keep;
        for (int i = 0; i < input.Length; i++)
        {
            _mask[i] = context.Random.NextSingle() < keep ? scale : 0f;
            output[i] = input[i] * _mask[i];
        }
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dyTensor) return;
        Span<float> dy = dyTensor.Span, dx = context.GradientTarget(Inputs[0], out bool accumulate);
        for (int i = 0; i < dy.Length; i++)
        {
            float g = _masked ? dy[i] * _mask[i] : dy[i];
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }
}
