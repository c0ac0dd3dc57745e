using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Import;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Compiler.Passes;
using AotInfer.Compiler.Passes.Qdq;
using AotInfer.Compiler.Planning;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Compiler;

/// <summary>The compiler: ONNX bytes in, C# source (or diagnostics) out. Used by the generator, the CLI and the tests.</summary>
public static class ModelCompiler
{
    /// <summary>Version written into the provenance header.</summary>
    public const string Version = "0.1.0";

    /// <summary>Compiles model bytes. Never throws (except <see cref="OperationCanceledException"/> when <see cref="CompileOptions.CancellationToken"/> is cancelled): every problem becomes a diagnostic.</summary>
    public static CompileResult Compile(byte[] modelBytes, CompileOptions options)
    {
        var diagnostics = new DiagnosticBag();
        try
        {
            var budget = new CompileBudget(options);
            var model = OnnxModelLoader.Parse(modelBytes, options.ModelFileName);
            budget.CheckModel(model);
            return Compile(model, Sha256(modelBytes), options, budget, diagnostics);
        }
        catch (InvalidModelException e)
        {
            diagnostics.Error(DiagnosticIds.InvalidModel, $"{options.ModelFileName}: {e.Message}");
        }
        catch (UnsupportedModelException e)
        {
            diagnostics.Error(e.Id, $"{options.ModelFileName}: {e.Message}");
        }
        catch (OperationCanceledException) when (options.CancellationToken.IsCancellationRequested)
        {
            throw; // the caller (the source generator) asked to stop: the one exception Compile lets out
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            diagnostics.Error(DiagnosticIds.InternalError, $"{options.ModelFileName}: internal compiler error (a bug in AotInfer): {e.GetType().Name}: {e.Message}");
        }
        return new CompileResult(null, diagnostics.Items, null);
    }

