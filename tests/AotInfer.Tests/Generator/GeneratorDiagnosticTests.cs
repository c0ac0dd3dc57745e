extern alias GeneratorAssembly;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using Emitter = GeneratorAssembly::AotInfer.Generator.Emitter;
using FrontDoor = GeneratorAssembly::AotInfer.Generator.FrontDoor;
using ModelJobSpec = GeneratorAssembly::AotInfer.Generator.ModelJobSpec;

namespace AotInfer.Tests.Generator;

/// <summary>One test per AOTI diagnostic ID: what triggers it, where it points, and what its message says.</summary>
public class GeneratorDiagnosticTests
{
    [Fact]
    public void AOTI0001_InvalidModelBytes()
    {
        using var project = new GeneratorProject().AddModel("models/garbage.onnx", new byte[] { 0xFF, 0xFF, 0xFF, 0x07, 0x01, 0x02 }, className: "Garbage");
        var run = project.Run();

        var d = Assert.Single(run.WithId("AOTI0001"));
        AssertMetadataFormError(d, "models/garbage.onnx");
        Assert.Empty(GeneratedModels(run));
    }

    [Fact]
    public void AOTI0002_ListsEveryUnsupportedNodeAtOnce()
    {
        using var project = new GeneratorProject()
            .AddModel("models/custom.onnx", GeneratorTestModels.TwoUnsupportedOps())
            .AddSource("""
                namespace Test.App;
                [AotInfer.OnnxModel("models/custom.onnx")]
                public partial class CustomOps;
                """);
        var run = project.Run();

        var errors = run.WithId("AOTI0002");
        Assert.Equal(2, errors.Length);
        Assert.All(errors, d => AssertAtAttribute(d, "CustomOps"));
        var messages = string.Join("\n", errors.Select(d => d.GetMessage()));
        Assert.Contains("com.example.Frobnicate", messages);
        Assert.Contains("com.example.Twiddle", messages);
        Assert.Empty(GeneratedModels(run));
    }

    [Fact]
    public void AOTI0003_UnpinnedSymbolicDimensionNamesItAndTheFix()
    {
        using var project = new GeneratorProject().AddModel("models/batch.onnx", GeneratorTestModels.SymbolicBatchAcrossSamples(), className: "Batch");
        var run = project.Run();

        var d = Assert.Single(run.WithId("AOTI0003"));
        AssertMetadataFormError(d, "models/batch.onnx");
        Assert.Contains("'batch'", d.GetMessage());
        Assert.Contains("AotInferDims=\"batch=1\"", d.GetMessage());
    }

    [Fact]
    public void AOTI0004_SupportedOperatorUsedInAnUnsupportedWay()
    {
        using var project = new GeneratorProject().AddModel("models/mixed.onnx", GeneratorTestModels.MixedTypeAdd(), className: "Mixed");
        var run = project.Run();

        var d = Assert.Single(run.WithId("AOTI0004"));
        AssertMetadataFormError(d, "models/mixed.onnx");
        Assert.Contains("different element types", d.GetMessage());
    }

    [Fact]
    public void AOTI0005_ElementTypeGeneratedCodeCannotHold()
    {
        using var project = new GeneratorProject().AddModel("models/strings.onnx", GeneratorTestModels.StringInput(), className: "Strings");
        var run = project.Run();

        var d = Assert.Single(run.WithId("AOTI0005"));
        AssertMetadataFormError(d, "models/strings.onnx");
        Assert.Contains("String", d.GetMessage());
    }

