using System;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// Batch-1 Gemm and MatMul with constant weights lower to the GEMV kernel; every epilogue ONNX allows (alpha, beta,
/// bias of shape [N], [1,N], [1] or none, a fused Relu) must still agree with ONNX Runtime, and the original weights
/// must no longer be emitted.
/// </summary>
public class GemvLoweringTests
{
    const int K = 70, N = 83;

    static byte[] GemmModel(float alpha, float beta, int[]? biasShape, bool transB, bool relu)
    {
        var b = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, K)
            .Initializer("w", Differential.RandomFloats(3, K * N), transB ? new[] { N, K } : new[] { K, N });
        var inputs = new[] { "x", "w" };
        if (biasShape is not null)
        {
            int count = 1;
            foreach (int d in biasShape) count *= d;
            b.Initializer("c", Differential.RandomFloats(4, count), biasShape);
            inputs = new[] { "x", "w", "c" };
        }
        b.Node("Gemm", inputs, new[] { relu ? "g" : "y" }, ("alpha", alpha), ("beta", beta), ("transB", transB ? 1L : 0L));
        if (relu) b.Node("Relu", new[] { "g" }, new[] { "y" });
        return b.Output("y", DataType.Float).ToBytes();
    }

    [Theory]
    [InlineData(1f, 1f, new[] { N }, true, true)]
    [InlineData(1f, 1f, new[] { 1, N }, false, true)]
    [InlineData(1f, 1f, new[] { 1 }, true, false)]
    [InlineData(0.5f, 1f, new[] { N }, true, true)]
    [InlineData(1f, 2f, new[] { N }, false, false)]
    [InlineData(1.5f, -1f, new[] { 1, 1 }, true, true)]
    [InlineData(1f, 1f, null, false, true)]
    [InlineData(2f, 1f, null, true, false)]
    public void GemmAgreesWithOnnxRuntime(float alpha, float beta, int[]? biasShape, bool transB, bool relu)
    {
        byte[] model = GemmModel(alpha, beta, biasShape, transB, relu);
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.Contains("VectorMatrixMultiply.Multiply", result.Source);
        Differential.AssertAgrees(model, 1e-4, 1e-5, (new[] { 1, K }, Differential.RandomFloats(5, K)));
    }

    [Fact]
    public void MatMulWithFusedBiasAndReluAgreesAndDropsTheOriginalWeights()
    {
        byte[] model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 1, K)
            .Initializer("w", Differential.RandomFloats(6, K * N), K, N)
            .Initializer("bias", Differential.RandomFloats(7, N), N)
            .Node("MatMul", new[] { "x", "w" }, new[] { "m" })
            .Node("Add", new[] { "m", "bias" }, new[] { "a" })
            .Node("Relu", new[] { "a" }, new[] { "y" })
            .Output("y", DataType.Float)
            .ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.Contains("VectorMatrixMultiply.Multiply", result.Source);
        // Only the laid-out copy (K × N rounded up to 16 columns) is stored, not the K × N original.
        Assert.Contains($"// w (laid out for the GEMV): Float[{K * 96}]", result.Source);
        Assert.DoesNotContain($"// w: Float[{K},{N}]", result.Source);
        Differential.AssertAgrees(model, 1e-4, 1e-5, (new[] { 1, 1, K }, Differential.RandomFloats(8, K)));
    }
}
