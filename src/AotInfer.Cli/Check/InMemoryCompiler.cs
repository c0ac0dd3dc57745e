using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace AotInfer.Cli.Check;

/// <summary>
/// Compiles generated model sources with Roslyn in memory, many per compilation (one Roslyn compilation per model
/// would cost most of CI's time), and loads them into a collectible load context.
/// </summary>
public static class InMemoryCompiler
{
    static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(AotInfer.Kernels.IGeneratedModel).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    });

    /// <summary>Parse options for generated code.</summary>
    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    /// <summary>
    /// Compiles the sources (key → source text) into one assembly. Sources that fail to compile are removed and
    /// reported in <paramref name="failures"/> with the compiler's messages; the rest are compiled again.
    /// </summary>
    public static Assembly? CompileBatch(IReadOnlyDictionary<string, string> sources, Dictionary<string, string> failures, bool warningsAsErrors = false)
    {
        var trees = sources.ToDictionary(s => s.Key, s => CSharpSyntaxTree.ParseText(s.Value, ParseOptions, path: s.Key + ".g.cs"));
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
            optimizationLevel: OptimizationLevel.Release, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable,
            generalDiagnosticOption: warningsAsErrors ? ReportDiagnostic.Error : ReportDiagnostic.Default,
            concurrentBuild: true, deterministic: true);
        while (trees.Count > 0)
        {
            var compilation = CSharpCompilation.Create("AotInferCheck_" + Guid.NewGuid().ToString("N"), trees.Values, References.Value, options);
            using var stream = new MemoryStream();
            var result = compilation.Emit(stream);
            if (result.Success)
            {
                stream.Position = 0;
                var context = new AssemblyLoadContext("check", isCollectible: true);
                return context.LoadFromStream(stream);
            }
            var broken = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)
                .GroupBy(d => d.Location.SourceTree?.FilePath ?? "").ToList();
            bool removed = false;
            foreach (var group in broken)
            {
                string key = trees.Keys.FirstOrDefault(k => k + ".g.cs" == group.Key) ?? "";
                if (key.Length == 0) continue;
                failures[key] = string.Join(" | ", group.Take(3).Select(d => d.ToString()));
                trees.Remove(key);
                removed = true;
            }
            if (!removed)
            {
                foreach (var key in trees.Keys) failures[key] = string.Join(" | ", broken.SelectMany(g => g).Take(3));
                return null;
            }
        }
        return null;
    }
}