    [Fact]
    public void AOTI0006_AnExceptionInTheOutputStepBecomesADiagnosticNamingTheModel()
    {
        using var project = new GeneratorProject().WriteFile("models/add-relu.onnx", GeneratorTestModels.AddRelu());
        var job = new ModelJobSpec(FrontDoor.Metadata, System.IO.Path.Combine(project.Directory, "models/add-relu.onnx"), "models/add-relu.onnx", "hash",
            "AddRelu", "Test.App", "public sealed", default, null, default);
        var reported = new List<Diagnostic>();

        Emitter.Execute(job, (_, _) => throw new InvalidOperationException("simulated failure"), reported.Add, CancellationToken.None);

        var d = Assert.Single(reported);
        Assert.Equal("AOTI0006", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.StartsWith("models/add-relu.onnx: ", d.GetMessage());
        Assert.Contains("simulated failure", d.GetMessage());
    }

    [Theory]
    [InlineData("batch")]
    [InlineData("batch=0")]
    [InlineData("batch=one")]
    [InlineData("batch=1;batch=2")]
    public void AOTI0007_MalformedDims(string dims)
    {
        using var project = new GeneratorProject()
            .AddModel("models/batch.onnx", GeneratorTestModels.SymbolicBatchRelu())
            .AddSource($$"""
                namespace Test.App;
                [AotInfer.OnnxModel("models/batch.onnx", Dims = "{{dims}}")]
                public partial class Batch;
                """);
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0007", d.Id);
        AssertAtAttribute(d, "Batch");
        Assert.Empty(GeneratedModels(run));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("four")]
    public void AOTI0007_MalformedThreadsMetadata(string threads)
    {
        using var project = new GeneratorProject().AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu(), threads: threads);
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0007", d.Id);
        Assert.Contains("AotInferThreads", d.GetMessage());
        Assert.Empty(GeneratedModels(run));
    }

