using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Training;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>One finite-difference gradient check per backward rule (parameters and input).</summary>
public class BackwardRuleTests
{
    public BackwardRuleTests() => Progress.Enabled = false;

    static float[] R(int seed, int count, float scale = 0.5f) => GradientCheck.RandomValues(seed, count, scale);

    [Theory]
    [InlineData(0, 1, 1f, 1f, "bias-n")]
    [InlineData(0, 0, 1f, 1f, "bias-n")]
    [InlineData(1, 0, 0.5f, 2f, "bias-1n")]
    [InlineData(1, 1, 1.5f, 0.5f, "bias-m1")]
    [InlineData(0, 1, 1f, 1f, "none")]
    public void Gemm(int transA, int transB, float alpha, float beta, string bias)
    {
        const int m = 3, k = 4, n = 5;
        var builder = new OnnxModelBuilder()
            .Input("x", DataType.Float, transA == 1 ? new[] { k, m } : new[] { m, k })
            .Initializer("w", R(2, k * n), transB == 1 ? new[] { n, k } : new[] { k, n });
        var inputs = new[] { "x", "w" };
        if (bias != "none")
        {
            builder.Initializer("c", R(3, bias == "bias-m1" ? m : n), bias switch { "bias-n" => new[] { n }, "bias-1n" => new[] { 1, n }, _ => new[] { m, 1 } });
            inputs = new[] { "x", "w", "c" };
        }
        var model = builder.Node("Gemm", inputs, new[] { "y" }, ("transA", (long)transA), ("transB", (long)transB), ("alpha", alpha), ("beta", beta))
            .Output("y", DataType.Float).Build();
        // With transA the "batch" is the second dimension; the check feeds the whole tensor as one batch row block.
        int[] shape = transA == 1 ? new[] { k, m } : new[] { m, k };
        Assert.True(GradientCheck.Run(model, shape) > 0);
    }

