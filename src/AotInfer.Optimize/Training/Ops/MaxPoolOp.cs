using System;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// MaxPool: forward records which input each window's maximum came from; backward sends each output gradient to
/// that input (ties go to the first tap, as PyTorch does).
/// </summary>
public sealed class MaxPoolOp : TrainingOp
{
    PoolingTable? _table;
    int[] _argmax = Array.Empty<int>();

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public MaxPoolOp(NodeProto node) : base(node)
    {
        if (node.Output.Count > 1 && node.Output[1].Length > 0) throw new InvalidOperationException($"{Description}: the Indices output is not supported in training");
    }

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        if (x.Shape.Length < 3) throw Error($"input {x.ShapeText} needs spatial dimensions");
        int rank = x.Shape.Length - 2;
        var kernel = WindowGeometry.Ints(Node, "kernel_shape", rank, 0);
        _table = PoolingTable.For(_table, WindowGeometry.Build(Node, x.Shape[2..], kernel));
        int planes = x.Shape[0] * x.Shape[1], positions = _table.Positions, taps = _table.TapsPerWindow, inputSize = _table.InputSize;
        var shape = new int[rank + 2];
        shape[0] = x.Shape[0];
        shape[1] = x.Shape[1];
        WindowGeometry.OutputExtents(_table.Geometry).CopyTo(shape, 2);
        Span<float> input = x.Span, output = context.Output(Outputs[0], shape).Span;
        if (_argmax.Length < output.Length) _argmax = new int[output.Length];
        int[] table = _table.Taps;
        for (int plane = 0; plane < planes; plane++)
        {
            int inputBase = plane * inputSize;
            for (int o = 0; o < positions; o++)
            {
                float best = float.NegativeInfinity;
                int bestIndex = -1;
                for (int t = o * taps; t < (o + 1) * taps; t++)
                {
                    int offset = table[t];
                    if (offset >= 0 && (bestIndex < 0 || input[inputBase + offset] > best)) { best = input[inputBase + offset]; bestIndex = inputBase + offset; }
                }
                output[plane * positions + o] = best;
                _argmax[plane * positions + o] = bestIndex;
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dy) return;
        Span<float> dx = context.AccumulatingGradient(Inputs[0]), g = dy.Span;
        for (int o = 0; o < g.Length; o++)
            if (_argmax[o] >= 0) dx[_argmax[o]] += g[o];
    }
}
