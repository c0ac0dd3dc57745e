using System.Collections.Generic;

namespace AotInfer.Compiler;

/// <summary>Diagnostic IDs shared by the compiler, the CLI and the source generator (documented in docs/diagnostics.md).</summary>
public static class DiagnosticIds
{
    /// <summary>The model file cannot be read or is not valid ONNX.</summary>
    public const string InvalidModel = "AOTI0001";
    /// <summary>A node uses an operator (domain, type, opset) that AotInfer does not implement.</summary>
    public const string UnsupportedOperator = "AOTI0002";
    /// <summary>A symbolic dimension has no value: pin it.</summary>
    public const string UnpinnedDimension = "AOTI0003";
    /// <summary>A supported operator is used with an attribute, input or shape combination that is not supported.</summary>
    public const string UnsupportedFeature = "AOTI0004";
    /// <summary>An element type that generated code cannot hold (string, complex, float8 at run time...).</summary>
    public const string UnsupportedType = "AOTI0005";
    /// <summary>An internal compiler error: always a bug.</summary>
    public const string InternalError = "AOTI0006";
    /// <summary>Generator options (class name, namespace, pinned dims) are invalid.</summary>
    public const string InvalidOptions = "AOTI0007";
    /// <summary>An input that decides shapes (a shape, axes, pads…) is computed at run time; it must be known when compiling.</summary>
    public const string ValueNotConstant = "AOTI0008";
    /// <summary>The model passes a compile budget (constant bytes, node count, subgraph nesting, time): see <see cref="CompileOptions"/>.</summary>
    public const string CompileBudgetExceeded = "AOTI0009";
}

/// <summary>Severity of a <see cref="CompileDiagnostic"/>.</summary>
public enum DiagnosticSeverity
{
    /// <summary>Informational.</summary>
    Info,
    /// <summary>A warning; code is still generated.</summary>
    Warning,
    /// <summary>An error; no code is generated.</summary>
    Error,
}

/// <summary>One problem found while compiling a model.</summary>
/// <param name="Id">The <c>AOTI####</c> ID.</param>
/// <param name="Severity">How bad it is.</param>
/// <param name="Message">What is wrong, naming node, op and field.</param>
/// <param name="NodeName">The node concerned, if any.</param>
/// <param name="OpType">The node's operator, if any.</param>
public sealed record CompileDiagnostic(string Id, DiagnosticSeverity Severity, string Message, string? NodeName = null, string? OpType = null)
{
    /// <summary>One-line form: <c>AOTI0002 error: ...</c>.</summary>
    public override string ToString() => $"{Id} {Severity.ToString().ToLowerInvariant()}: {Message}";
}

/// <summary>Collects diagnostics; compilation continues after errors where it can so that all are reported at once.</summary>
public sealed class DiagnosticBag
{
    readonly List<CompileDiagnostic> _items = new();

    /// <summary>All diagnostics so far.</summary>
    public IReadOnlyList<CompileDiagnostic> Items => _items;

    /// <summary>True when an error was reported.</summary>
    public bool HasErrors => _items.Exists(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Adds an error.</summary>
    public void Error(string id, string message, IR.Node? node = null) =>
        _items.Add(new CompileDiagnostic(id, DiagnosticSeverity.Error, message, node?.Name, node?.OpType));

    /// <summary>Adds an informational note.</summary>
    public void Info(string id, string message, IR.Node? node = null) =>
        _items.Add(new CompileDiagnostic(id, DiagnosticSeverity.Info, message, node?.Name, node?.OpType));
}
