extern alias GeneratorAssembly;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using OnnxModelGenerator = GeneratorAssembly::AotInfer.Generator.OnnxModelGenerator;

namespace AotInfer.Tests.Generator;

/// <summary>
/// A consuming project for the generator, in memory: C# sources, <c>AdditionalFiles</c> items (with AotInfer
/// metadata) whose files live in a temporary project folder, and the MSBuild properties the props file exposes.
/// <see cref="Run"/> drives the real <see cref="OnnxModelGenerator"/> through a <see cref="CSharpGeneratorDriver"/>.
/// </summary>
public sealed class GeneratorProject : IDisposable
{
    readonly List<(AdditionalText Text, Dictionary<string, string> Metadata)> _additionalFiles = new();
    readonly List<string> _sources = new();

    /// <summary>A project in a fresh temporary folder.</summary>
    public GeneratorProject(string rootNamespace = "Test.App")
    {
        RootNamespace = rootNamespace;
        Directory = Path.Combine(Path.GetTempPath(), "aotinfer-gen-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The project folder (the generator's <c>ProjectDir</c>).</summary>
    public string Directory { get; }

    /// <summary>The project's <c>RootNamespace</c>.</summary>
    public string RootNamespace { get; }

    /// <summary>Writes a model into the project folder and adds it as an <c>AdditionalFiles</c> item.</summary>
    public GeneratorProject AddModel(string relativePath, byte[] bytes, string? className = null, string? ns = null, string? dims = null, string? threads = null, string? sparse = null)
    {
        WriteFile(relativePath, bytes);
        return AddAdditionalFile(relativePath, className, ns, dims, threads, sparse);
    }

    /// <summary>Adds an <c>AdditionalFiles</c> item (the file need not exist).</summary>
    public GeneratorProject AddAdditionalFile(string relativePath, string? className = null, string? ns = null, string? dims = null, string? threads = null, string? sparse = null)
    {
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (className is not null) metadata["build_metadata.AdditionalFiles.AotInferClass"] = className;
        if (ns is not null) metadata["build_metadata.AdditionalFiles.AotInferNamespace"] = ns;
        if (dims is not null) metadata["build_metadata.AdditionalFiles.AotInferDims"] = dims;
        if (threads is not null) metadata["build_metadata.AdditionalFiles.AotInferThreads"] = threads;
        if (sparse is not null) metadata["build_metadata.AdditionalFiles.AotInferSparse"] = sparse;
        _additionalFiles.Add((new BinaryAdditionalText(Path.Combine(Directory, relativePath)), metadata));
        return this;
    }

    /// <summary>Writes a file into the project folder without making it an item.</summary>
    public GeneratorProject WriteFile(string relativePath, byte[] bytes)
    {
        string path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return this;
    }

    /// <summary>Adds a C# source file.</summary>
    public GeneratorProject AddSource(string source)
    {
        _sources.Add(source);
        return this;
    }

    /// <summary>Parse options of the consuming project.</summary>
    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    /// <summary>The compilation before generation.</summary>
    public CSharpCompilation CreateCompilation() =>
        CSharpCompilation.Create("GeneratorTestApp_" + Guid.NewGuid().ToString("N"),
            _sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: Path.Combine(Directory, $"Source{i}.cs"))),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable,
                optimizationLevel: OptimizationLevel.Release, deterministic: true));

    /// <summary>A driver for the generator with this project's items and properties, tracking its steps.</summary>
    public GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new OnnxModelGenerator().AsSourceGenerator() },
            _additionalFiles.Select(f => f.Text),
            ParseOptions,
            new TestOptionsProvider(
                new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
                {
                    ["build_property.RootNamespace"] = RootNamespace,
                    ["build_property.ProjectDir"] = Directory + Path.DirectorySeparatorChar,
                },
                _additionalFiles.ToDictionary(f => f.Text, f => f.Metadata)),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once.</summary>
    public GeneratorRun Run()
    {
        var compilation = CreateCompilation();
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratorRun(driver, (CSharpCompilation)output, diagnostics);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }

    /// <summary>The consumer's references: the runtime's System.* assemblies and the kernels.</summary>
    static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(AotInfer.Kernels.IGeneratedModel).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray());

    /// <summary>An additional file on disk. The generator reads models as bytes, never through <see cref="GetText"/>.</summary>
    sealed class BinaryAdditionalText(string path) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText? GetText(CancellationToken cancellationToken = default) => null;
    }

    sealed class TestOptionsProvider(Dictionary<string, string> global, Dictionary<AdditionalText, Dictionary<string, string>> perFile) : AnalyzerConfigOptionsProvider
    {
        static readonly TestOptions Empty = new(new Dictionary<string, string>());

        public override AnalyzerConfigOptions GlobalOptions { get; } = new TestOptions(global);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
            perFile.TryGetValue(textFile, out var values) ? new TestOptions(values) : Empty;
    }

    sealed class TestOptions(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}

/// <summary>The outcome of one generator run.</summary>
/// <param name="Driver">The driver after the run (run it again to test caching).</param>
/// <param name="Output">The compilation with the generated sources.</param>
/// <param name="Diagnostics">What the generator reported.</param>
public sealed record GeneratorRun(GeneratorDriver Driver, CSharpCompilation Output, ImmutableArray<Diagnostic> Diagnostics)
{
    /// <summary>Generated files by hint name.</summary>
    public IReadOnlyDictionary<string, string> GeneratedSources =>
        Driver.GetRunResult().Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    /// <summary>The generator's diagnostics with one ID.</summary>
    public Diagnostic[] WithId(string id) => Diagnostics.Where(d => d.Id == id).ToArray();

    /// <summary>Asserts the generator reported no diagnostic at all.</summary>
    public void AssertNoDiagnostics() =>
        Assert.True(Diagnostics.IsEmpty, "unexpected generator diagnostics: " + string.Join(" | ", Diagnostics));

    /// <summary>
    /// Compiles the output with warnings as errors and loads it into a collectible context. Generated code must
    /// compile clean in a consumer that treats warnings as errors.
    /// </summary>
    public Assembly CompileAndLoad()
    {
        var strict = Output.WithOptions(Output.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        using var stream = new MemoryStream();
        var result = strict.Emit(stream);
        Assert.True(result.Success, "generated code does not compile: " + string.Join(" | ", result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Take(5)));
        stream.Position = 0;
        return new AssemblyLoadContext("generator-test", isCollectible: true).LoadFromStream(stream);
    }
}