    static CompileResult Compile(ModelProto model, string sha256, CompileOptions options, CompileBudget budget, DiagnosticBag diagnostics)
    {
        var registry = OpRegistry.Default;
        var graph = GraphImporter.Import(model, options, diagnostics);
        if (graph is null) return new CompileResult(null, diagnostics.Items, null);
        foreach (var v in graph.Values.Values)
            if (v.Constant is { } constant) budget.AddConstant(constant.Length, constant.Type, $"initializer '{v.Name}'");
        budget.CheckTime("import");

        // Every unsupported op at once, before inference stops at the first unknown shape.
        foreach (var node in graph.Nodes.Where(n => registry.Find(n) is null))
            diagnostics.Error(DiagnosticIds.UnsupportedOperator,
                $"node {node}: operator {(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType} (opset {node.Opset}) is not supported", node);
        if (diagnostics.HasErrors) return new CompileResult(null, diagnostics.Items, graph);

        // Shape inference folds DequantizeLinear of constant weights into float constants; QDQ lowering needs the integers.
        var foldedDequantize = QdqLowering.RememberConstantDequantize(graph);
        if (!ShapeInference.Run(graph, registry, diagnostics, budget)) return new CompileResult(null, diagnostics.Items, graph);
        GraphCleanup.RemovePassThrough(graph);
        QdqLowering.Run(graph, registry, foldedDequantize);
        GraphCleanup.RemoveDeadNodes(graph);
        if (options.Fuse)
        {
            // Order matters: Conv+BN+Relu, MatMul+Add+Relu, Conv+Add(shortcut)+Relu and quantize_dynamic's chain + Relu
            // each become one kernel call.
            BatchNormFolding.Run(graph);
            BatchNormForwardFolding.Run(graph);
            DynamicQuantizationFusion.Run(graph, registry);
            BiasFusion.Run(graph);
            ResidualFusion.Run(graph);
            ActivationFusion.Run(graph);
        }
        // After fusion: the sparse product replaces only the matrix product; the fused epilogue still follows it.
        SparseWeightSelection.Run(graph, options.Sparse);
        // After the sparse choice: only the dense kernels pool their output tiles.
        if (options.Fuse) MaxPoolFusion.Run(graph);
        // After the kernel choice and fusion: chains of depthwise and 1×1 convolutions keep NCHW16c between them.
        Nchw16cLayout.Run(graph);
        if (graph.BatchDimension is { } batchName)
        {
            if (BatchSeparability.Analyze(graph, out var batched) is { } problem)
                diagnostics.Error(DiagnosticIds.UnpinnedDimension,
                    $"the inputs' first dimension '{batchName}' is symbolic; it can stay a run-time batch size only when no node mixes samples, but {problem}; pin it (AotInferDims=\"{batchName}=1\" item metadata or the attribute's Dims)");
            else graph.Batched = batched;
        }
        CheckRunTimeTypes(graph, registry, diagnostics);
        if (diagnostics.HasErrors) return new CompileResult(null, diagnostics.Items, graph);

        budget.CheckTime("code generation");
        var plan = LivenessArenaPlanner.Plan(graph.Nodes);
        var facts = new ModelFacts(sha256,
            (model.ProducerName + " " + model.ProducerVersion).Trim(),
            model.IrVersion,
            string.Join(", ", model.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}")));
        try
        {
            var emitter = new ModelEmitter(graph, plan, options, facts, registry);
            string source = emitter.Emit();
            return new CompileResult(source, diagnostics.Items, graph) { Arena = plan, ScratchBytes = emitter.ScratchBytes, ConstantBytes = emitter.ConstantBytes };
        }
        catch (UnsupportedModelException e)
        {
            diagnostics.Error(e.Id, e.Message);
            return new CompileResult(null, diagnostics.Items, graph);
        }
    }

    /// <summary>
    /// Every tensor generated code holds must have a run-time element type. Raw tensors (float8, float4, 4/2-bit
    /// integers) are byte spans of packed elements that only ops built for them may read or write.
    /// </summary>
    static void CheckRunTimeTypes(Graph graph, OpRegistry registry, DiagnosticBag diagnostics)
    {
        foreach (var node in graph.Nodes)
        {
            var lowering = registry.Find(node)!;
            var op = new OpContext(node);
            bool RawAllowed(Value v, int inputIndex) => RawEncoding.IsRaw(v.Type)
                && (lowering.HandlesRawElements || inputIndex >= 0 && !lowering.ReadsInputAtRunTime(op, inputIndex));
            var problem = node.Inputs.Select((v, i) => (v: v, i: i)).Concat(node.Outputs.Select(v => (v: (Value?)v, i: -1)))
                .FirstOrDefault(p => p.v is not null && !DataTypes.IsSupportedAtRunTime(p.v.Type) && !RawAllowed(p.v, p.i)).v;
            if (problem is null) continue;
            diagnostics.Error(DiagnosticIds.UnsupportedType, RawEncoding.IsRaw(problem.Type)
                ? $"node {node}: tensor '{problem.Name}' has element type {problem.Type}, which generated code holds only as raw bytes for QuantizeLinear, DequantizeLinear, Cast and CastLike, not for {node.OpType}"
                : $"node {node}: tensor '{problem.Name}' has element type {problem.Type}, which generated code cannot hold at run time", node);
        }
        foreach (var v in graph.Inputs.Concat(graph.Outputs))
        {
            if (!DataTypes.IsSupportedAtRunTime(v.Type) && !RawEncoding.IsRaw(v.Type))
                diagnostics.Error(DiagnosticIds.UnsupportedType, $"graph input/output '{v.Name}' has element type {v.Type}, which generated code cannot hold");
            else if (graph.Batched.Contains(v) && RawEncoding.BitsPerElement(v.Type) is 4 or 2)
                diagnostics.Error(DiagnosticIds.UnsupportedType, $"graph input/output '{v.Name}' packs several {v.Type} elements per byte, so it cannot have a run-time batch dimension; pin it");
        }
    }

    static string Sha256(byte[] bytes)
    {
        using var sha = System.Security.Cryptography.SHA256.Create();
        return string.Concat(sha.ComputeHash(bytes).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }
}

/// <summary>The outcome of one compilation.</summary>
/// <param name="Source">The generated C# file, or null when errors prevented it.</param>
/// <param name="Diagnostics">Everything reported.</param>
/// <param name="Graph">The optimised graph (for <c>inspect</c>), when import succeeded.</param>
public sealed record CompileResult(string? Source, IReadOnlyList<CompileDiagnostic> Diagnostics, Graph? Graph)
{
    /// <summary>The arena plan, when code was generated.</summary>
    public ArenaPlan? Arena { get; init; }

    /// <summary>Scratch bytes, when code was generated.</summary>
    public int ScratchBytes { get; init; }

    /// <summary>
    /// Bytes of the constants (weights, biases, …) the generated class stores, as encoded (palettes and indices where
    /// they are smaller), when code was generated: what the weights add to the compiled assembly.
    /// </summary>
    public long ConstantBytes { get; init; }

    /// <summary>True when code was generated.</summary>
    public bool Success => Source is not null;
}
