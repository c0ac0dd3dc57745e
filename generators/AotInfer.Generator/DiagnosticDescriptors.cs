using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace AotInfer.Generator;

/// <summary>
/// One descriptor per AOTI ID (documented in docs/diagnostics.md, tracked in AnalyzerReleases.*.md).
/// AOTI0001–AOTI0099 are the compiler core's (shared with the CLI); AOTI0101–AOTI0199 are the generator's own.
/// Every message is the full text built by whoever reports it, so each descriptor's format is <c>{0}</c>.
/// </summary>
internal static class DiagnosticDescriptors
{
    const string Category = "AotInfer";

    /// <summary>AOTI0001: the model is not valid ONNX.</summary>
    public static readonly DiagnosticDescriptor InvalidModel = Error("AOTI0001", "The model is not valid ONNX");

    /// <summary>AOTI0002: an operator is not supported.</summary>
    public static readonly DiagnosticDescriptor UnsupportedOperator = Error("AOTI0002", "The model uses an operator AotInfer does not support");

    /// <summary>AOTI0003: a symbolic dimension has no value.</summary>
    public static readonly DiagnosticDescriptor UnpinnedDimension = Error("AOTI0003", "A symbolic dimension must be pinned");

    /// <summary>AOTI0004: a supported operator is used in an unsupported way.</summary>
    public static readonly DiagnosticDescriptor UnsupportedFeature = Error("AOTI0004", "An operator attribute, input or shape combination is not supported");

    /// <summary>AOTI0005: an element type generated code cannot hold.</summary>
    public static readonly DiagnosticDescriptor UnsupportedType = Error("AOTI0005", "An element type is not supported at run time");

    /// <summary>AOTI0006: an internal error (a bug).</summary>
    public static readonly DiagnosticDescriptor InternalError = Error("AOTI0006", "Internal error in AotInfer");

    /// <summary>AOTI0007: invalid options (pinned dimensions).</summary>
    public static readonly DiagnosticDescriptor InvalidOptions = Error("AOTI0007", "Invalid AotInfer options");

    /// <summary>AOTI0008: an input that decides shapes is only known at run time.</summary>
    public static readonly DiagnosticDescriptor ValueNotConstant = Error("AOTI0008", "An input that decides shapes must be known when compiling");

    /// <summary>AOTI0009: the model passes a compile budget (constant bytes, node count, subgraph nesting, time).</summary>
    public static readonly DiagnosticDescriptor CompileBudgetExceeded = Error("AOTI0009", "The model is too large or too slow to compile");

    /// <summary>AOTI0101: the model file cannot be read.</summary>
    public static readonly DiagnosticDescriptor ModelFileUnreadable = Error("AOTI0101", "The model file cannot be read");

    /// <summary>AOTI0102: the class name or namespace is not a valid C# name.</summary>
    public static readonly DiagnosticDescriptor InvalidClassName = Error("AOTI0102", "Invalid class name or namespace for a generated model");

    /// <summary>AOTI0103: the attribute's path matches no AdditionalFiles item.</summary>
    public static readonly DiagnosticDescriptor ModelNotInAdditionalFiles = Error("AOTI0103", "The model file is not an AdditionalFiles item");

    /// <summary>AOTI0104: the class carrying the attribute cannot receive generated members.</summary>
    public static readonly DiagnosticDescriptor ClassNotPartial = Error("AOTI0104", "The class must be a top-level, non-generic, non-static partial class");

    /// <summary>AOTI0105: the attribute's path matches several AdditionalFiles items.</summary>
    public static readonly DiagnosticDescriptor AmbiguousModelPath = Error("AOTI0105", "The model path matches several AdditionalFiles items");

    /// <summary>AOTI0106: two models generate the same class.</summary>
    public static readonly DiagnosticDescriptor DuplicateClass = Error("AOTI0106", "Two models generate the same class");

    static readonly Dictionary<string, DiagnosticDescriptor> ById = new()
    {
        [InvalidModel.Id] = InvalidModel,
        [UnsupportedOperator.Id] = UnsupportedOperator,
        [UnpinnedDimension.Id] = UnpinnedDimension,
        [UnsupportedFeature.Id] = UnsupportedFeature,
        [UnsupportedType.Id] = UnsupportedType,
        [InternalError.Id] = InternalError,
        [InvalidOptions.Id] = InvalidOptions,
        [ValueNotConstant.Id] = ValueNotConstant,
        [CompileBudgetExceeded.Id] = CompileBudgetExceeded,
        [ModelFileUnreadable.Id] = ModelFileUnreadable,
        [InvalidClassName.Id] = InvalidClassName,
        [ModelNotInAdditionalFiles.Id] = ModelNotInAdditionalFiles,
        [ClassNotPartial.Id] = ClassNotPartial,
        [AmbiguousModelPath.Id] = AmbiguousModelPath,
        [DuplicateClass.Id] = DuplicateClass,
    };

    /// <summary>The descriptor for an ID; unknown IDs (a compiler newer than this table) map to AOTI0006 so nothing is lost.</summary>
    public static DiagnosticDescriptor For(string id) => ById.TryGetValue(id, out var d) ? d : InternalError;

    static DiagnosticDescriptor Error(string id, string title) =>
        new(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
