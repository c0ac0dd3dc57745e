using System;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Compiler;

/// <summary>Intermediate values that are also graph outputs are written to the caller's span and still read by later nodes.</summary>
public class GraphOutputTests
{
    [Fact]
    public void ConvOutputThatIsAlsoAGraphOutputFeedsTheRelu()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 2, 5, 5)
            .Initializer("w", Differential.RandomFloats(3, 3 * 2 * 3 * 3), 3, 2, 3, 3)
            .Initializer("b", Differential.RandomFloats(4, 3), 3)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "c" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", new[] { "c" }, new[] { "y" })
            .Output("c", DataType.Float).Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 1, 2, 5, 5 }, (Array)Differential.RandomFloats(5, 50)));
    }
}
