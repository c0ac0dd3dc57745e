using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Onnx;

/// <summary>
/// Editing helpers over a <see cref="GraphProto"/>: initializer access as typed tensors, producers and consumers
/// of values, attribute access, node removal. Queries scan the graph each time: graphs here have tens of nodes,
/// and never holding stale indexes keeps every edit simple.
/// </summary>
public sealed class GraphEditor
{
    /// <summary>Edits <paramref name="model"/>'s main graph; external data must stay inside <paramref name="modelDirectory"/>.</summary>
    public GraphEditor(ModelProto model, string? modelDirectory = null)
    {
        Model = model;
        ModelDirectory = modelDirectory;
    }

    /// <summary>The model being edited.</summary>
    public ModelProto Model { get; }

    /// <summary>The main graph.</summary>
    public GraphProto Graph => Model.Graph;

    /// <summary>Folder external data is read from.</summary>
    public string? ModelDirectory { get; }

    /// <summary>The initializer called <paramref name="name"/>, or null.</summary>
    public TensorProto? Initializer(string name) => Graph.Initializer.FirstOrDefault(t => t.Name == name);

    /// <summary>True when <paramref name="name"/> is an initializer that is not also a graph input (so it cannot be overridden).</summary>
    public bool IsConstant(string name) => name.Length > 0 && Initializer(name) is not null && Graph.Input.All(i => i.Name != name);

    /// <summary>The initializer as a tensor.</summary>
    public Tensor Read(string name) =>
        TensorProtoReader.Read(Initializer(name) ?? throw new InvalidOperationException($"'{name}' is not an initializer"), ModelDirectory);

    /// <summary>The float initializer's values, or null when it is missing or not float.</summary>
    public Tensor? ReadFloat(string name)
    {
        var proto = Initializer(name);
        if (proto is null || proto.DataType != (int)DataType.Float) return null;
        return TensorProtoReader.Read(proto, ModelDirectory);
    }

    /// <summary>Replaces (or adds) the initializer <paramref name="name"/>, keeping its position.</summary>
    public void SetInitializer(string name, Tensor value)
    {
        var proto = TensorProtoReader.Write(value, name);
        for (int i = 0; i < Graph.Initializer.Count; i++)
            if (Graph.Initializer[i].Name == name) { Graph.Initializer[i] = proto; return; }
        Graph.Initializer.Add(proto);
    }

    /// <summary>A name not used by any value, initializer or node in the graph.</summary>
    public string UniqueName(string stem)
    {
        var used = new HashSet<string>(Graph.Initializer.Select(t => t.Name)
            .Concat(Graph.Input.Select(i => i.Name)).Concat(Graph.Output.Select(o => o.Name))
            .Concat(Graph.Node.SelectMany(n => n.Output)).Concat(Graph.Node.Select(n => n.Name)), StringComparer.Ordinal);
        if (!used.Contains(stem)) return stem;
        for (int i = 1; ; i++)
            if (!used.Contains(stem + "_" + i)) return stem + "_" + i;
    }

    /// <summary>A new node (not yet added) named uniquely from <paramref name="name"/>.</summary>
    public NodeProto NewNode(string opType, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = opType, Name = UniqueName(name) };
        node.Input.Add(inputs);
        node.Output.Add(output);
        return node;
    }

    /// <summary>The node producing <paramref name="value"/>, or null (graph input, initializer).</summary>
    public NodeProto? Producer(string value) => Graph.Node.FirstOrDefault(n => n.Output.Contains(value));

    /// <summary>Every (node, input index) reading <paramref name="value"/>.</summary>
    public List<(NodeProto Node, int Input)> Consumers(string value)
    {
        var result = new List<(NodeProto, int)>();
        foreach (var node in Graph.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == value) result.Add((node, i));
        return result;
    }

    /// <summary>True when <paramref name="value"/> is a graph output.</summary>
    public bool IsGraphOutput(string value) => Graph.Output.Any(o => o.Name == value);

    /// <summary>Makes every reader of <paramref name="from"/> read <paramref name="to"/> instead.</summary>
    public void ReplaceUses(string from, string to)
    {
        foreach (var node in Graph.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == from) node.Input[i] = to;
    }

    /// <summary>Removes initializers nothing reads any more, and value infos of values that no longer exist.</summary>
    public int RemoveUnused()
    {
        var read = new HashSet<string>(Graph.Node.SelectMany(n => n.Input).Concat(Graph.Output.Select(o => o.Name)), StringComparer.Ordinal);
        int before = Graph.Initializer.Count;
        var keep = Graph.Initializer.Where(t => read.Contains(t.Name) || Graph.Input.Any(i => i.Name == t.Name)).ToList();
        Graph.Initializer.Clear();
        Graph.Initializer.AddRange(keep);
        var produced = new HashSet<string>(Graph.Node.SelectMany(n => n.Output), StringComparer.Ordinal);
        var infos = Graph.ValueInfo.Where(v => produced.Contains(v.Name)).ToList();
        Graph.ValueInfo.Clear();
        Graph.ValueInfo.AddRange(infos);
        return before - keep.Count;
    }

    /// <summary>Removes nodes none of whose outputs is read or a graph output, repeatedly (dead paths after a rewrite).</summary>
    public void RemoveDeadNodes()
    {
        while (true)
        {
            var read = new HashSet<string>(Graph.Node.SelectMany(n => n.Input).Concat(Graph.Output.Select(o => o.Name)), StringComparer.Ordinal);
            var dead = Graph.Node.Where(n => n.Output.All(o => o.Length == 0 || !read.Contains(o))).ToList();
            if (dead.Count == 0) return;
            foreach (var node in dead) Graph.Node.Remove(node);
        }
    }

    /// <summary>Drops the recorded value info (shape) of <paramref name="value"/>, for values whose shape an edit changed.</summary>
    public void ForgetValueInfo(string value)
    {
        for (int i = Graph.ValueInfo.Count - 1; i >= 0; i--)
            if (Graph.ValueInfo[i].Name == value) Graph.ValueInfo.RemoveAt(i);
    }

    /// <summary>An integer attribute or <paramref name="fallback"/>.</summary>
    public static long GetInt(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    /// <summary>A float attribute or <paramref name="fallback"/>.</summary>
    public static float GetFloat(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    /// <summary>Sets (or adds) an integer attribute.</summary>
    public static void SetInt(NodeProto node, string name, long value)
    {
        var a = node.Attribute.FirstOrDefault(x => x.Name == name);
        if (a is null) node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        else a.I = value;
    }

    /// <summary>Sets (or adds) a float attribute.</summary>
    public static void SetFloat(NodeProto node, string name, float value)
    {
        var a = node.Attribute.FirstOrDefault(x => x.Name == name);
        if (a is null) node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
        else a.F = value;
    }

    /// <summary>Opset version of the default ONNX domain.</summary>
    public long OnnxOpset => Model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 1;

    /// <summary>A float value info with no shape, for graph outputs added to observe intermediate values.</summary>
    public static ValueInfoProto FloatValueInfo(string name) => new()
    {
        Name = name,
        Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } },
    };
}
