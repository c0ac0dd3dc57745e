using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Compiler.Import;

/// <summary>Builds the IR <see cref="Graph"/> from an ONNX <see cref="ModelProto"/>: values, constants, opsets, topological order.</summary>
public static class GraphImporter
{
    /// <summary>Imports the main graph. Problems are reported to <paramref name="diagnostics"/>; returns null when the graph cannot be built.</summary>
    public static Graph? Import(ModelProto model, CompileOptions options, DiagnosticBag diagnostics)
    {
        var opsets = new Dictionary<string, int>();
        foreach (var o in model.OpsetImport)
            opsets[NormalizeDomain(o.Domain)] = (int)o.Version;
        if (!opsets.ContainsKey("")) opsets[""] = model.IrVersion <= 3 ? 7 : 1; // IR 3 models may omit the import
        var g = model.Graph;
        var graph = new Graph();
        int errorsBefore = diagnostics.Items.Count;
        var unreadable = new HashSet<string>();

        Value Get(string name)
        {
            if (!graph.Values.TryGetValue(name, out var v)) graph.Values[name] = v = new Value(name);
            return v;
        }

        foreach (var init in g.Initializer)
        {
            try
            {
                var t = TensorProtoReader.Read(init, options.ModelDirectory);
                var v = Get(init.Name);
                v.Constant = t;
                v.Type = t.Type;
                v.Shape = t.Shape;
            }
            catch (InvalidModelException e)
            {
                diagnostics.Error(DiagnosticIds.InvalidModel, $"initializer '{init.Name}': {e.Message}");
                unreadable.Add(init.Name); // reported once here, not again as "never defined" by every consumer
            }
        }
        if (g.SparseInitializer.Count > 0)
            diagnostics.Error(DiagnosticIds.UnsupportedFeature, $"sparse initializers are not supported ('{g.SparseInitializer[0].Values?.Name}')");

        foreach (var input in g.Input)
        {
            var v = Get(input.Name);
            if (v.Constant is not null) continue; // IR < 4: initializers are listed as inputs too; they stay constants
            v.IsGraphInput = true;
            if (!ReadType(input, v, options, diagnostics, "input", graph)) continue;
            if (options.InputValues.TryGetValue(input.Name, out var pinned))
            {
                if (pinned.Type != v.Type || !pinned.Shape.SequenceEqual(v.Shape!))
                {
                    diagnostics.Error(DiagnosticIds.InvalidOptions, $"the value fixed for input '{input.Name}' is {pinned} but the input is {v.Type}[{string.Join(",", v.Shape!)}]");
                    continue;
                }
                v.Constant = pinned;
            }
            graph.Inputs.Add(v);
        }

        var nodes = new List<Node>();
        var usedNames = new HashSet<string>();
        int index = 0;
        foreach (var n in g.Node)
        {
            string domain = NormalizeDomain(n.Domain);
            string name = string.IsNullOrEmpty(n.Name) ? $"{n.OpType}_{index}" : n.Name;
            while (!usedNames.Add(name)) name += "_" + index;
            index++;
            opsets.TryGetValue(domain, out int opset);
            var node = new Node(name, n.OpType, domain, opset, new NodeAttributes(n.Attribute, options.ModelDirectory));
            foreach (var i in n.Input) node.Inputs.Add(string.IsNullOrEmpty(i) ? null : Get(i));
            foreach (var o in n.Output)
            {
                // An omitted optional output still gets a value (and a buffer) so lowerings never special-case it.
                var v = Get(string.IsNullOrEmpty(o) ? $"{name}:unused_output_{node.Outputs.Count}" : o);
                if (v.Producer is not null || v.Constant is not null || v.IsGraphInput)
                    diagnostics.Error(DiagnosticIds.InvalidModel, $"node {node}: output '{o}' is already defined elsewhere (ONNX graphs are single-assignment)", node);
                v.Producer = node;
                node.Outputs.Add(v);
            }
            nodes.Add(node);
        }

        foreach (var output in g.Output)
        {
            if (!graph.Values.TryGetValue(output.Name, out var v))
            {
                diagnostics.Error(DiagnosticIds.InvalidModel, $"graph output '{output.Name}' is not produced by any node, input or initializer");
                continue;
            }
            v.IsGraphOutput = true;
            if (output.Type?.TensorType is { } tt && v.Type == DataType.Undefined) v.Type = (DataType)tt.ElemType;
            graph.Outputs.Add(v);
        }

        if (!TopologicalSort(nodes, graph, unreadable, diagnostics)) return null;
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs)
                input?.Consumers.Add(node);
        return diagnostics.Items.Count > errorsBefore && diagnostics.HasErrors ? null : graph;
    }

    static string BatchName(TensorShapeProto.Types.Dimension d) =>
        d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : "(unnamed)";

    /// <summary>ONNX treats "" and "ai.onnx" as the same default domain.</summary>
    public static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;

    static bool ReadType(ValueInfoProto info, Value v, CompileOptions options, DiagnosticBag diagnostics, string what, Graph graph)
    {
        var tt = info.Type?.TensorType;
        if (tt is null)
        {
            diagnostics.Error(DiagnosticIds.UnsupportedType, $"{what} '{info.Name}' is not a tensor (sequences, maps and optionals are not supported)");
            return false;
        }
        v.Type = (DataType)tt.ElemType;
        // Raw types (float8, float4, 4/2-bit integers) are checked after shape inference, node by node.
        if (!DataTypes.IsSupportedAtRunTime(v.Type) && !RawEncoding.IsRaw(v.Type))
        {
            diagnostics.Error(DiagnosticIds.UnsupportedType, $"{what} '{info.Name}' has element type {v.Type}, which generated code does not support");
            return false;
        }
        if (options.InputShapes.TryGetValue(info.Name, out var pinned)) { v.Shape = pinned; return true; }
        if (tt.Shape is null)
        {
            diagnostics.Error(DiagnosticIds.UnpinnedDimension, $"{what} '{info.Name}' has no shape; give it one in the model");
            return false;
        }
        var shape = new int[tt.Shape.Dim.Count];
        bool ok = true;
        for (int i = 0; i < shape.Length; i++)
        {
            var d = tt.Shape.Dim[i];
            if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0)
                shape[i] = (int)System.Math.Min(d.DimValue, int.MaxValue);
            else if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam && options.DimensionValues.TryGetValue(d.DimParam, out int pin))
                shape[i] = pin;
            else if (i == 0 && options.RuntimeBatch && (graph.BatchDimension is null || graph.BatchDimension == BatchName(d)))
            {
                // The leading symbolic dimension becomes the run-time batch: compile one sample (checked later).
                graph.BatchDimension = BatchName(d);
                graph.Batched.Add(v);
                shape[i] = 1;
            }
            else
            {
                string label = d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? $"'{d.DimParam}'" : "(unnamed)";
                diagnostics.Error(DiagnosticIds.UnpinnedDimension,
                    $"{what} '{info.Name}' dimension {i} is symbolic {label}; pin it (AotInferDims=\"{(d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : "name")}=1\" item metadata or the attribute's Dims)");
                ok = false;
            }
        }
        if (!ok) return false;
        try { ShapeMath.ElementCount(shape); }
        catch (InvalidModelException e) { diagnostics.Error(DiagnosticIds.InvalidModel, $"{what} '{info.Name}': {e.Message}"); return false; }
        v.Shape = shape;
        return true;
    }

    /// <summary>Orders nodes so that every input is computed before use (Kahn's algorithm, stable for already-ordered graphs).</summary>
    static bool TopologicalSort(List<Node> nodes, Graph graph, HashSet<string> unreadable, DiagnosticBag diagnostics)
    {
        var ready = new HashSet<Value>(graph.Values.Values.Where(v => v.Producer is null && (v.Constant is not null || v.IsGraphInput || unreadable.Contains(v.Name))));
        var pending = new List<Node>(nodes);
        bool ok = true;
        while (pending.Count > 0)
        {
            int before = pending.Count;
            var next = new List<Node>();
            foreach (var node in pending)
            {
                if (node.Inputs.All(i => i is null || ready.Contains(i)))
                {
                    graph.Nodes.Add(node);
                    foreach (var o in node.Outputs) if (o is not null) ready.Add(o);
                }
                else next.Add(node);
            }
            pending = next;
            if (pending.Count == before)
            {
                foreach (var node in pending)
                {
                    var missing = node.Inputs.First(i => i is not null && !ready.Contains(i))!;
                    string why = missing.Producer is null ? "is never defined" : "depends on a cycle";
                    diagnostics.Error(DiagnosticIds.InvalidModel, $"node {node}: input '{missing.Name}' {why}", node);
                }
                ok = false;
                break;
            }
        }
        return ok;
    }
}
