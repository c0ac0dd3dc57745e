using System;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Tests.Support;

namespace AotInfer.Tests.Optimize;

/// <summary>Small models and data for the optimisation toolkit's tests (random weights, fixed seeds).</summary>
public static class OptimizeTestModels
{
    /// <summary>Input shape of <see cref="SmallCnn"/>.</summary>
    public static readonly int[] InputShape = { 1, 2, 6, 6 };

    /// <summary>Conv → BatchNormalization → Relu → Conv → Relu → Flatten → Gemm → Identity → Dropout: every rewrite has something to do.</summary>
    public static ModelProto SmallCnn(int seed = 7) => new OnnxModelBuilder()
        .Input("x", DataType.Float, InputShape)
        .Initializer("w1", Differential.RandomFloats(seed, 4 * 2 * 9), 4, 2, 3, 3)
        .Initializer("b1", Differential.RandomFloats(seed + 1, 4), 4)
        .Initializer("gamma", Differential.RandomFloats(seed + 2, 4, 0.5f, 1.5f), 4)
        .Initializer("beta", Differential.RandomFloats(seed + 3, 4), 4)
        .Initializer("mean", Differential.RandomFloats(seed + 4, 4), 4)
        .Initializer("var", Differential.RandomFloats(seed + 5, 4, 0.5f, 2f), 4)
        .Initializer("w2", Differential.RandomFloats(seed + 6, 3 * 4 * 9), 3, 4, 3, 3)
        .Initializer("w3", Differential.RandomFloats(seed + 7, 5 * 3 * 36), 5, 3 * 36)
        .Initializer("b3", Differential.RandomFloats(seed + 8, 5), 5)
        .Node("Conv", new[] { "x", "w1", "b1" }, new[] { "c1" }, ("pads", new long[] { 1, 1, 1, 1 }))
        .Node("BatchNormalization", new[] { "c1", "gamma", "beta", "mean", "var" }, new[] { "n1" }, ("epsilon", 1e-3f))
        .Node("Relu", new[] { "n1" }, new[] { "r1" })
        .Node("Conv", new[] { "r1", "w2" }, new[] { "c2" }, ("pads", new long[] { 1, 1, 1, 1 }))
        .Node("Relu", new[] { "c2" }, new[] { "r2" })
        .Node("Flatten", new[] { "r2" }, new[] { "f" })
        .Node("Gemm", new[] { "f", "w3", "b3" }, new[] { "g" }, ("transB", 1L))
        .Node("Identity", new[] { "g" }, new[] { "i" })
        .Node("Dropout", new[] { "i" }, new[] { "y" })
        .Output("y", DataType.Float)
        .Build();

    /// <summary>A random input for <see cref="SmallCnn"/>.</summary>
    public static float[] Input(int seed) => Differential.RandomFloats(seed, 72, 0, 1);

    /// <summary>Random samples of <see cref="SmallCnn"/>'s input with labels 0..4.</summary>
    public static LabeledImages Samples(int count, int seed = 3)
    {
        var pixels = Differential.RandomFloats(seed, count * 72, 0, 1);
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = i % 5;
        return new LabeledImages(pixels, new[] { 2, 6, 6 }, labels, "random");
    }

    /// <summary>Runs a model in ONNX Runtime on one input of <see cref="SmallCnn"/>'s shape.</summary>
    public static float[] RunOrt(ModelProto model, float[] input) =>
        (float[])Differential.RunOnnxRuntime(Google.Protobuf.MessageExtensions.ToByteArray(model), (InputShape, input))[0];

    /// <summary>Largest absolute difference.</summary>
    public static double MaxDifference(float[] a, float[] b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
