using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Compiler.Planning;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Emit;

/// <summary>
/// Writes the C# class for a compiled graph: provenance header, metadata, a Span-based <c>Run</c> that calls one
/// kernel per node on buffers planned in one arena, and the weights as base64 UTF-8 literals (stored as raw data in
/// the assembly, decoded once per process).
/// </summary>
public sealed class ModelEmitter
{
    readonly Graph _graph;
    readonly ArenaPlan _plan;
    readonly CompileOptions _options;
    readonly ModelFacts _facts;
    readonly OpRegistry _registry;
    readonly Dictionary<Value, string> _names = new();
    readonly HashSet<Value> _declared = new();
    readonly List<Value> _constants = new();
    /// <summary>Derived constants in a kernel's layout, with how they map to their matrix's columns (for per-column palettes).</summary>
    readonly Dictionary<Value, ColumnLayout> _columnLayouts = new();
    readonly Dictionary<string, string> _staticArrays = new();
    readonly CodeWriter _statics = new();
    readonly List<string> _parameterNames = new();
    int _scratchBytes;
    int _staticFieldCount;

    /// <summary>Prepares an emitter.</summary>
    public ModelEmitter(Graph graph, ArenaPlan plan, CompileOptions options, ModelFacts facts, OpRegistry registry)
    {
        _graph = graph;
        _plan = plan;
        _options = options;
        _facts = facts;
        _registry = registry;
    }

    /// <summary>Bytes of scratch memory the nodes asked for (known after <see cref="Emit"/>).</summary>
    public int ScratchBytes => _scratchBytes;

    /// <summary>Bytes of constant data the emitted class stores (before base64), after <see cref="Emit"/>.</summary>
    public long ConstantBytes { get; private set; }

    /// <summary>Writes the whole source file.</summary>
    public string Emit()
    {
        NameParameters();
        var run = new CodeWriter();
        EmitRunBody(run);

        var w = new CodeWriter();
        EmitHeader(w);
        bool hasNamespace = _options.Namespace.Length > 0;
        if (hasNamespace) w.Open($"namespace {_options.Namespace}");
        EmitClassDoc(w);
        string modifiers = _options.Modifiers.Length > 0 ? _options.Modifiers + " " : "";
        string profiled = _options.Profile ? $", {EmitContext.Kernels}.IProfiledModel" : "";
        w.Open($"{modifiers}partial class {_options.ClassName} : {EmitContext.Kernels}.IGeneratedModel{profiled}");
        EmitMetadata(w);
        if (_options.Profile) LayerProfileEmitter.EmitMembers(w, _graph.Nodes);
        w.Line($"readonly {EmitContext.Kernels}.AlignedBytes _arena = new(ArenaBytes);");
        if (Threaded)
        {
            w.Line($"/// <summary>The threads large layers are split over ({(_options.Threads == 0 ? "one per processor" : _options.Threads + " threads")}, shared by every model compiled for that count).</summary>");
            w.Line($"static readonly {EmitContext.Kernels}.Threading.WorkerPool s_workerPool = {EmitContext.Kernels}.Threading.WorkerPool.Shared({Literals.Int(_options.Threads)});");
        }
        w.Line($"readonly {EmitContext.Kernels}.AlignedBytes _scratch = new(ScratchBytes);");
        w.Line();
        w.Line("/// <summary>Bytes of the arena holding intermediate tensors (reused by liveness).</summary>");
        w.Line($"public const int ArenaBytes = {_plan.TotalBytes};");
        w.Line("/// <summary>Bytes of scratch memory the kernels use inside one layer.</summary>");
        w.Line($"public const int ScratchBytes = {_scratchBytes};");
        w.Line();
        EmitRunSignature(w, "public", "Run");
        if (_graph.BatchDimension is null)
        {
            EmitChecks(w);
            OpenWorkerPoolScope(w);
            w.Append(run);
            CloseWorkerPoolScope(w);
            w.Close();
        }
        else
        {
            EmitBatchLoop(w);
            w.Close();
            w.Line();
            EmitRunSignature(w, "private", "RunSample");
            w.Append(run);
            w.Close();
        }
        w.Line();
        EmitArrayRun(w);
        if (_statics.ToString().Length > 0) { w.Line(); w.Append(_statics); }
        if (_constants.Count > 0) { w.Line(); EmitConstants(w); }
        w.Close();
        if (hasNamespace) w.Close();
        return w.ToString();
    }

