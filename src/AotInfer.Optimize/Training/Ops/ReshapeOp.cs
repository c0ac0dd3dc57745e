using System;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// Flatten, Reshape and Identity: the data is unchanged, only the shape differs, so backward passes the gradient
/// through. Reshape's target shape must be a constant; 0 copies the input dimension and -1 is inferred, so a
/// shape exported for batch 1 such as [-1, 256] or [0, -1] follows the training batch.
/// </summary>
public sealed class ReshapeOp : TrainingOp
{
    readonly Func<int[], int[]> _shapeOf;

    ReshapeOp(NodeProto node, Func<int[], int[]> shapeOf) : base(node) => _shapeOf = shapeOf;

    /// <summary>Flatten to [product of dims before axis, product of the rest].</summary>
    public static ReshapeOp Flatten(NodeProto node)
    {
        long axis = GraphEditor.GetInt(node, "axis", 1);
        return new ReshapeOp(node, input =>
        {
            int a = (int)(axis < 0 ? axis + input.Length : axis);
            if (a < 0 || a > input.Length) throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: axis {axis} is out of range for rank {input.Length}");
            int outer = 1, inner = 1;
            for (int d = 0; d < input.Length; d++) { if (d < a) outer *= input[d]; else inner *= input[d]; }
            return new[] { outer, inner };
        });
    }

    /// <summary>Reshape to a constant target shape.</summary>
    public static ReshapeOp Reshape(NodeProto node, OpSetup setup)
    {
        var target = setup.ConstantInts(node.Input.Count > 1 ? node.Input[1] : "")
            ?? throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: the target shape must be a constant to train");
        bool allowZero = GraphEditor.GetInt(node, "allowzero", 0) != 0;
        return new ReshapeOp(node, input =>
        {
            var shape = new int[target.Length];
            int known = 1, inferred = -1, total = 1;
            foreach (int d in input) total *= d;
            for (int i = 0; i < target.Length; i++)
            {
                long d = target[i];
                if (d == 0 && !allowZero)
                {
                    if (i >= input.Length) throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: 0 at position {i} has no input dimension to copy");
                    d = input[i];
                }
                if (d == -1) { inferred = i; continue; }
                if (d < 0) throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: target dimension {d} is invalid");
                shape[i] = (int)d;
                known *= (int)d;
            }
            if (inferred >= 0) shape[inferred] = known == 0 ? 0 : total / known;
            int product = 1;
            foreach (int d in shape) product *= d;
            if (product != total) throw new InvalidOperationException($"{TrainingOpFactory.Describe(node)}: cannot reshape [{string.Join(",", input)}] to [{string.Join(",", target)}]");
            return shape;
        });
    }

    /// <summary>Identity.</summary>
    public static ReshapeOp Identity(NodeProto node) => new(node, input => input);

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        x.Span.CopyTo(context.Output(Outputs[0], _shapeOf(x.Shape)).Span);
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (!context.RequiresGradient(Inputs[0]) || context.Gradient(Outputs[0]) is not { } dy) return;
        context.AddGradient(Inputs[0], dy.Span);
    }
}
