using System;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// Add and Mul with NumPy broadcasting. Backward: dA = reduce(dY) for Add and reduce(dY·B) for Mul, summed over
/// the dimensions along which A was broadcast (and likewise for B).
/// </summary>
public sealed class BroadcastBinaryOp : TrainingOp
{
    readonly bool _multiply;
    int[] _shape = Array.Empty<int>();

    /// <summary>Wraps <paramref name="node"/>: Mul when <paramref name="multiply"/>, else Add.</summary>
    public BroadcastBinaryOp(NodeProto node, bool multiply) : base(node) => _multiply = multiply;

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var a = context.Value(Inputs[0]);
        var b = context.Value(Inputs[1]);
        _shape = Broadcasting.Shape(a.Shape, b.Shape) ?? throw Error($"{a.ShapeText} and {b.ShapeText} do not broadcast");
        var y = context.Output(Outputs[0], _shape);
        float[] av = a.Array, bv = b.Array, yv = y.Array;
        int[] sa = Broadcasting.Strides(a.Shape, _shape), sb = Broadcasting.Strides(b.Shape, _shape);
        int length = _shape.Length == 0 ? 1 : _shape[^1];
        int stepA = _shape.Length == 0 ? 0 : sa[^1], stepB = _shape.Length == 0 ? 0 : sb[^1];
        bool multiply = _multiply;
        Broadcasting.ForEachRow(_shape, sa, sb, (o, ia, ib) =>
        {
            if (multiply) for (int i = 0; i < length; i++) yv[o + i] = av[ia + i * stepA] * bv[ib + i * stepB];
            else for (int i = 0; i < length; i++) yv[o + i] = av[ia + i * stepA] + bv[ib + i * stepB];
        });
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (context.Gradient(Outputs[0]) is not { } dy) return;
        for (int side = 0; side < 2; side++)
        {
            string name = Inputs[side];
            if (!context.RequiresGradient(name)) continue;
            var operand = context.Value(name);
            var other = context.Value(Inputs[1 - side]);
            context.AccumulatingGradient(name);
            var target = context.Gradient(name)!;
            Broadcasting.ReduceInto(dy.Array, _shape, target.Array, Broadcasting.Strides(operand.Shape, _shape),
                _multiply ? other.Array : null, _multiply ? Broadcasting.Strides(other.Shape, _shape) : null);
        }
    }
}