    internal string SpanName(Value v)
    {
        if (_names.TryGetValue(v, out var name)) return name;
        throw new InvalidOperationException($"value '{v.Name}' was used before it was declared");
    }

    internal bool IsWrittenInPlace(Value v) => _plan.WrittenInPlace.ContainsKey(v);

    internal string StaticArray(string elementType, string[] literals)
    {
        string key = elementType + ":" + string.Join(",", literals);
        if (_staticArrays.TryGetValue(key, out var name)) return name;
        name = $"s_{elementType}{_staticArrays.Count}";
        _staticArrays[key] = name;
        _statics.Line($"static readonly {elementType}[] {name} = new {elementType}[] {{ {string.Join(", ", literals)} }};");
        return name;
    }

    /// <summary>
    /// Registers a constant that a lowering derived from the model's weights at build time (e.g. a re-laid-out
    /// weight matrix) and returns the expression naming it in generated code.
    /// </summary>
    internal string DerivedConstant(string name, Tensor value, ColumnLayout? columns = null)
    {
        var v = new Value(name) { Type = value.Type, Shape = value.Shape, Constant = value };
        string field = $"c{_constants.Count}";
        _constants.Add(v);
        if (columns is not null) _columnLayouts[v] = columns;
        return $"Constants.{field}";
    }

    internal string StaticField(string type, string initializer)
    {
        string name = $"s_field{_staticFieldCount++}";
        _statics.Line($"static readonly {type} {name} = {initializer};");
        return name;
    }

    internal string ConstantArray(Value v)
    {
        if (v.Constant is null || !_constants.Contains(v)) throw new InvalidOperationException($"value '{v.Name}' is not a declared constant");
        return $"Constants.{_names[v]}";
    }

    /// <summary>True for the names <see cref="Declare"/> gives Run's locals: "c" or "t" followed by digits.</summary>
    static bool IsGeneratedLocalName(string name) =>
        name.Length > 1 && (name[0] == 'c' || name[0] == 't') && name.Skip(1).All(ch => ch >= '0' && ch <= '9');

    void NameParameters()
    {
        var used = new HashSet<string> { "arena", "scratch", "inputs", "outputs", "samples", "sample", "workerPoolBefore", LayerProfileEmitter.ClockLocal };
        string Unique(string baseName)
        {
            string id = Literals.Identifier(baseName);
            // Run's locals are c0, c1, … (constants) and t0, t1, … (arena values): a parameter must not take such a name.
            if (IsGeneratedLocalName(id.TrimStart('@'))) id = id.TrimStart('@') + "_";
            string candidate = id;
            for (int i = 2; !used.Add(candidate.TrimStart('@')); i++) candidate = id.TrimStart('@') + "_" + i;
            return candidate;
        }
        foreach (var input in _graph.Inputs) { _names[input] = Unique(input.Name); _parameterNames.Add(_names[input]); }
        foreach (var output in _graph.Outputs)
        {
            string name = Unique(output.Name);
            _parameterNames.Add(name);
            // A value listed as output twice, or that is also an input or constant, is copied at the end.
            if (!_names.ContainsKey(output) && output.Producer is not null && output.Constant is null) _names[output] = name;
        }
    }

    /// <summary>Validates every argument of <c>Run</c>: element counts, and the values of inputs fixed at compile time.</summary>
    void EmitChecks(CodeWriter w)
    {
        for (int i = 0; i < _graph.Inputs.Count; i++)
            CheckLength(w, _graph.Inputs[i], _parameterNames[i], "input");
        for (int i = 0; i < _graph.Outputs.Count; i++)
            CheckLength(w, _graph.Outputs[i], _parameterNames[_graph.Inputs.Count + i], "output");
        for (int i = 0; i < _graph.Inputs.Count; i++)
            if (_graph.Inputs[i].Constant is { } fixedValue) CheckFixedValue(w, _graph.Inputs[i], _parameterNames[i], fixedValue);
    }

