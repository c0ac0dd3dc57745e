using System;
using System.Collections.Generic;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// One node of a <see cref="TrainingGraph"/>: its forward computation (which saves what backward needs) and its
/// backward rule, which turns the loss gradient of the outputs into the loss gradient of every input that
/// <see cref="TrainingContext.RequiresGradient"/>. One subclass per ONNX op (or family of element-wise ops).
/// </summary>
public abstract class TrainingOp
{
    /// <summary>Wraps <paramref name="node"/>.</summary>
    protected TrainingOp(NodeProto node) => Node = node;

    /// <summary>The ONNX node.</summary>
    public NodeProto Node { get; }

    /// <summary>Input value names ("" for an absent optional input).</summary>
    public IList<string> Inputs => Node.Input;

    /// <summary>Output value names.</summary>
    public IList<string> Outputs => Node.Output;

    /// <summary>"node 'NAME' (OP)", for messages.</summary>
    public string Description => TrainingOpFactory.Describe(Node);

    /// <summary>Computes the outputs from the inputs in <paramref name="context"/>.</summary>
    public abstract void Forward(TrainingContext context);

    /// <summary>Adds the loss gradient of each input that needs one, from the gradients of the outputs.</summary>
    public abstract void Backward(TrainingContext context);

    /// <summary>An error about this node at run time (a shape the op cannot take).</summary>
    protected InvalidOperationException Error(string message) => new($"{Description}: {message}");
}
