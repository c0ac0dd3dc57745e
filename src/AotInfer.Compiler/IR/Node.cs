using System.Collections.Generic;
using System.Linq;

namespace AotInfer.Compiler.IR;

/// <summary>One operator application in the graph.</summary>
public sealed class Node
{
    /// <summary>Creates a node.</summary>
    public Node(string name, string opType, string domain, int opset, NodeAttributes attributes)
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Opset = opset;
        Attributes = attributes;
    }

    /// <summary>The node name (made unique by the importer when the model leaves it empty).</summary>
    public string Name { get; }

    /// <summary>ONNX operator type, e.g. <c>Conv</c>.</summary>
    public string OpType { get; set; }

    /// <summary>Operator domain: empty for the default ONNX domain, or e.g. <c>com.microsoft</c>.</summary>
    public string Domain { get; }

    /// <summary>The opset version imported for the node's domain.</summary>
    public int Opset { get; }

    /// <summary>The attributes.</summary>
    public NodeAttributes Attributes { get; }

    /// <summary>Inputs in order; null marks an omitted optional input.</summary>
    public List<Value?> Inputs { get; } = new();

    /// <summary>Outputs in order (omitted optional outputs get a private value of their own).</summary>
    public List<Value> Outputs { get; } = new();

    /// <summary>Free-form notes that passes attach (fused activation, chosen kernel) for comments and <c>inspect</c>.</summary>
    public Dictionary<string, object> Annotations { get; } = new();

    /// <summary>The input at <paramref name="index"/>, or null when absent.</summary>
    public Value? Input(int index) => index < Inputs.Count ? Inputs[index] : null;

    /// <summary>For diagnostics: <c>Conv 'conv1'</c>.</summary>
    public override string ToString() => $"{OpType} '{Name}'";

    /// <summary>Names of the inputs and outputs, for comments.</summary>
    public string Signature() =>
        string.Join(", ", Inputs.Select(v => v?.ToString() ?? "-")) + " -> " + string.Join(", ", Outputs.Select(v => v.ToString()));
}
