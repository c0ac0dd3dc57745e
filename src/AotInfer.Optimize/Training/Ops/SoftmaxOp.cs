using System;
using AotInfer.Kernels.Normalization;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// Softmax and LogSoftmax (forward by the inference kernel). Backward along the axis: Softmax
/// dx = y·(dy − Σ dy·y); LogSoftmax dx = dy − e^y·Σ dy. Before opset 13 the axis splits the tensor into a 2-D
/// [before, after] view; from 13 it is a single axis (default -1).
/// </summary>
public sealed class SoftmaxOp : TrainingOp
{
    readonly long _axis;
    readonly bool _coerce2D, _logarithm;
    readonly TrainingTensor _scratch = new();
    int _outer, _count, _inner;

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public SoftmaxOp(NodeProto node, long opset, bool logarithm) : base(node)
    {
        _coerce2D = opset < 13;
        _axis = GraphEditor.GetInt(node, "axis", _coerce2D ? 1 : -1);
        _logarithm = logarithm;
    }

    /// <summary>True for LogSoftmax.</summary>
    public bool Logarithm => _logarithm;

    /// <summary>The axis counted from the start for a tensor of <paramref name="rank"/>.</summary>
    public int Axis(int rank) => (int)(_axis < 0 ? _axis + rank : _axis);

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        int rank = x.Shape.Length, axis = Axis(rank);
        if (axis < 0 || axis >= rank) throw Error($"axis {_axis} is out of range for {x.ShapeText}");
        _outer = 1; _count = 1; _inner = 1;
        for (int d = 0; d < rank; d++)
        {
            if (d < axis) _outer *= x.Shape[d];
            else if (d == axis || _coerce2D) _count *= x.Shape[d];
            else _inner *= x.Shape[d];
        }
        var scratch = _scratch.Resize(new[] { 2 * _inner });
        Softmax.Run<float>(x.Span, context.Output(Outputs[0], x.Shape).Span, _outer, _count, _inner, _logarithm, scratch.Span);
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dyTensor) return;
        Span<float> y = context.Value(Outputs[0]).Span, dy = dyTensor.Span;
        Span<float> dx = context.GradientTarget(Inputs[0], out bool accumulate);
        int block = _count * _inner;
        for (int o = 0; o < _outer; o++)
        {
            for (int i = 0; i < _inner; i++)
            {
                int start = o * block + i;
                float sum = 0;
                for (int k = 0; k < _count; k++)
                {
                    int at = start + k * _inner;
                    sum += _logarithm ? dy[at] : dy[at] * y[at];
                }
                for (int k = 0; k < _count; k++)
                {
                    int at = start + k * _inner;
                    float g = _logarithm ? dy[at] - MathF.Exp(y[at]) * sum : y[at] * (dy[at] - sum);
                    dx[at] = accumulate ? dx[at] + g : g;
                }
            }
        }
    }
}