    /// <summary>
    /// With a run-time batch, <c>Run</c> checks that every batched argument holds the same whole number of samples and
    /// runs the one-sample graph on each slice in turn (the same arena serves every sample).
    /// </summary>
    void EmitBatchLoop(CodeWriter w)
    {
        var all = _graph.Inputs.Concat(_graph.Outputs).ToList();
        int first = all.FindIndex(v => _graph.Batched.Contains(v));
        string firstName = _parameterNames[first];
        int firstLength = all[first].ElementCount;
        w.Line($"int samples = {firstName}.Length / {firstLength};");
        for (int i = 0; i < all.Count; i++)
        {
            var v = all[i];
            string name = _parameterNames[i];
            string role = i < _graph.Inputs.Count ? "input" : "output";
            if (!_graph.Batched.Contains(v)) { CheckLength(w, v, name, role); continue; }
            string perSample = Literals.Shape(v.Shape!).Replace("[1", $"[{_graph.BatchDimension}");
            w.Line($"if ({name}.Length != samples * {v.ElementCount}) throw new global::System.ArgumentException(" +
                   $"{Literals.String($"{role} '{v.Name}' must hold one {v.ElementCount}-element sample per batch item (shape {perSample}, {v.Type}), for ")} + samples + " +
                   $"{Literals.String(" samples as given by ")} + nameof({firstName}) + {Literals.String(", but has ")} + {name}.Length, nameof({name}));");
        }
        for (int i = 0; i < _graph.Inputs.Count; i++)
            if (_graph.Inputs[i].Constant is { } fixedValue) CheckFixedValue(w, _graph.Inputs[i], _parameterNames[i], fixedValue);
        var arguments = all.Select((v, i) => _graph.Batched.Contains(v)
            ? $"{_parameterNames[i]}.Slice(sample * {v.ElementCount}, {v.ElementCount})"
            : _parameterNames[i]);
        OpenWorkerPoolScope(w);
        w.Open("for (int sample = 0; sample < samples; sample++)");
        w.Line($"RunSample({string.Join(", ", arguments)});");
        w.Close();
        CloseWorkerPoolScope(w);
    }

    bool Threaded => _options.Threads != 1;

    /// <summary>
    /// With <see cref="CompileOptions.Threads"/> other than 1, the kernels called inside may split their work over the
    /// model's worker pool: it is made current for the call and restored afterwards (also when a kernel throws).
    /// </summary>
    void OpenWorkerPoolScope(CodeWriter w)
    {
        if (!Threaded) return;
        w.Line($"var workerPoolBefore = {EmitContext.Kernels}.Threading.WorkerPool.Enter(s_workerPool);");
        w.Open("try");
    }

    void CloseWorkerPoolScope(CodeWriter w)
    {
        if (!Threaded) return;
        w.Close();
        w.Open("finally");
        w.Line($"{EmitContext.Kernels}.Threading.WorkerPool.Exit(workerPoolBefore);");
        w.Close();
    }

    void EmitRunBody(CodeWriter w)
    {
        w.Line($"global::System.Span<byte> arena = _arena.Span;");
        w.Line($"global::System.Span<byte> scratch = _scratch.Span;");
        if (_options.Profile && _graph.Nodes.Count > 0) LayerProfileEmitter.EmitStart(w);
        int layer = 0;
        foreach (var node in _graph.Nodes)
        {
            w.Line();
            w.Line($"// {Literals.Comment(node.OpType)} '{Literals.Comment(node.Name)}': {Literals.Comment(Describe(node))}");
            foreach (var note in node.Annotations) w.Line($"//   {Literals.Comment(note.Key)}: {Literals.Comment(Convert.ToString(note.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "")}");
            var lowering = _registry.Find(node)!;
            var op = new OpContext(node);
            for (int i = 0; i < node.Inputs.Count; i++)
                if (node.Inputs[i] is { } input && lowering.ReadsInputAtRunTime(op, i)) Declare(w, input);
            foreach (var output in node.Outputs) Declare(w, output);
            var context = new EmitContext(this, node, new CodeWriter());
            lowering.Emit(op, context);
            w.Open("");
            w.Append(context.Writer);
            w.Close();
            if (_options.Profile) LayerProfileEmitter.EmitStamp(w, layer);
            layer++;
            _scratchBytes = Math.Max(_scratchBytes, context.ScratchBytes);
        }
        // Outputs that no node writes: constants, graph inputs, or a value listed twice.
        for (int i = 0; i < _graph.Outputs.Count; i++)
        {
            var output = _graph.Outputs[i];
            string target = _parameterNames[_graph.Inputs.Count + i];
            if (_names.TryGetValue(output, out var source) && source == target) continue;
            Declare(w, output);
            w.Line($"{_names[output]}.CopyTo({target});");
        }
    }

