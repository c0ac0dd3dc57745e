using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Element-wise ops against ONNX Runtime on random inputs with fixed seeds.</summary>
public class ElementwiseTests
{
    [Theory]
    [InlineData("Add")]
    [InlineData("Sub")]
    [InlineData("Mul")]
    [InlineData("Div")]
    public void BroadcastingArithmeticMatchesOnnxRuntime(string op)
    {
        var model = new OnnxModelBuilder()
            .Input("a", DataType.Float, 2, 3, 4).Input("b", DataType.Float, 3, 1)
            .Node(op, new[] { "a", "b" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 2, 3, 4 }, (System.Array)Differential.RandomFloats(1, 24)),
            (new[] { 3, 1 }, (System.Array)Differential.RandomFloats(2, 3, 0.5f, 2f)),
        });
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Exp")]
    [InlineData("Erf")]
    [InlineData("Softplus")]
    [InlineData("HardSwish")]
    public void UnaryMatchesOnnxRuntime(string op)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 5, 7)
            .Node(op, new[] { "x" }, new[] { "y" })
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 5, 7 }, (System.Array)Differential.RandomFloats(3, 35, -4, 4)));
    }
}
