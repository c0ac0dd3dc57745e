using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Generator;

/// <summary>The <c>AotInferSparse</c> item metadata reaches the compiler, and a bad value is AOTI0007.</summary>
public class GeneratorSparseTests
{
    static byte[] PrunedGemm()
    {
        var w = Differential.RandomFloats(1, 64 * 32);
        for (int i = 0; i < w.Length; i++) if (i % 10 != 0) w[i] = 0;
        return new OnnxModelBuilder(13).Input("a", DataType.Float, 1, 64)
            .Initializer("w", w, 32, 64)
            .Node("Gemm", new[] { "a", "w" }, new[] { "y" }, ("transB", 1L))
            .Output("y", DataType.Float).ToBytes();
    }

    static string Generate(string? sparse)
    {
        using var project = new GeneratorProject().AddModel("models/pruned.onnx", PrunedGemm(), "Pruned", sparse: sparse);
        var run = project.Run();
        Assert.Empty(run.Diagnostics);
        return run.Driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Pruned.g.cs", StringComparison.Ordinal)).ToString();
    }

    [Fact]
    public void MetadataChoosesDenseOrSparseKernels()
    {
        // Auto mode (no metadata) takes the band layout for this 90 %-pruned layer (docs/sparse.md); forcing works.
        Assert.Contains("BandSparseMultiply.Multiply", Generate(null));
        Assert.Contains("BandSparseMultiply.Multiply", Generate("sparse"));
        Assert.Contains("BandSparseMatrix.Create(64, 32,", Generate("bands"));
        Assert.Contains("BlockSparseMatrix.Create(64, 32, 1,", Generate("csr"));
        string dense = Generate("dense");
        Assert.DoesNotContain("SparseMultiply", dense);
        // Dense at batch 1 is the GEMV on weights laid out at build time.
        Assert.Contains("GemvWeights", dense);
    }

    [Fact]
    public void AOTI0007_UnknownSparseValue()
    {
        using var project = new GeneratorProject().AddModel("models/pruned.onnx", PrunedGemm(), "Pruned", sparse: "fast");
        var d = Assert.Single(project.Run().Diagnostics);
        Assert.Equal("AOTI0007", d.Id);
        Assert.Contains("AotInferSparse", d.GetMessage());
    }
}
