using System;
using System.Linq;
using System.Reflection;
using AotInfer.Kernels;
using Xunit;

namespace AotInfer.Tests.Generator;

/// <summary>
/// The generator's output for both front doors: compared with golden baselines, compiled with warnings as errors,
/// and run on known inputs.
/// </summary>
public class GeneratorOutputTests
{
    [Fact]
    public void MetadataFormMatchesGoldenAndComputesAddRelu()
    {
        using var project = new GeneratorProject()
            .AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu(), className: "AddReluModel", ns: "My.Models");
        var run = project.Run();

        run.AssertNoDiagnostics();
        GoldenFiles.AssertMatch("MetadataForm", ModelSources(run));
        var model = Instantiate(run.CompileAndLoad(), "My.Models.AddReluModel");
        float[] a = { -1, 2, -3, 4, -5, 6 }, b = { 0.5f, -0.5f, 4 };
        Assert.Equal(GeneratorTestModels.AddReluExpected(a, b), RunSingleOutput(model, a, b));
        Assert.Equal("add-relu.onnx", model.Info.ModelFile);
    }

    [Fact]
    public void AttributeFormMatchesGoldenAndComputesScaledSigmoid()
    {
        using var project = new GeneratorProject()
            .AddModel("models/scaled_sigmoid.onnx", GeneratorTestModels.ScaledSigmoid())
            .AddSource("""
                namespace My.Models;

                /// <summary>The user's part: accessibility and documentation are theirs.</summary>
                [AotInfer.OnnxModel("models/scaled_sigmoid.onnx")]
                public partial class ScaledSigmoid;
                """);
        var run = project.Run();

        run.AssertNoDiagnostics();
        // The metadata form stays silent for a file an attribute owns: one class, not two.
        GoldenFiles.AssertMatch("AttributeForm", ModelSources(run));
        var assembly = run.CompileAndLoad();
        var type = assembly.GetType("My.Models.ScaledSigmoid")!;
        Assert.True(type.IsPublic, "the user's 'public' decides accessibility");
        float[] x = { 1, 2, -0.5f, 7 };
        Assert.Equal(GeneratorTestModels.ScaledSigmoidExpected(x), RunSingleOutput(Instantiate(assembly, type.FullName!), x), new ToleranceComparer(1e-6f));
    }

    [Fact]
    public void PostInitializationSourcesMatchGolden()
    {
        using var project = new GeneratorProject();
        var run = project.Run();

        run.AssertNoDiagnostics();
        GoldenFiles.AssertMatch("PostInitialization", run.GeneratedSources);
        Assert.Equal(2, run.GeneratedSources.Count); // the attribute and Roslyn's EmbeddedAttribute
        run.CompileAndLoad();
    }

    [Fact]
    public void MetadataFormDefaultsClassNameFromFileAndNamespaceFromRootNamespace()
    {
        using var project = new GeneratorProject(rootNamespace: "Contoso.Vision")
            .AddModel("models/add-relu.onnx", GeneratorTestModels.AddRelu());
        var run = project.Run();

        run.AssertNoDiagnostics();
        var hint = Assert.Single(run.GeneratedSources.Keys, k => !k.StartsWith("AotInfer.", StringComparison.Ordinal) && !k.StartsWith("Microsoft.", StringComparison.Ordinal));
        Assert.Equal("Contoso.Vision.AddRelu.g.cs", hint);
        Assert.Contains("public sealed partial class AddRelu", run.GeneratedSources[hint]);
        run.CompileAndLoad();
    }

    [Fact]
    public void PinnedDimensionsWorkInBothForms()
    {
        using var project = new GeneratorProject()
            .AddModel("models/batch-relu.onnx", GeneratorTestModels.SymbolicBatchRelu(), className: "BatchOfTwo", dims: "batch=2")
            .AddSource("""
                namespace Test.App;
                [AotInfer.OnnxModel("batch-relu.onnx", Dims = "batch=3")]
                internal partial class BatchOfThree;
                """);
        var run = project.Run();

        run.AssertNoDiagnostics();
        var assembly = run.CompileAndLoad();
        var two = Instantiate(assembly, "Test.App.BatchOfTwo");
        var three = Instantiate(assembly, "Test.App.BatchOfThree");
        Assert.Equal(new[] { 2, 3 }, two.Info.Inputs[0].Shape);
        Assert.Equal(new[] { 3, 3 }, three.Info.Inputs[0].Shape);
        float[] x = { -1, 0, 1, 2, -2, 3, 0.5f, -0.5f, 9 };
        Assert.Equal(x.Select(v => Math.Max(0, v)).ToArray(), RunSingleOutput(three, x));
    }

    [Fact]
    public void RawTensorsAreByteSpansInRunAndMatchGolden()
    {
        using var project = new GeneratorProject()
            .AddModel("models/int4-to-float8.onnx", GeneratorTestModels.Int4ToFloat8(), className: "Int4ToFloat8", ns: "My.Models");
        var run = project.Run();

        run.AssertNoDiagnostics();
        GoldenFiles.AssertMatch("RawTensors", ModelSources(run));
        var model = Instantiate(run.CompileAndLoad(), "My.Models.Int4ToFloat8");
        Assert.Equal((4, 3), (model.Info.Inputs[0].RawBits, model.Info.Inputs[0].BufferLength));
        Assert.Equal((8, 5), (model.Info.Outputs[1].RawBits, model.Info.Outputs[1].BufferLength));
        // x = [1, −2, 7, −8, 3] packs low nibble first as E1 87 03; y = (x + 1) · 0.5. In e4m3fn (bias 7) 1 is
        // 0.0111.000, −0.5 is 1.0110.000, 4 is 0.1001.000, −3.5 = −1.75·2 is 1.1000.110 and 2 is 0.1000.000.
        var y = new float[5];
        var f8 = new byte[5];
        model.Run(new Array[] { new byte[] { 0xE1, 0x87, 0x03 } }, new Array[] { y, f8 });
        Assert.Equal(new[] { 1f, -0.5f, 4f, -3.5f, 2f }, y);
        Assert.Equal(new byte[] { 0x38, 0xB0, 0x48, 0xC6, 0x40 }, f8);
    }

    /// <summary>The generated model classes, without the attribute sources every run adds (they have their own baseline).</summary>
    static System.Collections.Generic.Dictionary<string, string> ModelSources(GeneratorRun run) =>
        run.GeneratedSources.Where(s => !s.Key.StartsWith("AotInfer.", StringComparison.Ordinal) && !s.Key.StartsWith("Microsoft.", StringComparison.Ordinal))
            .ToDictionary(s => s.Key, s => s.Value);

    static IGeneratedModel Instantiate(Assembly assembly, string typeName) =>
        (IGeneratedModel)Activator.CreateInstance(assembly.GetType(typeName, throwOnError: true)!)!;

    static float[] RunSingleOutput(IGeneratedModel model, params float[][] inputs)
    {
        var output = new float[model.Info.Outputs.Single().Length];
        model.Run(inputs.Cast<Array>().ToArray(), new Array[] { output });
        return output;
    }

    sealed class ToleranceComparer(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
