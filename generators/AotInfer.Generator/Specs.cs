using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace AotInfer.Generator;

/// <summary>Which way a model was declared.</summary>
internal enum FrontDoor
{
    /// <summary>An <c>AdditionalFiles</c> item with <c>AotInfer*</c> metadata (or an <c>.onnx</c> item with defaults).</summary>
    Metadata,
    /// <summary>An <c>[AotInfer.OnnxModel("...")]</c> attribute on a partial class.</summary>
    Attribute,
}

/// <summary>
/// The root spec: everything the output step needs to compile one model and nothing it could not compare.
/// Incremental generators cache a step by comparing its value with the previous run's, so every spec here is a
/// record of strings, numbers and equatable arrays: no <see cref="ISymbol"/>, no syntax node, no <c>byte[]</c>
/// (which compares by reference and would pin the model in memory). The model's content is represented by its
/// SHA-256, so an edited model file changes the spec and a rebuilt but identical one does not; the output step
/// reads the bytes again when it compiles.
/// </summary>
/// <param name="FrontDoor">How the model was declared.</param>
/// <param name="ModelPath">Full path of the model file.</param>
/// <param name="DisplayPath">The path to show in messages (relative to the project when inside it).</param>
/// <param name="ContentHash">Hex SHA-256 of the model bytes when they were read.</param>
/// <param name="ClassName">Name of the generated class.</param>
/// <param name="Namespace">Namespace of the generated class; empty for the global namespace.</param>
/// <param name="Modifiers">Modifiers written on the generated part (empty for the attribute form: the user's part decides).</param>
/// <param name="Dimensions">Values for symbolic dimensions.</param>
/// <param name="Location">Where diagnostics point (the attribute), or null for the metadata form.</param>
/// <param name="Problems">Problems found before compilation; any of them stops it.</param>
/// <param name="Threads">Threads the generated Run may use (<c>AotInferThreads</c>; 1 by default, 0 = one per processor).</param>
/// <param name="Sparse">The <c>AotInferSparse</c> choice of dense or sparse kernels for constant weights.</param>
internal sealed record ModelJobSpec(
    FrontDoor FrontDoor,
    string ModelPath,
    string DisplayPath,
    string ContentHash,
    string ClassName,
    string Namespace,
    string Modifiers,
    EquatableArray<DimensionPin> Dimensions,
    LocationSpec? Location,
    EquatableArray<ProblemSpec> Problems,
    int Threads = 1,
    Compiler.SparseMode Sparse = Compiler.SparseMode.Auto)
{
    /// <summary>The class's full name.</summary>
    public string FullClassName => (Namespace.Length > 0 ? Namespace + "." : "") + ClassName;

    /// <summary>The name of the generated file: unique per class.</summary>
    public string HintName => FullClassName + ".g.cs";

    /// <summary>What tells this job apart from another declaring the same class.</summary>
    public ClassClaim Claim => new(FullClassName, FrontDoor + "|" + ModelPath + "|" + Location, DisplayPath);
}

/// <summary>A job's claim on a class name, to find two models that would generate the same class.</summary>
/// <param name="FullClassName">Namespace and class name.</param>
/// <param name="JobKey">Identifies the job (front door, model, location).</param>
/// <param name="DisplayPath">The model's path for messages.</param>
internal sealed record ClassClaim(string FullClassName, string JobKey, string DisplayPath = "")
{
    /// <summary>Compares name and job only.</summary>
    public bool IsSameJob(ClassClaim other) => FullClassName == other.FullClassName && JobKey == other.JobKey;
}

/// <summary>One <c>AdditionalFiles</c> item that is a model: its path, content hash and AotInfer metadata.</summary>
/// <param name="Path">Full path.</param>
/// <param name="ContentHash">Hex SHA-256 of the bytes, or empty when they could not be read.</param>
/// <param name="ReadError">Why the bytes could not be read, or null.</param>
/// <param name="ClassName">The <c>AotInferClass</c> metadata (empty when absent).</param>
/// <param name="Namespace">The <c>AotInferNamespace</c> metadata (empty when absent).</param>
/// <param name="Dimensions">The <c>AotInferDims</c> metadata (empty when absent).</param>
/// <param name="Threads">The <c>AotInferThreads</c> metadata (empty when absent).</param>
/// <param name="Sparse">The <c>AotInferSparse</c> metadata (empty when absent).</param>
internal sealed record ModelFileSpec(string Path, string ContentHash, string? ReadError, string ClassName, string Namespace, string Dimensions, string Threads = "", string Sparse = "");

