using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// Builds the integer node that replaces a <see cref="QdqGroup"/> and splices it into the graph. The new node is
/// first inferred detached, by its own op lowering: only when that lowering accepts it and computes exactly the
/// group's result type and shape does the graph change, so a pattern the integer op cannot take stays float.
/// </summary>
internal sealed class QdqRewriter
{
    readonly Graph _graph;
    readonly OpRegistry _registry;

    public QdqRewriter(Graph graph, OpRegistry registry)
    {
        _graph = graph;
        _registry = registry;
        Signed = SignedActivationRule.Analyze(graph);
    }

    /// <summary>ONNX Runtime's treatment of int8 activations, decided on the graph before any rewrite.</summary>
    public SignedActivationRule Signed { get; }

    /// <summary>A node of <paramref name="opType"/> named after <paramref name="target"/>, with the given attributes and inputs (null: omitted).</summary>
    public static Node NewNode(Node target, string opType, string domain, IEnumerable<AttributeProto> attributes, params Value?[] inputs)
    {
        var node = new Node(target.Name, opType, domain, domain.Length == 0 ? target.Opset : 1, new NodeAttributes(attributes, null));
        node.Inputs.AddRange(inputs);
        return node;
    }

    /// <summary>The attributes of <paramref name="node"/>, except those named in <paramref name="except"/>.</summary>
    public static IEnumerable<AttributeProto> AttributesOf(Node node, params string[] except) =>
        node.Attributes.Names.Where(n => !except.Contains(n)).Select(n => node.Attributes.Raw(n)!).ToList();

    /// <summary>An int attribute.</summary>
    public static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>The zero point of <paramref name="p"/>, or a new constant zero of its type when the node omitted it.</summary>
    public Value ZeroPoint(QdqParameters p)
    {
        if (p.ZeroPoint is not null) return p.ZeroPoint;
        Array zero = p.IntegerType == DataType.Int8 ? new sbyte[1] : new byte[1];
        var tensor = new Tensor(p.IntegerType, Array.Empty<int>(), zero);
        string name = p.Data.Name + ":zero_point";
        for (int unique = 1; _graph.Values.ContainsKey(name); unique++) name = p.Data.Name + ":zero_point_" + unique;
        var value = new Value(name) { Type = tensor.Type, Shape = tensor.Shape, Constant = tensor };
        _graph.Values[name] = value;
        return value;
    }

    /// <summary>
    /// Replaces the group's nodes by <paramref name="replacement"/>, which computes <see cref="QdqGroup.Result"/>.
    /// Returns false with the reason, and leaves the graph untouched, when the replacement's lowering rejects it.
    /// </summary>
    public bool TryCommit(QdqGroup group, Node replacement, out string reason) =>
        FusionGraph.TryReplace(_graph, _registry, group.Replaced().ToList(), replacement, group.Result, group.Target, out reason);
}