    void Declare(CodeWriter w, Value v)
    {
        if (_names.ContainsKey(v) && (_declared.Contains(v) || v.IsGraphInput || v.IsGraphOutput && v.Producer is not null && v.Constant is null)) return;
        string type = DataTypes.CSharpName(v.Type);
        if (v.Constant is not null)
        {
            string field = $"c{_constants.Count}";
            _constants.Add(v);
            _names[v] = field;
            w.Line($"global::System.ReadOnlySpan<{type}> {field} = Constants.{field};");
        }
        else
        {
            string name = $"t{_declared.Count}";
            _names[v] = name;
            if (!_plan.Offsets.TryGetValue(v, out long offset))
                throw new InvalidOperationException($"value '{v.Name}' has no arena slot");
            w.Line($"global::System.Span<{type}> {name} = {EmitContext.Kernels}.Arena.Slice<{type}>(arena, {offset}, {v.BufferLength}); // {Literals.Comment(v.Name)}");
        }
        _declared.Add(v);
    }

    static void CheckLength(CodeWriter w, Value v, string parameter, string role)
    {
        string length = RawEncoding.IsRaw(v.Type) ? $"{v.BufferLength} raw bytes ({v.ElementCount} elements, ": $"{v.ElementCount} elements (";
        w.Line($"if ({parameter}.Length != {v.BufferLength}) throw new global::System.ArgumentException(" +
               $"{Literals.String($"{role} '{v.Name}' must have {length}shape {Literals.Shape(v.Shape!)}, {v.Type}) but has ")} + {parameter}.Length, nameof({parameter}));");
    }

    /// <summary>An input whose value was fixed at compile time must carry that value at run time.</summary>
    void CheckFixedValue(CodeWriter w, Value input, string parameter, Tensor value)
    {
        string field = $"c{_constants.Count}";
        _constants.Add(input);
        w.Line($"if (!global::System.MemoryExtensions.SequenceEqual({parameter}, Constants.{field})) throw new global::System.ArgumentException(" +
               $"{Literals.String($"input '{input.Name}' was fixed when the model was compiled and must equal that value")}, nameof({parameter}));");
    }

    static string Describe(Node node) =>
        string.Join(", ", node.Inputs.Select(v => v is null ? "-" : $"{v.Type}{Literals.Shape(v.Shape!)}")) + " -> " +
        string.Join(", ", node.Outputs.Select(v => $"{v.Type}{Literals.Shape(v.Shape!)}"));

    void EmitHeader(CodeWriter w)
    {
        w.Line("// <auto-generated>");
        w.Line($"//   Generated by AotInfer {ModelCompiler.Version} from {Literals.Comment(_options.ModelFileName)}.");
        w.Line($"//   Model SHA-256 {_facts.Sha256}; producer {Literals.Comment(_facts.Producer)}; IR version {_facts.IrVersion}; opsets {Literals.Comment(_facts.Opsets)}.");
        w.Line($"//   {_graph.Nodes.Count} nodes at run time; arena {_plan.TotalBytes} bytes (unshared {_plan.UnsharedBytes}).");
        w.Line("//   Do not edit: changes are lost when the model is compiled again.");
        w.Line("// </auto-generated>");
        w.Line("#nullable enable");
        w.Line("#pragma warning disable CS1591 // generated members are documented through ModelInfo");
        w.Line();
    }

    void EmitClassDoc(CodeWriter w)
    {
        w.Line($"/// <summary>Inference for {Literals.Xml(_options.ModelFileName)}: {Literals.Xml(string.Join(", ", _graph.Inputs.Select(v => v.ToString())))} to {Literals.Xml(string.Join(", ", _graph.Outputs.Select(v => v.ToString())))}.</summary>");
        w.Line("/// <remarks>");
        w.Line("/// Weights are static read-only data shared by all instances. An instance owns its intermediate buffers, so one");
        w.Line("/// instance must not run on two threads at once; use one instance per thread. <see cref=\"Run\"/> allocates nothing.");
        w.Line("/// </remarks>");
    }

    void EmitMetadata(CodeWriter w)
    {
        string Info(Value v) => $"new {EmitContext.Kernels}.TensorInfo({Literals.String(v.Name)}, {Literals.String(v.Type.ToString())}, new int[] {{ {Literals.Ints(v.Shape!)} }}{(_graph.Batched.Contains(v) ? ", Batched: true" : "")}{(RawEncoding.IsRaw(v.Type) ? $", RawBits: {RawEncoding.BitsPerElement(v.Type)}" : "")})";
        w.Line("/// <summary>Names, element types and shapes of the inputs and outputs, and where the model came from.</summary>");
        w.Line($"public static {EmitContext.Kernels}.ModelInfo ModelInfo {{ get; }} = new {EmitContext.Kernels}.ModelInfo(");
        w.Line($"    {Literals.String(_options.ModelFileName)}, {Literals.String(_facts.Sha256)}, {Literals.String(_facts.Producer)}, {Literals.String(_facts.Opsets)},");
        w.Line($"    new {EmitContext.Kernels}.TensorInfo[] {{ {string.Join(", ", _graph.Inputs.Select(Info))} }},");
        w.Line($"    new {EmitContext.Kernels}.TensorInfo[] {{ {string.Join(", ", _graph.Outputs.Select(Info))} }});");
        w.Line();
        w.Line($"{EmitContext.Kernels}.ModelInfo {EmitContext.Kernels}.IGeneratedModel.Info => ModelInfo;");
        w.Line();
    }

    void EmitRunSignature(CodeWriter w, string access, string name)
    {
        var parameters = new List<string>();
        for (int i = 0; i < _graph.Inputs.Count; i++)
            parameters.Add($"global::System.ReadOnlySpan<{DataTypes.CSharpName(_graph.Inputs[i].Type)}> {_parameterNames[i]}");
        for (int i = 0; i < _graph.Outputs.Count; i++)
            parameters.Add($"global::System.Span<{DataTypes.CSharpName(_graph.Outputs[i].Type)}> {_parameterNames[_graph.Inputs.Count + i]}");
        if (name == "Run")
        {
            w.Line(_graph.BatchDimension is null
                ? "/// <summary>Runs the model: reads the inputs, writes every element of the outputs.</summary>"
                : $"/// <summary>Runs the model on any number of samples (the batch dimension '{Literals.Xml(_graph.BatchDimension)}' is chosen by the lengths given).</summary>");
            w.Line("/// <exception cref=\"global::System.ArgumentException\">An input or output has the wrong number of elements.</exception>");
        }
        else w.Line("/// <summary>Runs the one-sample graph.</summary>");
        w.Open($"{access} void {name}({string.Join(", ", parameters)})");
    }

    void EmitArrayRun(CodeWriter w)
    {
        w.Open($"void {EmitContext.Kernels}.IGeneratedModel.Run(global::System.Array[] inputs, global::System.Array[] outputs)");
        w.Line($"{EmitContext.Kernels}.ModelInfo.CheckCounts(ModelInfo, inputs, outputs);");
        var args = new List<string>();
        for (int i = 0; i < _graph.Inputs.Count; i++) args.Add($"({DataTypes.CSharpName(_graph.Inputs[i].Type)}[])inputs[{i}]");
        for (int i = 0; i < _graph.Outputs.Count; i++) args.Add($"({DataTypes.CSharpName(_graph.Outputs[i].Type)}[])outputs[{i}]");
        w.Line($"Run({string.Join(", ", args)});");
        w.Close();
    }

    void EmitConstants(CodeWriter w)
    {
        w.Line("/// <summary>Constant tensors, stored as base64 UTF-8 data in the assembly and decoded once.</summary>");
        w.Open("static class Constants");
        for (int i = 0; i < _constants.Count; i++)
        {
            var c = _constants[i].Constant!;
            string type = DataTypes.CSharpName(c.Type);
            w.Line($"// {Literals.Comment(_constants[i].Name)}: {c.Type}{Literals.Shape(c.Shape)}");
            w.Line($"internal static readonly {type}[] c{i} = {WeightEncoder.Initializer(c, _columnLayouts.TryGetValue(_constants[i], out var columns) ? columns : null, out long bytes)};");
            ConstantBytes += bytes;
        }
        w.Close();
    }
}

/// <summary>Facts about the model file for the provenance header and metadata.</summary>
/// <param name="Sha256">Hex SHA-256 of the model bytes.</param>
/// <param name="Producer">Producer name and version.</param>
/// <param name="IrVersion">ONNX IR version.</param>
/// <param name="Opsets">Imported opsets, e.g. <c>ai.onnx 13</c>.</param>
public sealed record ModelFacts(string Sha256, string Producer, long IrVersion, string Opsets);
