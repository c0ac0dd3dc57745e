using System;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>Concat along an axis; backward hands each input its slice of the output gradient.</summary>
public sealed class ConcatOp : TrainingOp
{
    readonly long _axis;
    int _outer, _outputRow;
    int[] _rows = Array.Empty<int>();

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public ConcatOp(NodeProto node) : base(node) => _axis = GraphEditor.GetInt(node, "axis", 0);

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var first = context.Value(Inputs[0]);
        int rank = first.Shape.Length, axis = (int)(_axis < 0 ? _axis + rank : _axis);
        if (axis < 0 || axis >= rank) throw Error($"axis {_axis} is out of range for rank {rank}");
        var shape = (int[])first.Shape.Clone();
        shape[axis] = 0;
        _rows = new int[Inputs.Count];
        _outer = 1;
        for (int d = 0; d < axis; d++) _outer *= shape[d];
        int inner = 1;
        for (int d = axis + 1; d < rank; d++) inner *= shape[d];
        for (int i = 0; i < Inputs.Count; i++)
        {
            var x = context.Value(Inputs[i]);
            for (int d = 0; d < rank; d++)
                if (x.Shape.Length != rank || (d != axis && x.Shape[d] != first.Shape[d])) throw Error($"input {x.ShapeText} does not fit {first.ShapeText} along axis {axis}");
            shape[axis] += x.Shape[axis];
            _rows[i] = x.Shape[axis] * inner;
        }
        _outputRow = shape[axis] * inner;
        Span<float> y = context.Output(Outputs[0], shape).Span;
        for (int i = 0, at = 0; i < Inputs.Count; at += _rows[i], i++)
        {
            Span<float> x = context.Value(Inputs[i]).Span;
            for (int o = 0; o < _outer; o++) x.Slice(o * _rows[i], _rows[i]).CopyTo(y.Slice(o * _outputRow + at, _rows[i]));
        }
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (context.Gradient(Outputs[0]) is not { } dy) return;
        for (int i = 0, at = 0; i < Inputs.Count; at += _rows[i], i++)
        {
            if (!context.RequiresGradient(Inputs[i])) continue;
            Span<float> dx = context.GradientTarget(Inputs[i], out bool accumulate);
            for (int o = 0; o < _outer; o++)
            {
                Span<float> source = dy.Span.Slice(o * _outputRow + at, _rows[i]), target = dx.Slice(o * _rows[i], _rows[i]);
                if (accumulate) AotInfer.Kernels.Convolution.VectorMath.Add(target, source);
                else source.CopyTo(target);
            }
        }
    }
}
