using System;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// MatMul with a matrix on the right, Y[..., n] = A[..., k] · B[k, n] (the leading dimensions of A are rows of one
/// product). Backward: dA = dY·Bᵀ, dB = Aᵀ·dY over all rows, one fast GEMM each.
/// </summary>
public sealed class MatMulOp : TrainingOp
{
    readonly TrainingTensor _scratch = new();
    int _rows, _k, _n;

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public MatMulOp(NodeProto node) : base(node) { }

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var a = context.Value(Inputs[0]);
        var b = context.Value(Inputs[1]);
        if (a.Shape.Length < 2 || b.Shape.Length != 2)
            throw Error($"training supports A of rank ≥ 2 times a matrix B; got A {a.ShapeText}, B {b.ShapeText}");
        _k = a.Shape[^1];
        _n = b.Shape[1];
        _rows = a.Length / Math.Max(_k, 1);
        if (b.Shape[0] != _k) throw Error($"A {a.ShapeText} and B {b.ShapeText} do not multiply");
        var shape = (int[])a.Shape.Clone();
        shape[^1] = _n;
        var y = context.Output(Outputs[0], shape);
        MatrixMultiply.Multiply(a.Span, _k, false, b.Span, _n, false, y.Span, _n, _rows, _n, _k);
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (context.Gradient(Outputs[0]) is not { } dy) return;
        var a = context.Value(Inputs[0]);
        var b = context.Value(Inputs[1]);
        if (context.RequiresGradient(Inputs[0]))
        {
            Span<float> gradient = context.GradientTarget(Inputs[0], out bool accumulate);
            Span<float> target = accumulate ? _scratch.Resize(new[] { a.Length }).Span : gradient;
            MatrixMultiply.Multiply(dy.Span, _n, false, b.Span, _n, true, target, _k, _rows, _k, _n);
            if (accumulate) VectorMath.Add(gradient, target);
        }
        if (context.RequiresGradient(Inputs[1]))
        {
            Span<float> gradient = context.GradientTarget(Inputs[1], out bool accumulate);
            Span<float> target = accumulate ? _scratch.Resize(new[] { b.Length }).Span : gradient;
            MatrixMultiply.Multiply(a.Span, _k, true, dy.Span, _n, false, target, _n, _k, _n, _rows);
            if (accumulate) VectorMath.Add(gradient, target);
        }
    }
}
