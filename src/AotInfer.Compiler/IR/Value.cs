using System.Collections.Generic;
using AotInfer.Onnx;

namespace AotInfer.Compiler.IR;

/// <summary>A tensor flowing through the graph: its name, element type, static shape and, when known at compile time, its value.</summary>
public sealed class Value
{
    /// <summary>Creates a value.</summary>
    public Value(string name) => Name = name;

    /// <summary>The ONNX name.</summary>
    public string Name { get; }

    /// <summary>Element type (set by the importer for inputs and constants, by shape inference for the rest).</summary>
    public DataType Type { get; set; }

    /// <summary>Static dimensions; null until shape inference has run.</summary>
    public int[]? Shape { get; set; }

    /// <summary>The value when it is known at compile time (initializers, Constant nodes, folded sub-graphs).</summary>
    public Tensor? Constant { get; set; }

    /// <summary>The node that computes this value, or null for graph inputs and initializers.</summary>
    public Node? Producer { get; set; }

    /// <summary>Nodes that read this value.</summary>
    public List<Node> Consumers { get; } = new();

    /// <summary>True for a graph input fed by the caller.</summary>
    public bool IsGraphInput { get; set; }

    /// <summary>True for a graph output returned to the caller.</summary>
    public bool IsGraphOutput { get; set; }

    /// <summary>Number of elements (shape must be known).</summary>
    public int ElementCount => ShapeMath.ElementCount(Shape!);

    /// <summary>
    /// Length of the span generated code holds this value in: the element count, except for raw types (float8,
    /// float4, 4-bit and 2-bit integers, see <see cref="RawEncoding"/>), whose spans are bytes of packed elements.
    /// </summary>
    public int BufferLength => RawEncoding.IsRaw(Type) ? (int)RawEncoding.ByteLength(Type, ElementCount) : ElementCount;

    /// <summary>For diagnostics: <c>name: float[1,3]</c>.</summary>
    public override string ToString() => $"{Name}: {Type}[{(Shape is null ? "?" : string.Join(",", Shape))}]";
}
