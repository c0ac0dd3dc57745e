using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>The model around a node being turned into a <see cref="TrainingOp"/>: constants and the opset.</summary>
/// <param name="Graph">The model's graph.</param>
/// <param name="Opset">Version of the default ONNX domain.</param>
/// <param name="ConstantNodes">The tensors of the graph's Constant nodes, by output name.</param>
public sealed record OpSetup(GraphEditor Graph, long Opset, IReadOnlyDictionary<string, Tensor> ConstantNodes)
{
    /// <summary>The constant <paramref name="name"/> (an initializer that is not a graph input, or a Constant node's value), or null.</summary>
    public Tensor? Constant(string name) =>
        name.Length == 0 ? null : Graph.IsConstant(name) ? Graph.Read(name) : ConstantNodes.TryGetValue(name, out var t) ? t : null;

    /// <summary>The integer values of the constant <paramref name="name"/>, or null.</summary>
    public long[]? ConstantInts(string name) => Constant(name)?.ToInt64();

    /// <summary>The float values of the constant <paramref name="name"/>, or null.</summary>
    public double[]? ConstantFloats(string name) => Constant(name)?.ToDouble();
}

/// <summary>
/// Maps ONNX op types to their training implementations. Anything else is refused with a message naming the node
/// and op (the graph builder collects every refusal so the user sees them all at once).
/// </summary>
public static class TrainingOpFactory
{
    static readonly Dictionary<string, Func<NodeProto, OpSetup, TrainingOp>> s_ops = new(StringComparer.Ordinal)
    {
        ["Gemm"] = (n, s) => new GemmOp(n),
        ["MatMul"] = (n, s) => new MatMulOp(n),
        ["Conv"] = (n, s) => new ConvOp(n),
        ["BatchNormalization"] = (n, s) => new BatchNormalizationOp(n),
        ["Relu"] = (n, s) => new ActivationOp(n, Activation.Relu()),
        ["LeakyRelu"] = (n, s) => new ActivationOp(n, Activation.LeakyRelu(GraphEditor.GetFloat(n, "alpha", 0.01f))),
        ["Sigmoid"] = (n, s) => new ActivationOp(n, Activation.Sigmoid()),
        ["Tanh"] = (n, s) => new ActivationOp(n, Activation.Tanh()),
        ["HardSwish"] = (n, s) => new ActivationOp(n, Activation.HardSwish()),
        ["Clip"] = (n, s) => new ActivationOp(n, ClipActivation(n, s)),
        ["MaxPool"] = (n, s) => new MaxPoolOp(n),
        ["AveragePool"] = (n, s) => new AveragePoolOp(n),
        ["GlobalAveragePool"] = (n, s) => new GlobalAveragePoolOp(n),
        ["Add"] = (n, s) => new BroadcastBinaryOp(n, multiply: false),
        ["Mul"] = (n, s) => new BroadcastBinaryOp(n, multiply: true),
        ["Flatten"] = (n, s) => ReshapeOp.Flatten(n),
        ["Reshape"] = (n, s) => ReshapeOp.Reshape(n, s),
        ["Identity"] = (n, s) => ReshapeOp.Identity(n),
        ["Concat"] = (n, s) => new ConcatOp(n),
        ["Dropout"] = (n, s) => new DropoutOp(n, s),
        ["Softmax"] = (n, s) => new SoftmaxOp(n, s.Opset, logarithm: false),
        ["LogSoftmax"] = (n, s) => new SoftmaxOp(n, s.Opset, logarithm: true),
        ["QuantizeLinear"] = (n, s) => new QuantizeLinearOp(n, s),
        ["DequantizeLinear"] = (n, s) => new DequantizeLinearOp(n, s),
    };

    /// <summary>The op types training supports.</summary>
    public static IEnumerable<string> SupportedOps => s_ops.Keys.OrderBy(k => k, StringComparer.Ordinal);

    /// <summary>Creates the training op of <paramref name="node"/>; throws <see cref="InvalidOperationException"/> naming the node when it cannot be trained.</summary>
    public static TrainingOp Create(NodeProto node, OpSetup setup)
    {
        if (node.Domain is not ("" or "ai.onnx") || !s_ops.TryGetValue(node.OpType, out var create))
            throw new InvalidOperationException($"{Describe(node)}: training does not support this op (supported: {string.Join(", ", SupportedOps)})");
        return create(node, setup);
    }

    /// <summary>"node 'NAME' (OP)".</summary>
    public static string Describe(NodeProto node) =>
        $"node '{(node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault() ?? "?")}' ({(node.Domain is "" or "ai.onnx" ? "" : node.Domain + ".")}{node.OpType})";

    static Activation ClipActivation(NodeProto node, OpSetup setup)
    {
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        if (setup.Opset < 11)
        {
            min = GraphEditor.GetFloat(node, "min", min);
            max = GraphEditor.GetFloat(node, "max", max);
        }
        else
        {
            for (int i = 1; i < Math.Min(node.Input.Count, 3); i++)
            {
                if (node.Input[i].Length == 0) continue;
                var bound = setup.ConstantFloats(node.Input[i]);
                if (bound is null || bound.Length != 1) throw new InvalidOperationException($"{Describe(node)}: the {(i == 1 ? "min" : "max")} bound must be a constant scalar to train");
                if (i == 1) min = (float)bound[0]; else max = (float)bound[0];
            }
        }
        return Activation.Clip(min, max);
    }
}
