using System;
using AotInfer.Kernels.Linear;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// Gemm: Y = α·op(A)·op(B) + β·C. Backward: d op(A) = α·dY·op(B)ᵀ, d op(B) = α·op(A)ᵀ·dY (each stored transposed when
/// the operand is), dC = β·dY summed over C's broadcast dimensions. Every product is one call of the fast GEMM.
/// </summary>
public sealed class GemmOp : TrainingOp
{
    readonly bool _transA, _transB;
    readonly float _alpha, _beta;
    readonly TrainingTensor _scratch = new();
    int _m, _n, _k;

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public GemmOp(NodeProto node) : base(node)
    {
        _transA = GraphEditor.GetInt(node, "transA", 0) != 0;
        _transB = GraphEditor.GetInt(node, "transB", 0) != 0;
        _alpha = GraphEditor.GetFloat(node, "alpha", 1f);
        _beta = GraphEditor.GetFloat(node, "beta", 1f);
    }

    bool HasBias => Inputs.Count > 2 && Inputs[2].Length > 0;

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var a = context.Value(Inputs[0]);
        var b = context.Value(Inputs[1]);
        if (a.Shape.Length != 2 || b.Shape.Length != 2) throw Error($"A {a.ShapeText} and B {b.ShapeText} must be matrices");
        _m = _transA ? a.Shape[1] : a.Shape[0];
        _k = _transA ? a.Shape[0] : a.Shape[1];
        _n = _transB ? b.Shape[0] : b.Shape[1];
        int kb = _transB ? b.Shape[1] : b.Shape[0];
        if (kb != _k) throw Error($"A {a.ShapeText} and B {b.ShapeText} do not multiply (transA={(_transA ? 1 : 0)}, transB={(_transB ? 1 : 0)})");
        var y = context.Output(Outputs[0], new[] { _m, _n });
        MatrixMultiply.Multiply(a.Span, a.Shape[1], _transA, b.Span, b.Shape[1], _transB, y.Span, _n, _m, _n, _k);
        if (_alpha != 1f) Scale(y.Span, _alpha);
        if (HasBias) AddBias(context.Value(Inputs[2]), y);
    }

    void AddBias(TrainingTensor c, TrainingTensor y)
    {
        if (Broadcasting.Shape(c.Shape, y.Shape) is not { } shape || shape.Length != 2 || shape[0] != _m || shape[1] != _n)
            throw Error($"C {c.ShapeText} does not broadcast to the output [{_m},{_n}]");
        float[] cv = c.Array, yv = y.Array;
        float beta = _beta;
        int n = _n;
        var strides = Broadcasting.Strides(c.Shape, shape);
        int step = strides[1];
        Broadcasting.ForEachRow(shape, strides, strides, (o, ci, _) =>
        {
            for (int j = 0; j < n; j++) yv[o + j] += beta * cv[ci + j * step];
        });
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (context.Gradient(Outputs[0]) is not { } dy) return;
        var a = context.Value(Inputs[0]);
        var b = context.Value(Inputs[1]);
        int m = _m, n = _n, k = _k;
        if (context.RequiresGradient(Inputs[0]))
        {
            // dA = dY·op(B)ᵀ (m×k), or its transpose op(B)·dYᵀ (k×m) when A is stored transposed.
            Span<float> target = Target(context, Inputs[0], a.Length, out bool accumulate);
            if (!_transA) MatrixMultiply.Multiply(dy.Span, n, false, b.Span, b.Shape[1], !_transB, target, k, m, k, n);
            else MatrixMultiply.Multiply(b.Span, b.Shape[1], _transB, dy.Span, n, true, target, m, k, m, n);
            Finish(context, Inputs[0], target, accumulate, _alpha);
        }
        if (context.RequiresGradient(Inputs[1]))
        {
            // dB = op(A)ᵀ·dY (k×n), or dYᵀ·op(A) (n×k) when B is stored transposed (the usual Linear layer).
            Span<float> target = Target(context, Inputs[1], b.Length, out bool accumulate);
            if (!_transB) MatrixMultiply.Multiply(a.Span, a.Shape[1], !_transA, dy.Span, n, false, target, n, k, n, m);
            else MatrixMultiply.Multiply(dy.Span, n, true, a.Span, a.Shape[1], _transA, target, k, n, k, m);
            Finish(context, Inputs[1], target, accumulate, _alpha);
        }
        if (HasBias && context.RequiresGradient(Inputs[2]))
        {
            var c = context.Value(Inputs[2]);
            var shape = new[] { m, n };
            context.AccumulatingGradient(Inputs[2]);
            var dc = context.Gradient(Inputs[2])!;
            if (_beta == 1f) Broadcasting.ReduceInto(dy.Array, shape, dc.Array, Broadcasting.Strides(c.Shape, shape), null, null);
            else
            {
                var scaled = _scratch.Resize(shape);
                dy.Span.CopyTo(scaled.Span);
                Scale(scaled.Span, _beta);
                Broadcasting.ReduceInto(scaled.Array, shape, dc.Array, Broadcasting.Strides(c.Shape, shape), null, null);
            }
        }
    }

    /// <summary>The buffer a GEMM writes a gradient into: the gradient itself when fresh, else scratch to be added.</summary>
    Span<float> Target(TrainingContext context, string name, int length, out bool accumulate)
    {
        Span<float> gradient = context.GradientTarget(name, out accumulate);
        return accumulate ? _scratch.Resize(new[] { length }).Span : gradient;
    }

    void Finish(TrainingContext context, string name, Span<float> computed, bool accumulate, float scale)
    {
        if (scale != 1f) Scale(computed, scale);
        if (accumulate) AotInfer.Kernels.Convolution.VectorMath.Add(context.Gradient(name)!.Span, computed);
    }

    static void Scale(Span<float> values, float scale)
    {
        for (int i = 0; i < values.Length; i++) values[i] *= scale;
    }
}
