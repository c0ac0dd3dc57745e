using System;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// Conv (any rank, groups including depthwise) as im2col + GEMM over the whole batch: per group the column matrix
/// is [C/g·K, N·P] (every sample's window positions side by side), so forward is one product W_g·cols, and backward
/// is dW_g = dYᵀ_g·colsᵀ, dcols = W_gᵀ·dYᵀ_g followed by col2im (<see cref="ColumnBuffer.ScatterAdd"/>) into dX.
/// The columns of the forward pass are kept for the weight gradient.
/// </summary>
public sealed class ConvOp : TrainingOp
{
    readonly long _groups;
    readonly TrainingTensor _columns = new();   // [groups][depth × N·P]
    readonly TrainingTensor _sample = new();    // one sample's [depth × P] columns
    readonly TrainingTensor _transposed = new(); // Y or dY as [M × N·P]
    readonly TrainingTensor _scratch = new();
    int[] _geometry = Array.Empty<int>();
    int _batch, _inChannels, _outChannels, _depth, _positions;

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public ConvOp(NodeProto node) : base(node) => _groups = GraphEditor.GetInt(node, "group", 1);

    bool HasBias => Inputs.Count > 2 && Inputs[2].Length > 0;

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        var w = context.Value(Inputs[1]);
        int rank = x.Shape.Length - 2;
        if (rank < 1 || w.Shape.Length != rank + 2) throw Error($"input {x.ShapeText} and weight {w.ShapeText} do not make a convolution");
        _batch = x.Shape[0];
        _inChannels = x.Shape[1];
        _outChannels = w.Shape[0];
        int groups = (int)_groups;
        if (groups < 1 || _inChannels % groups != 0 || _outChannels % groups != 0 || w.Shape[1] != _inChannels / groups)
            throw Error($"input {x.ShapeText}, weight {w.ShapeText} and group={_groups} do not match");
        _geometry = WindowGeometry.Build(Node, x.Shape[2..], w.Shape[2..]);
        var window = new Window(_geometry);
        int groupIn = _inChannels / groups, groupOut = _outChannels / groups;
        _depth = groupIn * window.KernelSize;
        _positions = window.OutputSize;
        int wide = _batch * _positions, inputSize = window.InputSize;
        var columns = _columns.Resize(new[] { groups, _depth, wide });
        var sample = _sample.Resize(new[] { _depth, _positions });
        for (int n = 0; n < _batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                ColumnBuffer.Gather<float>(x.Span.Slice((n * _inChannels + g * groupIn) * inputSize, groupIn * inputSize), groupIn, window, sample.Span);
                Span<float> groupColumns = columns.Span.Slice(g * _depth * wide, _depth * wide);
                for (int r = 0; r < _depth; r++)
                    sample.Span.Slice(r * _positions, _positions).CopyTo(groupColumns.Slice(r * wide + n * _positions, _positions));
            }
        }
        var product = _transposed.Resize(new[] { _outChannels, wide });
        for (int g = 0; g < groups; g++)
            MatrixMultiply.Multiply(w.Span.Slice(g * groupOut * _depth, groupOut * _depth), _depth, columns.Span.Slice(g * _depth * wide, _depth * wide), wide,
                product.Span.Slice(g * groupOut * wide, groupOut * wide), wide, groupOut, wide, _depth);
        var outputShape = new int[rank + 2];
        outputShape[0] = _batch;
        outputShape[1] = _outChannels;
        WindowGeometry.OutputExtents(_geometry).CopyTo(outputShape, 2);
        var y = context.Output(Outputs[0], outputShape).Span;
        ReadOnlySpan<float> bias = HasBias ? context.Value(Inputs[2]).Span : ReadOnlySpan<float>.Empty;
        for (int n = 0; n < _batch; n++)
        {
            for (int m = 0; m < _outChannels; m++)
            {
                Span<float> row = y.Slice((n * _outChannels + m) * _positions, _positions);
                product.Span.Slice(m * wide + n * _positions, _positions).CopyTo(row);
                if (!bias.IsEmpty) VectorMath.AddScalar(row, bias[m]);
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (context.Gradient(Outputs[0]) is not { } dy) return;
        var w = context.Value(Inputs[1]);
        int groups = (int)_groups, groupIn = _inChannels / groups, groupOut = _outChannels / groups, wide = _batch * _positions;
        // dY as [M × N·P], the layout the column matrix has.
        var dyT = _transposed.Resize(new[] { _outChannels, wide }).Span;
        for (int n = 0; n < _batch; n++)
            for (int m = 0; m < _outChannels; m++)
                dy.Span.Slice((n * _outChannels + m) * _positions, _positions).CopyTo(dyT.Slice(m * wide + n * _positions, _positions));
        if (HasBias && context.RequiresGradient(Inputs[2]))
        {
            Span<float> db = context.AccumulatingGradient(Inputs[2]);
            for (int m = 0; m < _outChannels; m++)
            {
                float sum = 0;
                foreach (float v in dyT.Slice(m * wide, wide)) sum += v;
                db[m] += sum;
            }
        }
        if (context.RequiresGradient(Inputs[1]))
        {
            Span<float> gradient = context.GradientTarget(Inputs[1], out bool accumulate);
            Span<float> dw = accumulate ? _scratch.Resize(new[] { w.Length }).Span : gradient;
            for (int g = 0; g < groups; g++)
                MatrixMultiply.Multiply(dyT.Slice(g * groupOut * wide, groupOut * wide), wide, false, _columns.Span.Slice(g * _depth * wide, _depth * wide), wide, true,
                    dw.Slice(g * groupOut * _depth, groupOut * _depth), _depth, groupOut, _depth, wide);
            if (accumulate) VectorMath.Add(gradient, dw);
        }
        if (context.RequiresGradient(Inputs[0]))
        {
            var window = new Window(_geometry);
            int inputSize = window.InputSize;
            Span<float> dx = context.AccumulatingGradient(Inputs[0]);
            var dcolumns = _scratch.Resize(new[] { _depth, wide }).Span;
            var sample = _sample.Resize(new[] { _depth, _positions }).Span;
            for (int g = 0; g < groups; g++)
            {
                MatrixMultiply.Multiply(w.Span.Slice(g * groupOut * _depth, groupOut * _depth), _depth, true, dyT.Slice(g * groupOut * wide, groupOut * wide), wide, false,
                    dcolumns, wide, _depth, wide, groupOut);
                for (int n = 0; n < _batch; n++)
                {
                    for (int r = 0; r < _depth; r++) dcolumns.Slice(r * wide + n * _positions, _positions).CopyTo(sample.Slice(r * _positions, _positions));
                    ColumnBuffer.ScatterAdd(sample, groupIn, window, dx.Slice((n * _inChannels + g * groupIn) * inputSize, groupIn * inputSize));
                }
            }
        }
    }
}
