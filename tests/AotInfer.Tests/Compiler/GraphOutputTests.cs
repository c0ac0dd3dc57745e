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

    [Fact]
    public void InputAndOutputNamesThatLookLikeGeneratedLocalsDoNotCollide()
    {
        // Generated Run bodies name constants c0, c1, … and arena values t0, t1, …; a model whose tensors carry such
        // names (here the Conv output "c2" is a graph output, and the input is "t0") must still compile (was CS0841).
        var model = new OnnxModelBuilder(13)
            .Input("t0", DataType.Float, 1, 2, 5, 5)
            .Initializer("w", Differential.RandomFloats(3, 3 * 2 * 3 * 3), 3, 2, 3, 3)
            .Initializer("b", Differential.RandomFloats(4, 3), 3)
            .Initializer("s", Differential.RandomFloats(6, 3 * 5 * 5), 1, 3, 5, 5)
            .Node("Conv", new[] { "t0", "w", "b" }, new[] { "c2" }, ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", new[] { "c2" }, new[] { "t1" })
            .Node("Add", new[] { "t1", "s" }, new[] { "c0" })
            .Output("c2", DataType.Float).Output("c0", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: (new[] { 1, 2, 5, 5 }, (Array)Differential.RandomFloats(5, 50)));
    }
}
