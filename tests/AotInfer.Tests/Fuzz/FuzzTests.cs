using System;
using System.IO;
using System.Linq;
using AotInfer.Cli.Fuzz;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Fuzz;

/// <summary>
/// The CI-sized fuzz run (fixed seed, bounded in time) and one regression test per crash the fuzzer found.
/// The long run is <c>aotinfer fuzz --seconds N --seed S</c>.
/// </summary>
public class FuzzTests
{
    /// <summary>The corpus: shared models, real models and every 25th node test.</summary>
    internal static System.Collections.Generic.List<(string Name, byte[] Bytes)> Corpus() =>
        FuzzRunner.LoadCorpus(new[] { SharedMaterial.Require("models"), SharedMaterial.Require("real-models"), SharedMaterial.Require("onnx-node-tests/node") }, nodeTestStride: 25);

    [Fact]
    public void MutatedModelsNeverCrashHangOrBreakGeneratedCode()
    {
        var settings = new FuzzSettings { Seed = 20261123, Duration = TimeSpan.FromSeconds(30), MaxModels = 3000, BatchSize = 40 };
        var report = FuzzRunner.Run(new ModelMutator(Corpus()), settings);

        Assert.True(report.Models > 100, $"the fuzz run only reached {report.Models} models");
        Assert.True(report.Findings.Count == 0, report + "\n" + string.Join("\n", report.Findings.Take(10)));
    }

    [Fact]
    public void MutatorIsDeterministic()
    {
        var mutator = new ModelMutator(Corpus());
        for (int seed = 0; seed < 20; seed++)
            Assert.Equal(mutator.Mutate(seed).Bytes, mutator.Mutate(seed).Bytes);
    }

    // Found by the fuzzer (mobilenet_v2, initializer dims[0] = 2147483647): the element array was allocated before
    // raw_data's length was checked, so Compile died with OutOfMemoryException.
    [Fact]
    public void HugeInitializerDimsWithSmallRawDataIsAnInvalidModelNotOutOfMemory()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1).Initializer("w", new float[] { 1 }, 1)
            .Node("Add", new[] { "x", "w" }, new[] { "y" }).Output("y", DataType.Float).Build();
        model.Graph.Initializer[0].Dims[0] = int.MaxValue;
        var result = ModelCompiler.Compile(model.ToByteArray(), new CompileOptions());

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.InvalidModel, d.Id);
        Assert.Contains("initializer 'w'", d.Message);
        Assert.Contains("needs 8589934588", d.Message);
    }

    // Found by the fuzzer (test_prelu_broadcast_expanded, Constant 'value' tensor: add dim): typed fields
    // (float_data...) were allocated for the shape before their count was checked.
    [Fact]
    public void HugeConstantAttributeShapeIsADiagnosticNotOutOfMemory()
    {
        var model = new OnnxModelBuilder()
            .Node("Constant", Array.Empty<string>(), new[] { "y" }, ("value", new Tensor(DataType.Float, new[] { 1 }, new float[] { 1 })))
            .Output("y", DataType.Float).Build();
        var t = model.Graph.Node[0].Attribute[0].T;
        t.RawData = ByteString.Empty;
        t.FloatData.Add(1f);
        t.Dims[0] = int.MaxValue;
        var result = ModelCompiler.Compile(model.ToByteArray(), new CompileOptions());

        var d = Assert.Single(result.Diagnostics);
        Assert.Contains("attribute 'value'", d.Message);
        Assert.Contains("needs 2147483647", d.Message);
    }

    // Found by the long fuzz run (seed 493475: ReduceMean -> TopK with one output): an internal error
    // (ArgumentOutOfRangeException) instead of a diagnostic.
    [Fact]
    public void TopKWithOneOutputIsADiagnostic()
    {
        var model = new OnnxModelBuilder(18).Input("x", DataType.Float, 4).Initializer("k", new long[] { 2 }, 1)
            .Node("TopK", new[] { "x", "k" }, new[] { "y" }).Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.UnsupportedFeature, d.Id);
        Assert.Contains("TopK needs both outputs", d.Message);
    }

    // Found by the fuzzer (many node tests, "add output ''"): a node with more outputs than its operator defines
    // was an internal error (AOTI0006) instead of a diagnostic about the model.
    [Theory]
    [InlineData("Relu")]
    [InlineData("Add")]
    public void ExtraNodeOutputIsAModelErrorNotAnInternalError(string op)
    {
        var builder = new OnnxModelBuilder().Input("x", DataType.Float, 2);
        var model = builder.Node(op, op == "Add" ? new[] { "x", "x" } : new[] { "x" }, new[] { "y", "extra" }).Output("y", DataType.Float).ToBytes();
        var result = ModelCompiler.Compile(model, new CompileOptions());

        Assert.False(result.Success);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.UnsupportedFeature, d.Id);
        Assert.Contains("'extra'", d.Message);
        Assert.Contains("more outputs than the operator produces", d.Message);
    }
}
