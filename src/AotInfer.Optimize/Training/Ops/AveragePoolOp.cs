using System;
using AotInfer.Kernels.Pooling;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// AveragePool: forward is the inference kernel; backward spreads each output gradient evenly over the taps its
/// average counted (count_include_pad decides whether padding taps count).
/// </summary>
public sealed class AveragePoolOp : TrainingOp
{
    readonly bool _countIncludePad;
    PoolingTable? _table;
    float[] _inverseCounts = Array.Empty<float>();

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public AveragePoolOp(NodeProto node) : base(node) => _countIncludePad = GraphEditor.GetInt(node, "count_include_pad", 0) != 0;

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        if (x.Shape.Length < 3) throw Error($"input {x.ShapeText} needs spatial dimensions");
        int rank = x.Shape.Length - 2;
        var kernel = WindowGeometry.Ints(Node, "kernel_shape", rank, 0);
        var geometry = WindowGeometry.Build(Node, x.Shape[2..], kernel);
        var table = PoolingTable.For(_table, geometry);
        if (!ReferenceEquals(table, _table))
        {
            _table = table;
            CountTaps(table);
        }
        var shape = new int[rank + 2];
        shape[0] = x.Shape[0];
        shape[1] = x.Shape[1];
        WindowGeometry.OutputExtents(geometry).CopyTo(shape, 2);
        Pooling.Average(x.Span, context.Output(Outputs[0], shape).Span, x.Shape[0] * x.Shape[1], geometry, _countIncludePad);
    }

    void CountTaps(PoolingTable table)
    {
        _inverseCounts = new float[table.Positions];
        for (int o = 0; o < table.Positions; o++)
        {
            int count = 0;
            for (int t = o * table.TapsPerWindow; t < (o + 1) * table.TapsPerWindow; t++)
                if (table.Taps[t] >= 0 || (_countIncludePad && table.Taps[t] == PoolingTable.Padding)) count++;
            _inverseCounts[o] = count == 0 ? 0 : 1f / count;
        }
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dy || _table is null) return;
        Span<float> dx = context.AccumulatingGradient(Inputs[0]), g = dy.Span;
        int positions = _table.Positions, taps = _table.TapsPerWindow, inputSize = _table.InputSize, planes = g.Length / positions;
        int[] table = _table.Taps;
        for (int plane = 0; plane < planes; plane++)
            for (int o = 0; o < positions; o++)
            {
                float share = g[plane * positions + o] * _inverseCounts[o];
                for (int t = o * taps; t < (o + 1) * taps; t++)
                    if (table[t] >= 0) dx[plane * inputSize + table[t]] += share;
            }
    }
}
