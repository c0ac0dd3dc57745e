using System;
using AotInfer.Kernels.Pooling;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>GlobalAveragePool: y[n,c] = mean of the plane; backward gives every input of the plane dy/size.</summary>
public sealed class GlobalAveragePoolOp : TrainingOp
{
    /// <summary>Wraps <paramref name="node"/>.</summary>
    public GlobalAveragePoolOp(NodeProto node) : base(node) { }

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        if (x.Shape.Length < 3) throw Error($"input {x.ShapeText} needs spatial dimensions");
        var shape = new int[x.Shape.Length];
        Array.Fill(shape, 1);
        shape[0] = x.Shape[0];
        shape[1] = x.Shape[1];
        int planes = shape[0] * shape[1];
        Pooling.GlobalAverage(x.Span, context.Output(Outputs[0], shape).Span, planes, x.Length / Math.Max(planes, 1));
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dy) return;
        var x = context.Value(Inputs[0]);
        Span<float> dx = context.GradientTarget(Inputs[0], out bool accumulate), g = dy.Span;
        int planes = g.Length, size = x.Length / Math.Max(planes, 1);
        for (int p = 0; p < planes; p++)
        {
            float share = g[p] / size;
            for (int i = p * size; i < (p + 1) * size; i++) dx[i] = accumulate ? dx[i] + share : share;
        }
    }
}
