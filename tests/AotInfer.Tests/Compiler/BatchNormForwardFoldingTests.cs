using System.Linq;
using AotInfer.Compiler.Passes;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;
using static AotInfer.Tests.Compiler.FusionPassTests;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// BatchNormForwardFolding: a BatchNormalization read by a constant-weight Gemm, directly or through Flatten(axis 1),
/// disappears into the Gemm's weights and bias and the model still agrees with ONNX Runtime on random inputs (fixed
/// seeds); readers it cannot fold into keep the BatchNormalization.
/// </summary>
public class BatchNormForwardFoldingTests
{
    /// <summary>x [1, C, 3, 4] → Relu → BatchNormalization → n → Flatten(axis) → f → Gemm(B [N, C·12] or its transpose, C?) → y.</summary>
    static byte[] NormFlattenGemm(int channels, int outputs, bool transB, bool withC, float alpha, float beta, long axis = 1)
    {
        int k = channels * 12;
        var b = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, channels, 3, 4)
            .Node("Relu", new[] { "x" }, new[] { "r" });
        BatchNorm(b, "r", "n", channels, 70)
            .Node("Flatten", new[] { "n" }, new[] { "f" }, ("axis", axis))
            .Initializer("w", Differential.RandomFloats(71, k * outputs), transB ? new[] { outputs, k } : new[] { k, outputs });
        if (withC) b.Initializer("c", Differential.RandomFloats(72, outputs), 1, outputs);
        return b.Node("Gemm", withC ? new[] { "f", "w", "c" } : new[] { "f", "w" }, new[] { "y" },
                ("transB", transB ? 1L : 0L), ("alpha", alpha), ("beta", beta))
            .Output("y", DataType.Float).ToBytes();
    }

    [Theory]
    [InlineData(24, 32, true, true, 1f, 1f)]      // burn-mnist's norm1 → Flatten → fc1 (with its Relu fused)
    [InlineData(5, 7, false, true, 0.5f, 2f)]     // B not transposed, α and β not 1
    [InlineData(3, 10, true, false, 1.5f, 0.25f)] // no C: the shift becomes the bias
    public void NormalizationBeforeFlattenAndGemmFoldsIntoTheGemm(int channels, int outputs, bool transB, bool withC, float alpha, float beta)
    {
        var model = NormFlattenGemm(channels, outputs, transB, withC, alpha, beta);
        var graph = CompiledGraph(model);
        Assert.DoesNotContain(graph.Nodes, n => n.OpType == "BatchNormalization");
        var gemm = Assert.Single(graph.Nodes, n => n.OpType == "Gemm");
        Assert.Contains("before it", (string)gemm.Annotations[FusedEpilogue.BatchNormKey]);
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(73, 1, channels, 3, 4));
    }

    [Fact]
    public void NormalizationOfRowsFoldsIntoTheGemmThatReadsThem()
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 2, 6);
        var model = BatchNorm(b, "x", "n", 6, 74)
            .Initializer("w", Differential.RandomFloats(75, 6 * 4), 6, 4)
            .Node("Gemm", new[] { "n", "w" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Equal(new[] { "Gemm" }, CompiledGraph(model).Nodes.Select(n => n.OpType));
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(76, 2, 6));
    }

    [Fact]
    public void FlattenAtAnotherAxisKeepsTheNormalization()
    {
        // Flatten(axis 2) gives [C, 12] rows: the Gemm's K is no longer the channel-major feature axis.
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 4, 3, 4);
        var model = BatchNorm(b, "x", "n", 4, 77)
            .Node("Flatten", new[] { "n" }, new[] { "f" }, ("axis", 2L))
            .Initializer("w", Differential.RandomFloats(78, 12 * 5), 12, 5)
            .Node("Gemm", new[] { "f", "w" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Assert.Contains(CompiledGraph(model).Nodes, n => n.OpType == "BatchNormalization");
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(79, 1, 4, 3, 4));
    }

    [Fact]
    public void NormalizationWithAnotherReaderOrBeforeAConvIsKept()
    {
        var b = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 4, 6, 6);
        var model = BatchNorm(b, "x", "n", 4, 80)
            .Initializer("w", Differential.RandomFloats(81, 8 * 4 * 9), 8, 4, 3, 3)
            .Node("Conv", new[] { "n", "w" }, new[] { "y" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Flatten", new[] { "n" }, new[] { "f" })
            .Initializer("g", Differential.RandomFloats(82, 144 * 3), 144, 3)
            .Node("Gemm", new[] { "f", "g" }, new[] { "z" })
            .Output("y", DataType.Float)
            .Output("z", DataType.Float).ToBytes();
        Assert.Contains(CompiledGraph(model).Nodes, n => n.OpType == "BatchNormalization");
        Differential.AssertAgrees(model, 1e-4, 1e-4, Input(83, 1, 4, 6, 6));
    }
}
