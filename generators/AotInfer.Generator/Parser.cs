using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace AotInfer.Generator;

/// <summary>
/// The parse phase: turns MSBuild items and properties, and classes carrying <c>[OnnxModel]</c>, into equatable
/// specs. Nothing here compiles a model; every problem becomes a <see cref="ProblemSpec"/> for the output step.
/// </summary>
internal static class Parser
{
    /// <summary>Full metadata name of the attribute the generator emits.</summary>
    public const string AttributeMetadataName = "AotInfer.OnnxModelAttribute";

    const string ItemMetadataPrefix = "build_metadata.AdditionalFiles.";

    /// <summary>Reads the project's <c>RootNamespace</c> and folder (made visible by AotInfer.Generator.props).</summary>
    public static ProjectOptionsSpec ParseProjectOptions(AnalyzerConfigOptionsProvider provider, CancellationToken cancellationToken)
    {
        provider.GlobalOptions.TryGetValue("build_property.RootNamespace", out var rootNamespace);
        provider.GlobalOptions.TryGetValue("build_property.ProjectDir", out var projectDirectory);
        return new ProjectOptionsSpec(rootNamespace?.Trim() ?? "", projectDirectory?.Trim() ?? "");
    }

    /// <summary>
    /// Reads one <c>AdditionalFiles</c> item: null unless it is a model (an <c>.onnx</c> file, or any file with
    /// <c>AotInfer*</c> metadata). The bytes are hashed here and dropped, so the cached spec stays small and equatable.
    /// </summary>
    public static ModelFileSpec? ParseModelFile(AdditionalText file, AnalyzerConfigOptions options, CancellationToken cancellationToken)
    {
        string className = ItemMetadata(options, "AotInferClass");
        string ns = ItemMetadata(options, "AotInferNamespace");
        string dims = ItemMetadata(options, "AotInferDims");
        string threads = ItemMetadata(options, "AotInferThreads");
        string sparse = ItemMetadata(options, "AotInferSparse");
        bool isModel = file.Path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || className.Length > 0 || ns.Length > 0 || dims.Length > 0 || threads.Length > 0 || sparse.Length > 0;
        if (!isModel) return null;
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return new ModelFileSpec(file.Path, Sha256(ReadModelBytes(file.Path)), null, className, ns, dims, threads, sparse);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            return new ModelFileSpec(file.Path, "", e.Message, className, ns, dims, threads, sparse);
        }
    }

    /// <summary>Reads a model's bytes.</summary>
    public static byte[] ReadModelBytes(string path)
    {
#pragma warning disable RS1035 // AdditionalText.GetText() decodes the file as text, which rejects or corrupts binary ONNX; the bytes must be read directly.
        return File.ReadAllBytes(path);
#pragma warning restore RS1035
    }

    /// <summary>Reads a class carrying <c>[OnnxModel]</c> and checks that generated members can be added to it.</summary>
    public static AttributeModelSpec ParseAttributeTarget(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var attribute = context.Attributes[0];
        var location = LocationSpec.From(attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation())
                       ?? LocationSpec.From(context.TargetNode.GetLocation())!;
        string path = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string ?? "" : "";
        string dims = "";
        int threads = 1;
        foreach (var named in attribute.NamedArguments)
        {
            if (named.Key == "Dims") dims = named.Value.Value as string ?? "";
            if (named.Key == "Threads" && named.Value.Value is int t) threads = t;
        }

        var problems = new List<ProblemSpec>();
        string what = $"class '{type.Name}'";
        if (context.TargetNode is ClassDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            problems.Add(new ProblemSpec(DiagnosticDescriptors.ClassNotPartial.Id, $"{what} carries [OnnxModel] but is not partial; declare it 'partial' so that the generated part can be added", location));
        if (type.ContainingType is not null)
            problems.Add(new ProblemSpec(DiagnosticDescriptors.ClassNotPartial.Id, $"{what} carries [OnnxModel] but is nested in '{type.ContainingType.Name}'; generated models must be top-level classes", location));
        if (type.IsGenericType)
            problems.Add(new ProblemSpec(DiagnosticDescriptors.ClassNotPartial.Id, $"{what} carries [OnnxModel] but is generic; generated models cannot have type parameters", location));
        if (type.IsStatic)
            problems.Add(new ProblemSpec(DiagnosticDescriptors.ClassNotPartial.Id, $"{what} carries [OnnxModel] but is static; a generated model has instance state (its buffers)", location));
        if (threads < 0)
            problems.Add(new ProblemSpec(DiagnosticDescriptors.InvalidOptions.Id, $"[OnnxModel] on {what}: Threads = {threads} must be 0 (one per processor) or a positive thread count", location));
        if (path.Trim().Length == 0)
            problems.Add(new ProblemSpec(DiagnosticDescriptors.ModelNotInAdditionalFiles.Id, $"[OnnxModel] on {what} needs the model's path, e.g. [OnnxModel(\"models/model.onnx\")]", location));

        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        return new AttributeModelSpec(type.Name, ns, path.Trim(), dims, location, problems.ToEquatableArray(), threads);
    }

    /// <summary>Finds the attribute's model among the <c>AdditionalFiles</c> items and builds its job.</summary>
    public static ModelJobSpec ResolveAttributeModel(AttributeModelSpec attribute, EquatableArray<ModelFileSpec> files, ProjectOptionsSpec project)
    {
        var problems = attribute.Problems.ToList();
        string where = $"[OnnxModel] on class '{attribute.ClassName}'";
        var dims = ParseDimensions(attribute.Dimensions, where + ": Dims", attribute.Location, problems);
        ModelFileSpec? file = null;
        if (attribute.ModelPath.Length > 0)
        {
            var matches = FindFiles(attribute.ModelPath, files, project);
            if (matches.Count == 0)
                problems.Add(new ProblemSpec(DiagnosticDescriptors.ModelNotInAdditionalFiles.Id,
                    $"{where}: the model '{attribute.ModelPath}' is not an AdditionalFiles item; add <AdditionalFiles Include=\"{attribute.ModelPath}\" /> to the project file", attribute.Location));
            else if (matches.Count > 1)
                problems.Add(new ProblemSpec(DiagnosticDescriptors.AmbiguousModelPath.Id,
                    $"{where}: the model path '{attribute.ModelPath}' matches several AdditionalFiles items ({string.Join(", ", matches.Select(m => DisplayPath(m.Path, project)))}); give a longer path", attribute.Location));
            else
            {
                file = matches[0];
                if (file.ReadError is not null)
                    problems.Add(new ProblemSpec(DiagnosticDescriptors.ModelFileUnreadable.Id,
                        $"{where}: cannot read the model file '{DisplayPath(file.Path, project)}': {file.ReadError}", attribute.Location));
            }
        }
        string modelPath = file?.Path ?? attribute.ModelPath;
        return new ModelJobSpec(FrontDoor.Attribute, modelPath, DisplayPath(modelPath, project), file?.ContentHash ?? "",
            attribute.ClassName, attribute.Namespace, "", dims, attribute.Location, problems.ToEquatableArray(), attribute.Threads);
    }

    /// <summary>
    /// Builds the job for a model declared by item metadata, or null when an <c>[OnnxModel]</c> attribute already
    /// owns the file and the item names no class of its own (so the model is not compiled twice).
    /// </summary>
    public static ModelJobSpec? CreateMetadataJob(ModelFileSpec file, EquatableArray<string> attributePaths, ProjectOptionsSpec project)
    {
        bool explicitClass = file.ClassName.Trim().Length > 0;
        if (!explicitClass && attributePaths.Any(p => IsMatch(file.Path, p, project))) return null;

        var problems = new List<ProblemSpec>();
        string display = DisplayPath(file.Path, project);
        if (file.ReadError is not null)
            problems.Add(new ProblemSpec(DiagnosticDescriptors.ModelFileUnreadable.Id, $"{display}: cannot read the model file: {file.ReadError}", null));

        string className = explicitClass ? file.ClassName.Trim() : ClassNameFromFile(file.Path);
        if (!IsValidIdentifier(className))
            problems.Add(new ProblemSpec(DiagnosticDescriptors.InvalidClassName.Id, explicitClass
                ? $"{display}: AotInferClass '{className}' is not a valid C# class name"
                : $"{display}: the class name '{className}' derived from the file name is not a valid C# class name; set AotInferClass", null));

        string ns = file.Namespace.Trim().Length > 0 ? file.Namespace.Trim() : project.RootNamespace;
        if (ns.Length > 0 && !ns.Split('.').All(IsValidIdentifier))
            problems.Add(new ProblemSpec(DiagnosticDescriptors.InvalidClassName.Id,
                $"{display}: the namespace '{ns}' ({(file.Namespace.Trim().Length > 0 ? "AotInferNamespace" : "the project's RootNamespace")}) is not a valid C# namespace", null));

        var dims = ParseDimensions(file.Dimensions, display + ": AotInferDims", null, problems);
        int threads = ParseThreads(file.Threads, display + ": AotInferThreads", problems);
        var sparse = ParseSparseMode(file.Sparse, display + ": AotInferSparse", problems);
        return new ModelJobSpec(FrontDoor.Metadata, file.Path, display, file.ContentHash, className, ns, "public sealed", dims, null, problems.ToEquatableArray(), threads, sparse);
    }

    /// <summary>
    /// Adds AOTI0106 to a job whose class another job claimed first (metadata items in project order, then
    /// attributes): Roslyn would reject the second generated file, and the C# compiler the second class.
    /// </summary>
    public static ModelJobSpec CheckClassIsUnique(ModelJobSpec job, EquatableArray<ClassClaim> claims)
    {
        var mine = job.Claim;
        var first = claims.FirstOrDefault(c => c.FullClassName == mine.FullClassName);
        if (first is null || first.IsSameJob(mine)) return job;
        var problem = new ProblemSpec(DiagnosticDescriptors.DuplicateClass.Id,
            $"{(job.Location is null ? job.DisplayPath + ": " : $"[OnnxModel] on class '{job.ClassName}': ")}the class '{mine.FullClassName}' is already generated from '{first.DisplayPath}'; give each model its own class name",
            job.Location);
        return job with { Problems = job.Problems.Append(problem).ToEquatableArray() };
    }

    /// <summary>A class name from a file name: <c>mnist-8.onnx</c> becomes <c>Mnist8</c>.</summary>
    public static string ClassNameFromFile(string path)
    {
        var name = new StringBuilder();
        bool upper = true;
        foreach (char c in Path.GetFileNameWithoutExtension(path))
        {
            if (!char.IsLetterOrDigit(c) || c > 127) { upper = true; continue; }
            name.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        if (name.Length == 0 || char.IsDigit(name[0])) name.Insert(0, "Model");
        return name.ToString();
    }

    /// <summary>Parses <c>AotInferThreads</c>: empty for 1, otherwise 0 (one per processor) or a positive count.</summary>
    static int ParseThreads(string text, string where, List<ProblemSpec> problems)
    {
        if (text.Trim().Length == 0) return 1;
        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int threads)) return threads;
        problems.Add(new ProblemSpec(DiagnosticDescriptors.InvalidOptions.Id, $"{where}: '{text.Trim()}' is not a thread count; use 0 (one per processor) or a positive integer such as \"4\"", null));
        return 1;
    }

    /// <summary>Parses <c>AotInferSparse</c>: auto (also when empty), dense, sparse, or one forced layout (csr, blocks4x1, blocks8x1, bands).</summary>
    static Compiler.SparseMode ParseSparseMode(string text, string where, List<ProblemSpec> problems)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "": case "auto": return Compiler.SparseMode.Auto;
            case "dense": return Compiler.SparseMode.Dense;
            case "sparse": return Compiler.SparseMode.Sparse;
            case "csr": return Compiler.SparseMode.Rows;
            case "blocks4x1": return Compiler.SparseMode.Blocks4x1;
            case "blocks8x1": return Compiler.SparseMode.Blocks8x1;
            case "bands": return Compiler.SparseMode.Bands;
            default:
                problems.Add(new ProblemSpec(DiagnosticDescriptors.InvalidOptions.Id, $"{where}: '{text}' is not one of auto, dense, sparse, csr, blocks4x1, blocks8x1, bands", null));
                return Compiler.SparseMode.Auto;
        }
    }

    /// <summary>Parses <c>name=value</c> pairs separated by commas or semicolons.</summary>
    static EquatableArray<DimensionPin> ParseDimensions(string text, string where, LocationSpec? location, List<ProblemSpec> problems)
    {
        var pins = new List<DimensionPin>();
        foreach (var raw in text.Split(',', ';'))
        {
            string part = raw.Trim();
            if (part.Length == 0) continue;
            int equals = part.IndexOf('=');
            string name = equals > 0 ? part.Substring(0, equals).Trim() : "";
            if (name.Length == 0 || !int.TryParse(part.Substring(equals + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0)
                problems.Add(new ProblemSpec(DiagnosticDescriptors.InvalidOptions.Id, $"{where}: '{part}' is not of the form name=positive integer (e.g. \"batch=1\")", location));
            else if (pins.Any(p => p.Name == name))
                problems.Add(new ProblemSpec(DiagnosticDescriptors.InvalidOptions.Id, $"{where}: the dimension '{name}' is pinned twice", location));
            else
                pins.Add(new DimensionPin(name, value));
        }
        return pins.ToEquatableArray();
    }

    static List<ModelFileSpec> FindFiles(string modelPath, EquatableArray<ModelFileSpec> files, ProjectOptionsSpec project)
    {
        var matches = files.Where(f => IsMatch(f.Path, modelPath, project)).ToList();
        if (matches.Count > 1 && project.ProjectDirectory.Length > 0)
        {
            // Several folders end with the same relative path: the one under the project folder is meant.
            string exact = Normalize(Path.Combine(project.ProjectDirectory, modelPath));
            var underProject = matches.Where(f => Normalize(f.Path) == exact).ToList();
            if (underProject.Count == 1) return underProject;
        }
        return matches;
    }

    /// <summary>True when <paramref name="filePath"/> is the file the attribute path names: same full path, or ending with it.</summary>
    static bool IsMatch(string filePath, string modelPath, ProjectOptionsSpec project)
    {
        string file = Normalize(filePath);
        string wanted = Normalize(modelPath);
        if (wanted.Length == 0) return false;
        if (Path.IsPathRooted(modelPath)) return file == wanted;
        return file == wanted || file.EndsWith("/" + wanted, StringComparison.Ordinal);
    }

    static string Normalize(string path)
    {
        var parts = new List<string>();
        string p = path.Replace('\\', '/');
        foreach (var part in p.Split('/'))
        {
            if (part == ".") continue;
            if (part == ".." && parts.Count > 0 && parts[parts.Count - 1] != "..") { parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        string joined = string.Join("/", parts.Where((s, i) => s.Length > 0 || i == 0));
        return joined;
    }

    /// <summary>The path relative to the project folder when inside it (with '/'), else the full path.</summary>
    static string DisplayPath(string path, ProjectOptionsSpec project)
    {
        if (project.ProjectDirectory.Length == 0) return path;
        string dir = Normalize(project.ProjectDirectory).TrimEnd('/') + "/";
        string file = Normalize(path);
        return file.StartsWith(dir, StringComparison.Ordinal) ? file.Substring(dir.Length) : path;
    }

    static bool IsValidIdentifier(string name) =>
        SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None;

    static string ItemMetadata(AnalyzerConfigOptions options, string name) =>
        options.TryGetValue(ItemMetadataPrefix + name, out var value) ? value.Trim() : "";

    static string Sha256(byte[] bytes)
    {
        using var sha = SHA256.Create();
        return string.Concat(sha.ComputeHash(bytes).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
