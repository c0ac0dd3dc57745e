using System;
using System.Diagnostics;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Compiler;

/// <summary>
/// Enforces the limits of <see cref="CompileOptions"/> during one compilation (node count, constant bytes, nested
/// graph depth, time, cancellation), so that a huge or hostile model ends in an AOTI0009 diagnostic instead of
/// exhausting memory or hanging the IDE that runs the source generator.
/// </summary>
public sealed class CompileBudget
{
    readonly CompileOptions _options;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    long _constantBytes;

    /// <summary>Starts the clock for a compilation with <paramref name="options"/>.</summary>
    public CompileBudget(CompileOptions options) => _options = options;

    /// <summary>Bytes of constants (initializers and folded values) so far.</summary>
    public long ConstantBytes => _constantBytes;

    /// <summary>Checks the node count and the nesting of subgraphs (If/Loop/Scan bodies) of a parsed model.</summary>
    public void CheckModel(ModelProto model)
    {
        int nodes = CountNodes(model.Graph, 1);
        if (nodes > _options.MaxNodeCount)
            throw Exceeded($"the model has {nodes} nodes (subgraphs included), over the limit of {_options.MaxNodeCount} (CompileOptions.MaxNodeCount)");
    }

    /// <summary>Adds the bytes of a constant tensor; throws when the total passes <see cref="CompileOptions.MaxConstantBytes"/>.</summary>
    public long AddConstant(int elementCount, DataType type, string what)
    {
        long bytes = (long)elementCount * Math.Max(1, DataTypes.SizeOf(type));
        _constantBytes += bytes;
        if (_constantBytes > _options.MaxConstantBytes)
            throw Exceeded($"{what} brings the model's constants to {_constantBytes} bytes, over the limit of {_options.MaxConstantBytes} (CompileOptions.MaxConstantBytes)");
        return bytes;
    }

    /// <summary>Gives back bytes charged by <see cref="AddConstant"/> for a value that did not become a constant after all.</summary>
    public void Release(long bytes) => _constantBytes -= bytes;

    /// <summary>Throws when the time budget is spent or the caller cancelled.</summary>
    public void CheckTime(string stage)
    {
        _options.CancellationToken.ThrowIfCancellationRequested();
        if (_clock.Elapsed > _options.TimeBudget)
            throw Exceeded($"compiling took more than {_options.TimeBudget.TotalSeconds:F0} s (stopped at {stage}; CompileOptions.TimeBudget)");
    }

    int CountNodes(GraphProto? graph, int depth)
    {
        if (graph is null) return 0;
        if (depth > _options.MaxGraphNesting)
            throw Exceeded($"graph '{graph.Name}' is nested {depth} levels deep in node attributes, over the limit of {_options.MaxGraphNesting} (CompileOptions.MaxGraphNesting)");
        int count = graph.Node.Count;
        foreach (var node in graph.Node)
            foreach (var attribute in node.Attribute)
            {
                count += CountNodes(attribute.G, depth + 1);
                foreach (var g in attribute.Graphs) count += CountNodes(g, depth + 1);
            }
        return count;
    }

    static UnsupportedModelException Exceeded(string message) => new(message, DiagnosticIds.CompileBudgetExceeded);
}