/// <summary>A class carrying <c>[OnnxModel]</c>, with what was wrong with its declaration.</summary>
/// <param name="ClassName">The class name.</param>
/// <param name="Namespace">Its namespace; empty for the global namespace.</param>
/// <param name="ModelPath">The path given to the attribute.</param>
/// <param name="Dimensions">The attribute's <c>Dims</c>.</param>
/// <param name="Location">The attribute's location.</param>
/// <param name="Problems">Problems with the declaration (not partial, nested, ...).</param>
/// <param name="Threads">The attribute's <c>Threads</c> (1 when absent).</param>
internal sealed record AttributeModelSpec(string ClassName, string Namespace, string ModelPath, string Dimensions, LocationSpec Location, EquatableArray<ProblemSpec> Problems, int Threads = 1);

/// <summary>Project-wide settings read from MSBuild properties.</summary>
/// <param name="RootNamespace">The project's <c>RootNamespace</c> (empty when not visible).</param>
/// <param name="ProjectDirectory">The project folder (empty when not visible).</param>
internal sealed record ProjectOptionsSpec(string RootNamespace, string ProjectDirectory);

/// <summary>A pinned symbolic dimension, e.g. <c>batch=1</c>.</summary>
/// <param name="Name">The <c>dim_param</c> name.</param>
/// <param name="Value">Its value.</param>
internal sealed record DimensionPin(string Name, int Value);

/// <summary>A problem found while parsing: an AOTI ID, the message, and where it points.</summary>
/// <param name="Id">The <c>AOTI####</c> ID.</param>
/// <param name="Message">The full message.</param>
/// <param name="Location">Where it points, or null.</param>
internal sealed record ProblemSpec(string Id, string Message, LocationSpec? Location);

/// <summary>
/// A copy of a source location (file path and spans): <see cref="Microsoft.CodeAnalysis.Location"/> holds its syntax
/// tree, which must not be kept in a cached step.
/// </summary>
/// <param name="FilePath">The file.</param>
/// <param name="Span">Character span.</param>
/// <param name="LineSpan">Line and column span.</param>
internal sealed record LocationSpec(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    /// <summary>Copies a location (null for locations outside source files).</summary>
    public static LocationSpec? From(Location? location) =>
        location is null || location.SourceTree is null ? null
            : new LocationSpec(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    /// <summary>A location for a diagnostic.</summary>
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>An immutable array that compares by its elements, for use in cached pipeline values.</summary>
/// <typeparam name="T">An equatable element type.</typeparam>
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    readonly T[]? _items;

    /// <summary>Wraps <paramref name="items"/> (not copied: callers hand over ownership).</summary>
    public EquatableArray(T[] items) => _items = items;

    /// <summary>The empty array.</summary>
    public static EquatableArray<T> Empty => new(Array.Empty<T>());

    /// <inheritdoc/>
    public int Count => _items?.Length ?? 0;

    /// <inheritdoc/>
    public T this[int index] => _items![index];

    /// <inheritdoc/>
    public bool Equals(EquatableArray<T> other) =>
        (_items ?? Array.Empty<T>()).SequenceEqual(other._items ?? Array.Empty<T>());

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        int hash = 17;
        foreach (var item in this) hash = hash * 31 + (item?.GetHashCode() ?? 0);
        return hash;
    }

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? Array.Empty<T>())).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Compares by elements.</summary>
    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

    /// <summary>Compares by elements.</summary>
    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);
}

/// <summary>Helpers to build <see cref="EquatableArray{T}"/>.</summary>
internal static class EquatableArray
{
    /// <summary>Copies a sequence into an equatable array.</summary>
    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items) where T : IEquatable<T> => new(items.ToArray());
}
