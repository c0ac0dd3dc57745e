using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>Classification losses against ONNX Runtime.</summary>
public class LossTests
{
    [Theory]
    [InlineData("NegativeLogLikelihoodLoss", "mean", false)]
    [InlineData("NegativeLogLikelihoodLoss", "sum", true)]
    [InlineData("SoftmaxCrossEntropyLoss", "none", false)]
    [InlineData("SoftmaxCrossEntropyLoss", "mean", true)]
    public void LossMatchesOnnxRuntime(string op, string reduction, bool ignoreIndex)
    {
        var builder = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 3, 5, 2).Input("t", DataType.Int64, 3, 2)
            .Initializer("w", new float[] { 0.5f, 1, 2, 1.5f, 0.25f }, 5);
        var attributes = ignoreIndex
            ? new (string, object)[] { ("reduction", reduction), ("ignore_index", 2L) }
            : new (string, object)[] { ("reduction", reduction) };
        var model = builder.Node(op, new[] { "x", "t", "w" }, new[] { "loss" }, attributes).Output("loss", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[]
        {
            (new[] { 3, 5, 2 }, (System.Array)Differential.RandomFloats(7, 30, -3, 3)),
            (new[] { 3, 2 }, (System.Array)new long[] { 0, 2, 4, 1, 2, 3 }),
        });
    }
}
