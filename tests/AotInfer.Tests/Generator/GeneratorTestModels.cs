using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Tests.Support;
using Google.Protobuf;

namespace AotInfer.Tests.Generator;

/// <summary>Small models for the generator tests (element-wise ops only, so they compile on every branch).</summary>
public static class GeneratorTestModels
{
    /// <summary><c>y = Relu(a + b)</c> with <c>a</c> [2,3] and <c>b</c> [3] broadcast over rows.</summary>
    public static byte[] AddRelu() => new OnnxModelBuilder(13)
        .Input("a", DataType.Float, 2, 3).Input("b", DataType.Float, 3)
        .Node("Add", new[] { "a", "b" }, new[] { "sum" })
        .Node("Relu", new[] { "sum" }, new[] { "y" })
        .Output("y", DataType.Float).ToBytes();

    /// <summary>The expected output of <see cref="AddRelu"/>.</summary>
    public static float[] AddReluExpected(float[] a, float[] b)
    {
        var y = new float[6];
        for (int i = 0; i < 6; i++) y[i] = System.Math.Max(0, a[i] + b[i % 3]);
        return y;
    }

    /// <summary><c>y = Sigmoid(x * w)</c> with <c>x</c> [4] and a constant weight <c>w</c> [4] baked in.</summary>
    public static byte[] ScaledSigmoid() => new OnnxModelBuilder(13)
        .Input("x", DataType.Float, 4)
        .Initializer("w", ScaledSigmoidWeights, 4)
        .Node("Mul", new[] { "x", "w" }, new[] { "scaled" })
        .Node("Sigmoid", new[] { "scaled" }, new[] { "y" })
        .Output("y", DataType.Float).ToBytes();

    /// <summary>The constant weight of <see cref="ScaledSigmoid"/>.</summary>
    public static readonly float[] ScaledSigmoidWeights = { 0.5f, -1f, 2f, 0f };

    /// <summary>The expected output of <see cref="ScaledSigmoid"/>.</summary>
    public static float[] ScaledSigmoidExpected(float[] x)
    {
        var y = new float[4];
        for (int i = 0; i < 4; i++) y[i] = 1f / (1f + System.MathF.Exp(-x[i] * ScaledSigmoidWeights[i]));
        return y;
    }

    /// <summary>
    /// <c>y = Softmax(x, axis 0)</c> with <c>x</c> ["batch", 3]: the batch dimension is symbolic and the softmax mixes
    /// samples, so it cannot stay a run-time batch and must be pinned.
    /// </summary>
    public static byte[] SymbolicBatchAcrossSamples()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 3)
            .Node("Softmax", new[] { "x" }, new[] { "y" }, ("axis", 0L))
            .Output("y", DataType.Float).Build();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        return model.ToByteArray();
    }

    /// <summary><c>y = Relu(x)</c> with <c>x</c> ["batch", 3]: the batch is a run-time size unless pinned.</summary>
    public static byte[] SymbolicBatchRelu()
    {
        var model = new OnnxModelBuilder(13)
            .Input("x", DataType.Float, 1, 3)
            .Node("Relu", new[] { "x" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        return model.ToByteArray();
    }

    /// <summary>Two nodes of operators nobody implements, then a supported one: all unsupported nodes must be reported.</summary>
    public static byte[] TwoUnsupportedOps() => new OnnxModelBuilder(13)
        .Input("x", DataType.Float, 4)
        .NodeInDomain("com.example", "Frobnicate", new[] { "x" }, new[] { "f" }, System.Array.Empty<(string, object)>())
        .NodeInDomain("com.example", "Twiddle", new[] { "f" }, new[] { "t" }, System.Array.Empty<(string, object)>())
        .Node("Relu", new[] { "t" }, new[] { "y" })
        .Output("y", DataType.Float).ToBytes();

    /// <summary>Add of a float and an int64 tensor: a supported operator used in a way it does not support.</summary>
    public static byte[] MixedTypeAdd() => new OnnxModelBuilder(13)
        .Input("a", DataType.Float, 3).Input("b", DataType.Int64, 3)
        .Node("Add", new[] { "a", "b" }, new[] { "y" })
        .Output("y", DataType.Float).ToBytes();

    /// <summary>A string input: generated code cannot hold strings.</summary>
    public static byte[] StringInput() => new OnnxModelBuilder(13)
        .Input("s", DataType.String, 2)
        .Node("Identity", new[] { "s" }, new[] { "y" })
        .Output("y", DataType.String).ToBytes();

    /// <summary>
    /// Raw tensors at the boundary: int4 <c>x</c> [5] dequantised with scale 0.5 and a constant int4 zero point −1 to
    /// float <c>y</c>, which is also quantised to float8 e4m3fn <c>f8</c> (scale 1).
    /// </summary>
    public static byte[] Int4ToFloat8() => new OnnxModelBuilder(21)
        .Input("x", DataType.Int4, 5)
        .Initializer("scale", new Tensor(DataType.Float, System.Array.Empty<int>(), new[] { 0.5f }))
        .Initializer("zero", new Tensor(DataType.Int4, System.Array.Empty<int>(), new sbyte[] { -1 }))
        .Initializer("one", new Tensor(DataType.Float, System.Array.Empty<int>(), new[] { 1f }))
        .Node("DequantizeLinear", new[] { "x", "scale", "zero" }, new[] { "y" })
        .Node("QuantizeLinear", new[] { "y", "one" }, new[] { "f8" }, ("output_dtype", (long)DataType.Float8E4M3FN))
        .Output("y", DataType.Float).Output("f8", DataType.Float8E4M3FN).ToBytes();
}