    [Fact]
    public void MatMulWithAddedBias()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 3, 4)
            .Initializer("w", R(2, 4 * 5), 4, 5)
            .Initializer("b", R(3, 5), 5)
            .Node("MatMul", new[] { "x", "w" }, new[] { "h" })
            .Node("Add", new[] { "h", "b" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        var parameters = TrainingGraph.Build(model).Parameters;
        Assert.Equal(new[] { ("w", ParameterRole.Weight), ("b", ParameterRole.Bias) }, parameters.Select(p => (p.Name, p.Role)));
        GradientCheck.Run(model, new[] { 2, 3, 4 });
    }

    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 1, 2, 1)]
    [InlineData(1, 2, 4, 2)]
    public void Conv(int stride, int pad, int groups, int dilation)
    {
        // groups 4 with 4 channels is depthwise.
        int channels = 4, outChannels = groups == 4 ? 4 : 6;
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, channels, 5, 5)
            .Initializer("w", R(2, outChannels * (channels / groups) * 9), outChannels, channels / groups, 3, 3)
            .Initializer("b", R(3, outChannels), outChannels)
            .Node("Conv", new[] { "x", "w", "b" }, new[] { "y" }, ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }),
                ("group", (long)groups), ("dilations", new long[] { dilation, dilation }))
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 2, channels, 5, 5 }, input: R(7, 2 * channels * 25, 1f));
    }

    [Fact]
    public void Conv1D()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 3, 7)
            .Initializer("w", R(2, 4 * 3 * 3), 4, 3, 3)
            .Node("Conv", new[] { "x", "w" }, new[] { "y" }, ("pads", new long[] { 1, 0 }), ("strides", new long[] { 2 }))
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 2, 3, 7 }, input: R(7, 42, 1f));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormalization(bool training)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 3, 2, 2, 2)
            .Initializer("scale", new[] { 1.2f, 0.7f }, 2)
            .Initializer("bias", new[] { 0.1f, -0.3f }, 2)
            .Initializer("mean", new[] { 0.05f, -0.1f }, 2)
            .Initializer("var", new[] { 0.8f, 1.3f }, 2)
            .Node("BatchNormalization", new[] { "x", "scale", "bias", "mean", "var" }, new[] { "y" }, ("epsilon", 1e-3f))
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 3, 2, 2, 2 }, training: training, input: R(5, 24, 1f));
    }

    [Fact]
    public void BatchNormalizationTrainingUpdatesRunningStatisticsAndExportsThem()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 4, 1, 2)
            .Initializer("scale", new[] { 1f }, 1).Initializer("bias", new[] { 0f }, 1)
            .Initializer("mean", new[] { 0f }, 1).Initializer("var", new[] { 1f }, 1)
            .Node("BatchNormalization", new[] { "x", "scale", "bias", "mean", "var" }, new[] { "y" }, ("momentum", 0.9f))
            .Output("y", DataType.Float).Build();
        var graph = TrainingGraph.Build(model);
        var x = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var y = graph.Forward(x, 4, new[] { 1, 2 }).Span.ToArray();
        // Batch mean 4.5, biased variance 5.25, unbiased 6.
        Assert.Equal((1 - 4.5) / Math.Sqrt(5.25 + 1e-5), y[0], 4);
        var written = model.Clone();
        graph.WriteTo(written);
        var editor = new AotInfer.Optimize.Onnx.GraphEditor(written);
        Assert.Equal(0.45f, editor.ReadFloat("mean")!.As<float>()[0], 5);
        Assert.Equal(0.9f + 0.1f * 6f, editor.ReadFloat("var")!.As<float>()[0], 5);
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("LeakyRelu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("HardSwish")]
    public void Activation(string op)
    {
        // A Gemm in front gives the check a parameter whose gradient passes through the activation's rule.
        var builder = new OnnxModelBuilder(opset: 14)
            .Input("x", DataType.Float, 2, 4)
            .Initializer("w", R(2, 4 * 6, 0.4f), 4, 6)
            .Node("MatMul", new[] { "x", "w" }, new[] { "h" });
        if (op == "LeakyRelu") builder.Node(op, new[] { "h" }, new[] { "y" }, ("alpha", 0.2f));
        else builder.Node(op, new[] { "h" }, new[] { "y" });
        var model = builder.Output("y", DataType.Float).Build();
        // Inputs spread out so that the pre-activations stay clear of kinks by more than ε.
        GradientCheck.Run(model, new[] { 2, 4 }, input: new[] { 1.3f, -0.7f, 2.1f, 0.4f, -1.6f, 0.9f, -0.3f, 1.8f });
    }

    [Theory]
    [InlineData(11)]
    [InlineData(6)]
    public void ClipInsideAndOutsideItsBounds(int opset)
    {
        var builder = new OnnxModelBuilder(opset).Input("x", DataType.Float, 1, 8);
        if (opset >= 11)
            builder.Initializer("lo", new[] { -0.5f }, Array.Empty<int>()).Initializer("hi", new[] { 0.6f }, Array.Empty<int>())
                .Node("Clip", new[] { "x", "lo", "hi" }, new[] { "y" });
        else builder.Node("Clip", new[] { "x" }, new[] { "y" }, ("min", -0.5f), ("max", 0.6f));
        var model = builder.Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 1, 8 }, input: new[] { -1.5f, -0.7f, -0.3f, 0.1f, 0.45f, 0.8f, 1.2f, -0.05f });
    }

    [Fact]
    public void HardSwishAcrossItsThreePieces()
    {
        var model = new OnnxModelBuilder(opset: 14).Input("x", DataType.Float, 1, 8)
            .Node("HardSwish", new[] { "x" }, new[] { "y" }).Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 1, 8 }, input: new[] { -4.5f, -3.5f, -2.2f, -0.6f, 0.4f, 1.9f, 3.4f, 5f });
    }

    [Theory]
    [InlineData("MaxPool", 0, 2)]
    [InlineData("MaxPool", 1, 1)]
    [InlineData("AveragePool", 0, 2)]
    [InlineData("AveragePool", 1, 2)]
    [InlineData("AveragePool", 1, 1)]
    public void Pooling(string op, int pad, int stride)
    {
        var attributes = new System.Collections.Generic.List<(string, object)>
        {
            ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { stride, stride }), ("pads", new long[] { pad, pad, pad, pad }),
        };
        if (op == "AveragePool") attributes.Add(("count_include_pad", (long)(stride == 1 ? 1 : 0)));
        var model = new OnnxModelBuilder().Input("x", DataType.Float, 1, 2, 5, 5)
            .Node(op, new[] { "x" }, new[] { "y" }, attributes.ToArray())
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 1, 2, 5, 5 }, samplesPerTensor: 50);
    }

    [Fact]
    public void MaxPoolCeilMode()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 1, 5, 5)
            .Node("MaxPool", new[] { "x" }, new[] { "y" }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1L))
            .Output("y", DataType.Float).Build();
        var graph = TrainingGraph.Build(model);
        Assert.Equal(new[] { 1, 1, 3, 3 }, graph.Forward(GradientCheck.AwayFromZero(1, 25), 1, new[] { 1, 5, 5 }).Shape);
        GradientCheck.Run(model, new[] { 1, 1, 5, 5 }, samplesPerTensor: 25);
    }

    [Fact]
    public void GlobalAveragePool()
    {
        var model = new OnnxModelBuilder().Input("x", DataType.Float, 2, 3, 2, 2)
            .Node("GlobalAveragePool", new[] { "x" }, new[] { "y" }).Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 2, 3, 2, 2 });
    }

    [Theory]
    [InlineData("Add")]
    [InlineData("Mul")]
    public void BroadcastBinary(string op)
    {
        // y = x ∘ mean(x) per channel: the second operand [N,C,1,1] broadcasts over the spatial dimensions, so its
        // gradient is a reduction, and both paths reach x.
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 3, 2, 2)
            .Initializer("s", R(4, 3, 1f), 3, 1, 1)
            .Node("GlobalAveragePool", new[] { "x" }, new[] { "m" })
            .Node(op, new[] { "x", "m" }, new[] { "a" })
            .Node(op, new[] { "a", "s" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 2, 3, 2, 2 }, samplesPerTensor: 24);
    }

    [Fact]
    public void FlattenReshapeIdentity()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 2, 3)
            .Initializer("shape", new long[] { 0, -1 }, 2)
            .Initializer("w", R(2, 6 * 4), 4, 6)
            .Node("Reshape", new[] { "x", "shape" }, new[] { "r" })
            .Node("Identity", new[] { "r" }, new[] { "i" })
            .Node("Gemm", new[] { "i", "w" }, new[] { "g" }, ("transB", 1L))
            .Node("Flatten", new[] { "g" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 2, 2, 3 });
    }

    [Fact]
    public void Concat()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 3)
            .Initializer("w", R(2, 3 * 2), 3, 2)
            .Node("MatMul", new[] { "x", "w" }, new[] { "h" })
            .Node("Concat", new[] { "x", "h", "x" }, new[] { "y" }, ("axis", 1L))
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 2, 3 });
    }

    [Fact]
    public void DropoutMasksForwardAndBackwardAlikeAndIsIdentityInEvaluation()
    {
        var model = new OnnxModelBuilder(opset: 11)
            .Input("x", DataType.Float, 4, 50)
            .Node("Dropout", new[] { "x" }, new[] { "y" }, ("ratio", 0.3f))
            .Output("y", DataType.Float).Build();
        var graph = TrainingGraph.Build(model, seed: 5, inputGradient: true);
        var x = GradientCheck.AwayFromZero(3, 200);
        var y = graph.Forward(x, 4, new[] { 50 }).Span.ToArray();
        var dy = R(9, 200, 1f);
        graph.Backward(dy);
        var dx = graph.InputGradient!.Span.ToArray();
        int dropped = 0;
        for (int i = 0; i < 200; i++)
        {
            if (y[i] == 0) { dropped++; Assert.Equal(0f, dx[i]); }
            else
            {
                Assert.Equal(x[i] / 0.7f, y[i], 5);
                Assert.Equal(dy[i] / 0.7f, dx[i], 5);
            }
        }
        Assert.InRange(dropped, 40, 80);
        graph.Training = false;
        Assert.Equal(x, graph.Forward(x, 4, new[] { 50 }).Span.ToArray());
        GradientCheck.Run(model, new[] { 4, 50 }, training: false);
    }

    [Theory]
    [InlineData("Softmax", 13, -1)]
    [InlineData("LogSoftmax", 13, 1)]
    [InlineData("Softmax", 11, 1)]
    [InlineData("LogSoftmax", 11, 2)]
    public void SoftmaxInsideTheGraph(string op, int opset, long axis)
    {
        // Identity after the softmax keeps it inside the trained graph (a final softmax is folded into the loss).
        var model = new OnnxModelBuilder(opset)
            .Input("x", DataType.Float, 2, 3, 4)
            .Node(op, new[] { "x" }, new[] { "s" }, ("axis", axis))
            .Node("Identity", new[] { "s" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        GradientCheck.Run(model, new[] { 2, 3, 4 }, input: R(3, 24, 2f));
    }
}
