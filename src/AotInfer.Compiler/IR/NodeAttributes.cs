using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Compiler.IR;

/// <summary>Typed access to a node's attributes; a wrong type or a missing required attribute is an <see cref="UnsupportedModelException"/>.</summary>
public sealed class NodeAttributes
{
    readonly Dictionary<string, AttributeProto> _byName;
    readonly string? _modelDirectory;

    /// <summary>Wraps the attributes of a node.</summary>
    public NodeAttributes(IEnumerable<AttributeProto> attributes, string? modelDirectory)
    {
        _byName = new Dictionary<string, AttributeProto>();
        foreach (var a in attributes) _byName[a.Name] = a;
        _modelDirectory = modelDirectory;
    }

    /// <summary>Attribute names present.</summary>
    public IEnumerable<string> Names => _byName.Keys;

    /// <summary>True when the attribute is present.</summary>
    public bool Has(string name) => _byName.ContainsKey(name);

    /// <summary>The raw attribute, or null.</summary>
    public AttributeProto? Raw(string name) => _byName.TryGetValue(name, out var a) ? a : null;

    /// <summary>An int attribute, or <paramref name="fallback"/> when absent.</summary>
    public long Int(string name, long fallback) => Get(name, AttributeProto.Types.AttributeType.Int) is { } a ? a.I : fallback;

    /// <summary>A required int attribute.</summary>
    public long Int(string name) => Required(name, AttributeProto.Types.AttributeType.Int).I;

    /// <summary>A float attribute, or <paramref name="fallback"/> when absent.</summary>
    public float Float(string name, float fallback) => Get(name, AttributeProto.Types.AttributeType.Float) is { } a ? a.F : fallback;

    /// <summary>A string attribute, or <paramref name="fallback"/> when absent.</summary>
    public string String(string name, string fallback) => Get(name, AttributeProto.Types.AttributeType.String) is { } a ? a.S.ToStringUtf8() : fallback;

    /// <summary>An ints attribute, or null when absent.</summary>
    public long[]? Ints(string name) => Get(name, AttributeProto.Types.AttributeType.Ints) is { } a ? a.Ints.ToArray() : null;

    /// <summary>A floats attribute, or null when absent.</summary>
    public float[]? Floats(string name) => Get(name, AttributeProto.Types.AttributeType.Floats) is { } a ? a.Floats.ToArray() : null;

    /// <summary>A strings attribute, or null when absent.</summary>
    public string[]? Strings(string name) => Get(name, AttributeProto.Types.AttributeType.Strings) is { } a ? a.Strings.Select(s => s.ToStringUtf8()).ToArray() : null;

    /// <summary>A tensor attribute, or null when absent.</summary>
    public Tensor? Tensor(string name) =>
        Get(name, AttributeProto.Types.AttributeType.Tensor) is { } a ? ReadTensor(a.T, name) : null;

    Tensor ReadTensor(TensorProto proto, string name)
    {
        try { return TensorProtoReader.Read(proto, _modelDirectory); }
        catch (InvalidModelException e) { throw new UnsupportedModelException($"attribute '{name}': {e.Message}"); }
    }

    AttributeProto? Get(string name, AttributeProto.Types.AttributeType type)
    {
        if (!_byName.TryGetValue(name, out var a)) return null;
        if (!string.IsNullOrEmpty(a.RefAttrName)) throw new UnsupportedModelException($"attribute '{name}' refers to a function attribute, which only functions may do");
        // Old exporters leave 'type' unset (UNDEFINED); then trust the field the caller asks for.
        if (a.Type != AttributeProto.Types.AttributeType.Undefined && a.Type != type)
            throw new UnsupportedModelException($"attribute '{name}' is {a.Type}, expected {type}");
        return a;
    }

    AttributeProto Required(string name, AttributeProto.Types.AttributeType type) =>
        Get(name, type) ?? throw new UnsupportedModelException($"required attribute '{name}' is missing");
}
