using System;

namespace AotInfer.Compiler;

/// <summary>
/// Raised by op lowerings and passes when a node uses something the compiler does not support (or that breaks the
/// ONNX spec). The compiler turns it into a diagnostic naming the node; it never escapes <see cref="ModelCompiler"/>.
/// </summary>
public sealed class UnsupportedModelException : Exception
{
    /// <summary>Creates the exception with a message naming the problem.</summary>
    public UnsupportedModelException(string message, string id = DiagnosticIds.UnsupportedFeature) : base(message) => Id = id;

    /// <summary>The diagnostic ID to report.</summary>
    public string Id { get; }
}