    [Fact]
    public void AOTI0007_NegativeThreadsOnTheAttribute()
    {
        using var project = new GeneratorProject()
            .AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu())
            .AddSource("""
                namespace Test.App;
                [AotInfer.OnnxModel("models/add-relu.onnx", Threads = -2)]
                public partial class AddRelu;
                """);
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0007", d.Id);
        AssertAtAttribute(d, "AddRelu");
    }

    [Fact]
    public void ThreadsMetadataReachesTheGeneratedCode()
    {
        using var project = new GeneratorProject().AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu(), threads: "3");
        var run = project.Run();

        Assert.Empty(run.Diagnostics);
        Assert.Contains("WorkerPool.Shared(3)", run.GeneratedSources[Assert.Single(GeneratedModels(run))]);
    }

    [Fact]
    public void AOTI0101_ModelFileNotFound()
    {
        using var project = new GeneratorProject().AddAdditionalFile("models/missing.onnx", className: "Missing");
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0101", d.Id);
        AssertMetadataFormError(d, "models/missing.onnx");
        Assert.Contains("cannot read the model file", d.GetMessage());
    }

    [Theory]
    [InlineData("3DModel", null)]
    [InlineData("class", null)]
    [InlineData("Good", "My..Models")]
    public void AOTI0102_InvalidClassNameOrNamespace(string className, string? ns)
    {
        using var project = new GeneratorProject().AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu(), className: className, ns: ns);
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0102", d.Id);
        AssertMetadataFormError(d, "models/add-relu.onnx");
        Assert.Empty(GeneratedModels(run));
    }

    [Fact]
    public void AOTI0103_AttributePathNotInAdditionalFilesTellsHowToAddIt()
    {
        using var project = new GeneratorProject()
            .WriteFile("models/add-relu.onnx", GeneratorTestModels.AddRelu())
            .AddSource("""
                namespace Test.App;
                [AotInfer.OnnxModel("models/add-relu.onnx")]
                public partial class AddRelu;
                """);
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0103", d.Id);
        AssertAtAttribute(d, "AddRelu");
        Assert.Contains("<AdditionalFiles Include=\"models/add-relu.onnx\" />", d.GetMessage());
    }

    [Theory]
    [InlineData("public class NotPartial;", "not partial")]
    [InlineData("public static partial class StaticModel;", "static")]
    [InlineData("public partial class GenericModel<T>;", "generic")]
    [InlineData("public partial class Outer { [AotInfer.OnnxModel(\"models/add-relu.onnx\")] public partial class Inner; }", "nested")]
    public void AOTI0104_ClassThatCannotReceiveTheGeneratedPart(string declaration, string reason)
    {
        string source = declaration.Contains("Outer", StringComparison.Ordinal)
            ? "namespace Test.App;\n" + declaration
            : "namespace Test.App;\n[AotInfer.OnnxModel(\"models/add-relu.onnx\")]\n" + declaration;
        using var project = new GeneratorProject()
            .AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu())
            .AddSource(source);
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0104", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.True(d.Location.IsInSource || d.Location.Kind == LocationKind.ExternalFile, "points at the attribute");
        Assert.Contains(reason, d.GetMessage());
        Assert.Empty(GeneratedModels(run));
    }

    [Fact]
    public void AOTI0105_AttributePathMatchingSeveralItems()
    {
        using var project = new GeneratorProject()
            .AddModel("first/model.onnx", GeneratorTestModels.AddRelu(), className: "First")
            .AddModel("second/model.onnx", GeneratorTestModels.AddRelu(), className: "Second")
            .AddSource("""
                namespace Test.App;
                [AotInfer.OnnxModel("model.onnx")]
                public partial class Which;
                """);
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0105", d.Id);
        AssertAtAttribute(d, "Which");
        Assert.Contains("first/model.onnx", d.GetMessage());
        Assert.Contains("second/model.onnx", d.GetMessage());
    }

    [Fact]
    public void AOTI0106_TwoModelsGeneratingTheSameClass()
    {
        using var project = new GeneratorProject()
            .AddModel("a/add-relu.onnx", GeneratorTestModels.AddRelu(), className: "Twin")
            .AddModel("b/scaled.onnx", GeneratorTestModels.ScaledSigmoid(), className: "Twin");
        var run = project.Run();

        var d = Assert.Single(run.Diagnostics);
        Assert.Equal("AOTI0106", d.Id);
        AssertMetadataFormError(d, "b/scaled.onnx");
        Assert.Contains("'Test.App.Twin' is already generated from 'a/add-relu.onnx'", d.GetMessage());
        Assert.Single(GeneratedModels(run));
    }

    [Fact]
    public void EveryDescriptorIsDocumentedAndReleaseTracked()
    {
        string root = System.IO.Path.GetFullPath(System.IO.Path.Combine(GoldenFiles.Directory, "..", "..", "..", ".."));
        string docs = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "docs", "diagnostics.md"));
        string tracked = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "generators", "AotInfer.Generator", "AnalyzerReleases.Unshipped.md"))
                         + System.IO.File.ReadAllText(System.IO.Path.Combine(root, "generators", "AotInfer.Generator", "AnalyzerReleases.Shipped.md"));
        var ids = typeof(Emitter).Assembly.GetType("AotInfer.Generator.DiagnosticDescriptors")!
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(f => ((DiagnosticDescriptor)f.GetValue(null)!).Id).ToList();
        Assert.True(ids.Count >= 13);
        foreach (var id in ids)
        {
            Assert.Contains("## " + id, docs);
            Assert.Contains(id + " |", tracked);
        }
    }

    /// <summary>The generated model classes (not the attribute files every run adds).</summary>
    static string[] GeneratedModels(GeneratorRun run) =>
        run.GeneratedSources.Keys.Where(k => !k.StartsWith("AotInfer.OnnxModelAttribute", StringComparison.Ordinal) && !k.StartsWith("Microsoft.", StringComparison.Ordinal)).ToArray();

    static void AssertMetadataFormError(Diagnostic d, string displayPath)
    {
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(Location.None, d.Location);
        Assert.StartsWith(displayPath + ": ", d.GetMessage());
    }

    static void AssertAtAttribute(Diagnostic d, string className)
    {
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        var span = d.Location.GetLineSpan();
        Assert.EndsWith("Source0.cs", span.Path);
        Assert.Equal(1, span.StartLinePosition.Line); // the attribute is on the second line of every test source
        Assert.Contains(className, d.GetMessage());
    }
}
