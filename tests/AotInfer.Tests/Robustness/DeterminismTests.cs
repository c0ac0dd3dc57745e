using System;
using System.Globalization;
using System.IO;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Robustness;

/// <summary>The same model and options give byte-identical source on every run and in every culture.</summary>
public class DeterminismTests
{
    static readonly string[] Cultures = { "de-DE", "tr-TR", "ar-SA", "" };

    /// <summary>Float attributes and constants with fractions, negatives and exponents: what a culture would change.</summary>
    static byte[] FloatHeavyModel() => new OnnxModelBuilder()
        .Input("x", DataType.Float, 2, 3)
        .Initializer("w", new[] { -1.5f, 2.25e-7f, 3.4e38f, -0.0f, 1e-45f, 0.1f }, 2, 3)
        .Node("Mul", new[] { "x", "w" }, new[] { "m" })
        .Node("LeakyRelu", new[] { "m" }, new[] { "l" }, ("alpha", 0.0125f))
        .Node("Clip", new[] { "l" }, new[] { "c" })
        .Node("Elu", new[] { "c" }, new[] { "y" }, ("alpha", -1.75f))
        .Output("y", DataType.Float).ToBytes();

    static string CompileIn(string culture, byte[] model, string name)
    {
        var savedCulture = CultureInfo.CurrentCulture;
        var savedUi = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture.Length == 0 ? CultureInfo.InvariantCulture : new CultureInfo(culture);
            var result = ModelCompiler.Compile(model, new CompileOptions { ClassName = "Model", Namespace = "Determinism", ModelFileName = name, DimensionValues = { ["batch"] = 1 } });
            Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
            return result.Source!;
        }
        finally
        {
            CultureInfo.CurrentCulture = savedCulture;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    public static TheoryData<string> Models() => new() { "float-heavy", "mnist-8", "digits_cnn" };

    static byte[] Load(string name) => name switch
    {
        "float-heavy" => FloatHeavyModel(),
        "mnist-8" => File.ReadAllBytes(Path.Combine(SharedMaterial.Require("real-models/mnist-8"), "model.onnx")),
        _ => File.ReadAllBytes(Path.Combine(SharedMaterial.Require("models/" + name), "model.onnx")),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void SourceIsByteIdenticalAcrossCulturesAndRuns(string name)
    {
        var model = Load(name);
        string baseline = CompileIn("", model, name);
        foreach (var culture in Cultures)
            for (int run = 0; run < 2; run++)
            {
                string source = CompileIn(culture, model, name);
                Assert.True(source == baseline, $"{name}: source differs in culture '{culture}' (run {run}) at char {FirstDifference(source, baseline)}");
            }
    }

    [Fact]
    public void CulturesReallyDifferHere()
    {
        // Guards the test itself: if these cultures formatted like the invariant one, it would prove nothing.
        Assert.Equal("1,5", 1.5.ToString(new CultureInfo("de-DE")));
        Assert.NotEqual("I", "i".ToUpper(new CultureInfo("tr-TR")));
    }

    static int FirstDifference(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return n;
    }
}
