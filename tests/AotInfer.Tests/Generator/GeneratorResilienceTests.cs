using System;
using System.Linq;
using AotInfer.Cli.Fuzz;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Tests.Fuzz;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Generator;

/// <summary>Malformed models through the real generator driver: diagnostics only, never an exception (CS8785).</summary>
public class GeneratorResilienceTests
{
    [Fact]
    public void EveryMalformedModelOfTheFuzzCorpusGivesDiagnosticsNotExceptions()
    {
        var mutator = new ModelMutator(FuzzTests.Corpus().Where(m => m.Bytes.Length < 2_000_000).ToList());
        using var project = new GeneratorProject();
        const int count = 60;
        for (int i = 0; i < count; i++)
            project.AddModel($"models/m{i}.onnx", mutator.Mutate(777 + i).Bytes, className: $"Mutated{i}");
        var run = project.Run();

        var crashes = run.Diagnostics.Where(d => d.Id is "CS8785" or "AOTI0006").ToList();
        Assert.True(crashes.Count == 0, string.Join("\n", crashes.Take(5)));
        Assert.Empty(run.Driver.GetRunResult().Results.Single().Exception is { } e ? new[] { e } : Array.Empty<Exception>());
        // Each model either generated its class or said why not.
        var generated = run.GeneratedSources.Keys.ToList();
        for (int i = 0; i < count; i++)
            Assert.True(generated.Any(k => k.Contains($"Mutated{i}.", StringComparison.Ordinal)) || run.Diagnostics.Any(d => d.GetMessage().StartsWith($"models/m{i}.onnx", StringComparison.Ordinal)),
                $"model m{i} ({mutator.Mutate(777 + i).Description}) produced neither source nor a diagnostic");
    }

    [Fact]
    public void AOTI0009_TooDeeplyNestedSubgraphsThroughTheGenerator()
    {
        GraphProto Nest(int depth)
        {
            var g = new GraphProto { Name = $"level{depth}" };
            var node = new NodeProto { OpType = "If", Name = $"if{depth}" };
            node.Input.Add("c");
            node.Output.Add($"o{depth}");
            if (depth < 20) node.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = Nest(depth + 1) });
            g.Node.Add(node);
            return g;
        }
        var model = new OnnxModelBuilder().Input("c", DataType.Bool).Build();
        model.Graph.Node.Add(Nest(1).Node[0]);
        using var project = new GeneratorProject().AddModel("models/nested.onnx", model.ToByteArray(), className: "Nested");
        var run = project.Run();

        var d = Assert.Single(run.WithId("AOTI0009"));
        Assert.StartsWith("models/nested.onnx: ", d.GetMessage());
        Assert.Contains("MaxGraphNesting", d.GetMessage());
        Assert.DoesNotContain(run.GeneratedSources.Keys, k => k.Contains("Nested", StringComparison.Ordinal));
    }

    [Fact]
    public void AOTI0008_ShapeInputKnownOnlyAtRunTimeThroughTheGenerator()
    {
        var model = new OnnxModelBuilder(18)
            .Input("x", DataType.Float, 4, 6).Input("shape", DataType.Int64, 2)
            .Node("Reshape", new[] { "x", "shape" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        using var project = new GeneratorProject().AddModel("models/reshape.onnx", model, className: "Reshaper");
        var run = project.Run();

        var d = Assert.Single(run.WithId("AOTI0008"));
        Assert.Contains("'shape'", d.GetMessage());
        Assert.Empty(run.WithId("AOTI0006"));
    }
}
