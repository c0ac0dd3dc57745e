using System;
using System.Linq;
using AotInfer.EndToEnd.Models;
using AotInfer.Kernels;
using Xunit;

namespace AotInfer.EndToEnd;

/// <summary>Runs the classes the generator produced during this project's own build.</summary>
public class GeneratedModelTests
{
    [Fact]
    public void MetadataFormAddReluComputesReluOfBroadcastSum()
    {
        var model = new AddReluModel();
        float[] a = { -1, 2, -3, 4, -5, 6 }, b = { 0.5f, -0.5f, 4 };
        var y = new float[6];

        model.Run(a, b, y);

        Assert.Equal(new[] { 0f, 1.5f, 1f, 4.5f, 0f, 10f }, y);
        Assert.Equal("add-relu.onnx", AddReluModel.ModelInfo.ModelFile);
        Assert.Equal(new[] { "a", "b" }, AddReluModel.ModelInfo.Inputs.Select(i => i.Name));
    }

    [Fact]
    public void MetadataFormPinsTheSymbolicBatchDimension()
    {
        Assert.Equal(new[] { 2, 3 }, BatchReluModel.ModelInfo.Inputs[0].Shape);
        var y = new float[6];

        new BatchReluModel().Run(new float[] { -1, 1, -2, 2, -3, 3 }, y);

        Assert.Equal(new[] { 0f, 1f, 0f, 2f, 0f, 3f }, y);
    }

    [Fact]
    public void AttributeFormScaledSigmoidUsesTheBakedWeights()
    {
        IGeneratedModel model = new ScaledSigmoidModel();
        float[] x = { 1, 2, -0.5f, 7 }, w = { 0.5f, -1f, 2f, 0f };
        var y = new float[4];

        model.Run(new Array[] { x }, new Array[] { y });

        for (int i = 0; i < 4; i++)
            Assert.Equal(1f / (1f + MathF.Exp(-x[i] * w[i])), y[i], 6);
        Assert.True(typeof(ScaledSigmoidModel).IsPublic);
    }

    [Fact]
    public void WrongInputLengthIsRejected()
    {
        var model = new AddReluModel();
        var e = Assert.Throws<ArgumentException>(() => model.Run(new float[5], new float[3], new float[6]));
        Assert.Contains("must have 6 elements", e.Message);
    }
}
