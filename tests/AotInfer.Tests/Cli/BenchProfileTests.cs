using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AotInfer.Cli;
using AotInfer.Cli.Bench;
using AotInfer.Compiler;
using AotInfer.Kernels;
using AotInfer.Onnx;
using AotInfer.Tests.Generator;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Cli;

/// <summary>Per-layer profiling: the stamps the compiler emits (only when asked), the matching of ORT's nodes, and <c>bench --profile</c>.</summary>
public class BenchProfileTests
{
    /// <summary>Conv (Relu fused into it) then MaxPool: node names Conv_0, Relu_1, MaxPool_2.</summary>
    static byte[] ConvReluPool()
    {
        var random = new Random(11);
        float[] weights = Array.ConvertAll(new float[2 * 1 * 3 * 3], _ => (float)random.NextDouble() - 0.5f);
        return new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 1, 6, 6)
            .Initializer("w", weights, 2, 1, 3, 3)
            .Node("Conv", new[] { "x", "w" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", new[] { "c" }, new[] { "r" })
            .Node("MaxPool", new[] { "r" }, new[] { "y" }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Output("y", DataType.Float)
            .ToBytes();
    }

    static string Compile(bool profile)
    {
        var result = ModelCompiler.Compile(ConvReluPool(), new CompileOptions { ClassName = "ConvReluPool", Namespace = "Profiled", Profile = profile });
        Assert.True(result.Success, string.Join("; ", result.Diagnostics));
        return result.Source!;
    }

    [Fact]
    public void ProfiledSourceMatchesGoldenAndPlainSourceHasNoProfilingCode()
    {
        GoldenFiles.AssertMatch("Profiled", new Dictionary<string, string> { ["ConvReluPool.g.cs"] = Compile(profile: true) });
        string plain = Compile(profile: false);
        Assert.DoesNotContain("IProfiledModel", plain);
        Assert.DoesNotContain("LayerClock", plain);
        Assert.DoesNotContain("Stopwatch", plain);
    }

    [Fact]
    public void ProfiledModelChargesEveryLayerAndNamesTheFoldedReluAndOutputs()
    {
        var model = BenchRunner.Instantiate(ModelCompiler.Compile(ConvReluPool(), new CompileOptions { Profile = true }));
        var layers = Assert.IsAssignableFrom<IProfiledModel>(model);
        Assert.Equal(new[] { "Conv_0", "MaxPool_2" }, layers.LayerNames);
        Assert.Equal(new[] { "Conv", "MaxPool" }, layers.LayerOps);
        Assert.Equal(new[] { "Relu_1", "r" }, layers.LayerAliases[0]);
        Assert.Equal(new[] { "y" }, layers.LayerAliases[1]);
        var inputs = new Array[] { new float[36] };
        for (int i = 0; i < 10; i++) model.Run(inputs, new Array[] { new float[18] });
        Assert.All(layers.LayerTicks, t => Assert.True(t > 0));
    }

    sealed class FakeLayers : IProfiledModel
    {
        public string[] LayerNames { get; } = { "conv1", "pool", "fc" };
        public string[] LayerOps { get; } = { "Conv", "MaxPool", "Gemm" };
        public string[][] LayerAliases { get; } = { new[] { "relu1", "r1" }, new[] { "p" }, new[] { "out" } };
        public long[] LayerTicks { get; } = new long[3];
    }

    [Fact]
    public void OrtNodesMatchByNameFoldedNodeAndPrefixAndTheRestGetRowsOfTheirOwn()
    {
        var ort = new List<OrtNodeTime>
        {
            new("r1_nchwc", "Conv", 3),              // ORT names a fused conv after its output
            new("pool", "MaxPool", 2),
            new("pooling", "MaxPool", 7),            // "pool" begins it, but not before a separator
            new("relu1", "Relu", 0.5),               // an activation ORT left alone, folded into conv1 here
            new("fc/MatMulAddFusion", "Gemm", 1),
            new("ReorderOutput", "ReorderOutput", 4),
        };
        long second = System.Diagnostics.Stopwatch.Frequency;
        var rows = LayerProfiler.Match(new FakeLayers(), new[] { second, 2 * second, 0L }, 1_000_000, ort);
        Assert.Equal(new[] { "conv1", "pool", "fc", "pooling", "ReorderOutput" }, rows.Select(r => r.Layer));
        Assert.Equal(3.5, rows[0].OrtMicroseconds, 6);
        Assert.Equal(1.0, rows[0].AotInferMicroseconds, 6);
        Assert.Equal(2.0, rows[1].AotInferMicroseconds, 6);
        Assert.Equal(1.0, rows[2].OrtMicroseconds, 6);
        Assert.Equal(2.0, rows[1].OrtMicroseconds, 6);
        Assert.True(double.IsNaN(rows[4].AotInferMicroseconds));
        Assert.Equal(4.0, rows[4].OrtMicroseconds, 6);
    }

    [Fact]
    public void BenchProfilePrintsARowPerLayerWithOrtTimes()
    {
        string dir = Path.Combine(Path.GetTempPath(), "aotinfer-profile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        // Output goes to a writer of the test's own: tests run in parallel and others print to the shared console.
        var captured = new StringWriter();
        try
        {
            string model = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(model, ConvReluPool());
            var args = Arguments.Parse(new[] { model, "--vs", "onnxruntime", "--rounds", "3", "--round-ms", "2", "--warmup-ms", "50", "--quiet", "--profile" }, "--quiet", "--profile");
            Assert.Equal(0, BenchCommand.Run(args, captured));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        string[] lines = captured.ToString().Split('\n');
        string Row(string layer) => Assert.Single(lines, l => l.StartsWith(layer + " ", StringComparison.Ordinal));
        foreach (string layer in new[] { "Conv_0", "MaxPool_2" })
        {
            string[] cells = Row(layer).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(double.Parse(cells[2], System.Globalization.CultureInfo.InvariantCulture) > 0, Row(layer));
            Assert.True(cells[4] != "-", "no ORT node matched:\n" + captured);
        }
        Assert.Single(lines, l => l.StartsWith("total ", StringComparison.Ordinal));
    }
}
