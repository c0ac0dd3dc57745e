using System;
using System.Threading;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Robustness;

/// <summary>AOTI0009: a model too large or too slow to compile ends in a diagnostic, never in exhausted memory or a hang.</summary>
public class CompileBudgetTests
{
    static byte[] ConstantOfShapeModel(long elements, DataType type) => new OnnxModelBuilder()
        .Initializer("shape", new[] { elements }, 1)
        .Node("ConstantOfShape", new[] { "shape" }, new[] { "y" }, ("value", new Tensor(type, new[] { 1 }, type == DataType.Double ? new double[] { 1 } : new float[] { 1 })))
        .Output("y", type).ToBytes();

    static void AssertBudget(CompileResult result, string expected)
    {
        Assert.False(result.Success);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.CompileBudgetExceeded, d.Id);
        Assert.Contains(expected, d.Message);
    }

    [Fact]
    public void FoldingAHugeConstantStopsBeforeAllocating()
    {
        // 2^31 - 1 doubles would be 16 GiB: the default budget (512 MiB) stops it before evaluation.
        var result = ModelCompiler.Compile(ConstantOfShapeModel(int.MaxValue, DataType.Double), new CompileOptions());
        AssertBudget(result, "CompileOptions.MaxConstantBytes");
        Assert.Contains("ConstantOfShape", result.Diagnostics[0].Message);
    }

    [Fact]
    public void MaxConstantBytesIsConfigurable()
    {
        var model = ConstantOfShapeModel(1000, DataType.Float);
        Assert.True(ModelCompiler.Compile(model, new CompileOptions()).Success);
        AssertBudget(ModelCompiler.Compile(model, new CompileOptions { MaxConstantBytes = 1000 }), "over the limit of 1000");
    }

    [Fact]
    public void InitializersCountTowardsTheConstantBudget()
    {
        var model = new OnnxModelBuilder().Input("x", DataType.Float, 64).Initializer("w", new float[64], 64)
            .Node("Add", new[] { "x", "w" }, new[] { "y" }).Output("y", DataType.Float).ToBytes();
        AssertBudget(ModelCompiler.Compile(model, new CompileOptions { MaxConstantBytes = 100 }), "initializer 'w'");
    }

    [Fact]
    public void MaxNodeCount()
    {
        var builder = new OnnxModelBuilder().Input("x0", DataType.Float, 2);
        for (int i = 0; i < 10; i++) builder.Node("Relu", new[] { $"x{i}" }, new[] { $"x{i + 1}" });
        var model = builder.Output("x10", DataType.Float).ToBytes();
        Assert.True(ModelCompiler.Compile(model, new CompileOptions()).Success);
        AssertBudget(ModelCompiler.Compile(model, new CompileOptions { MaxNodeCount = 9 }), "10 nodes");
    }

    [Fact]
    public void DeeplyNestedSubgraphs()
    {
        // If nodes nested 20 deep through then_branch: rejected before anything else looks at them.
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
        AssertBudget(ModelCompiler.Compile(model.ToByteArray(), new CompileOptions()), "CompileOptions.MaxGraphNesting");
    }

    [Fact]
    public void TimeBudget()
    {
        var model = ConstantOfShapeModel(10, DataType.Float);
        AssertBudget(ModelCompiler.Compile(model, new CompileOptions { TimeBudget = TimeSpan.Zero }), "CompileOptions.TimeBudget");
    }

    [Fact]
    public void CancellationIsTheOneExceptionCompileLetsOut()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            ModelCompiler.Compile(ConstantOfShapeModel(10, DataType.Float), new CompileOptions { CancellationToken = cancelled.Token }));
    }
}
