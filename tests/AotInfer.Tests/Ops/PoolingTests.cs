using System.Linq;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>The pools against ONNX Runtime on random inputs with fixed seeds.</summary>
public class PoolingTests
{
    static void AssertPoolAgrees(string op, int[] x, int outputs = 1, int opset = 19, params (string, object)[] attributes)
    {
        var builder = new OnnxModelBuilder(opset).Input("x", DataType.Float, x);
        string[] names = outputs == 1 ? new[] { "y" } : new[] { "y", "indices" };
        builder.Node(op, new[] { "x" }, names, attributes).Output("y", DataType.Float);
        if (outputs > 1) builder.Output("indices", DataType.Int64);
        var data = Differential.RandomFloats(21, x.Aggregate(1, (a, b) => a * b), -3, 3);
        Differential.AssertAgrees(builder.ToBytes(), inputs: (x, (System.Array)data));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 1)]
    public void MaxPool2DMatchesOnnxRuntime(int stride, int ceilMode) =>
        AssertPoolAgrees("MaxPool", new[] { 2, 3, 11, 35 }, attributes: new (string, object)[]
            { ("kernel_shape", new[] { 3, 2 }), ("strides", new[] { stride, stride }), ("pads", new[] { 1, 1, 1, 0 }), ("ceil_mode", ceilMode) });

    [Fact]
    public void MaxPoolWithDilationsMatchesOnnxRuntime() =>
        AssertPoolAgrees("MaxPool", new[] { 1, 2, 9, 10 }, attributes: new (string, object)[]
            { ("kernel_shape", new[] { 2, 3 }), ("dilations", new[] { 2, 2 }), ("pads", new[] { 1, 2, 0, 1 }) });

    // SAME_* with dilations is left out on purpose: ONNX Runtime sizes that output with the undilated kernel,
    // while the ONNX specification (which AotInfer follows) uses the dilated one.
    [Fact]
    public void MaxPoolSameUpperWithStridesMatchesOnnxRuntime() =>
        AssertPoolAgrees("MaxPool", new[] { 1, 2, 9, 10 }, attributes: new (string, object)[]
            { ("kernel_shape", new[] { 2, 3 }), ("strides", new[] { 2, 3 }), ("auto_pad", "SAME_UPPER") });

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void MaxPoolIndicesMatchOnnxRuntime(int storageOrder) =>
        AssertPoolAgrees("MaxPool", new[] { 2, 2, 7, 6 }, outputs: 2, attributes: new (string, object)[]
            { ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 }), ("storage_order", storageOrder) });

    [Fact]
    public void MaxPool3DMatchesOnnxRuntime() =>
        AssertPoolAgrees("MaxPool", new[] { 1, 2, 5, 6, 7 }, attributes: new (string, object)[] { ("kernel_shape", new[] { 2, 3, 2 }), ("strides", new[] { 1, 2, 2 }) });

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    public void AveragePool2DMatchesOnnxRuntime(int countIncludePad, int ceilMode) =>
        AssertPoolAgrees("AveragePool", new[] { 1, 3, 10, 33 }, attributes: new (string, object)[]
        {
            ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 1 }), ("pads", new[] { 1, 1, 1, 1 }),
            ("count_include_pad", countIncludePad), ("ceil_mode", ceilMode),
        });

    [Theory]
    [InlineData(new[] { 1, 64, 8, 8 }, new[] { 8, 8 }, new[] { 8, 8 }, 0, "global-average")] // resnet8's head
    [InlineData(new[] { 2, 3, 5, 7 }, new[] { 5, 7 }, new[] { 1, 1 }, 1, "global-average")]
    [InlineData(new[] { 2, 3, 17 }, new[] { 17 }, new[] { 2 }, 0, "global-average")]
    [InlineData(new[] { 1, 4, 6, 6 }, new[] { 6, 6 }, new[] { 1, 1 }, 0, "rows-2d", 1)]           // padded: 3×3 windows
    public void AveragePoolOverTheWholePlaneTakesTheGlobalKernelAndMatchesOnnxRuntime(int[] x, int[] kernel, int[] strides, int countIncludePad,
        string expectedKernel, int pad = 0)
    {
        var attributes = new (string, object)[]
        {
            ("kernel_shape", kernel), ("strides", strides), ("count_include_pad", countIncludePad), ("pads", Enumerable.Repeat(pad, 2 * kernel.Length).ToArray()),
        };
        AssertPoolAgrees("AveragePool", x, attributes: attributes);
        var model = new OnnxModelBuilder(19).Input("x", DataType.Float, x).Node("AveragePool", new[] { "x" }, new[] { "y" }, attributes).Output("y", DataType.Float).ToBytes();
        var pool = Assert.Single(AotInfer.Tests.Compiler.FusionPassTests.CompiledGraph(model).Nodes);
        Assert.Equal(expectedKernel, pool.Annotations["kernel"]);
    }

    [Fact]
    public void AveragePool1DSameLowerMatchesOnnxRuntime() =>
        AssertPoolAgrees("AveragePool", new[] { 2, 3, 17 }, attributes: new (string, object)[] { ("kernel_shape", new[] { 4 }), ("strides", new[] { 3 }), ("auto_pad", "SAME_LOWER") });

    [Fact]
    public void LpPoolMatchesOnnxRuntime() =>
        AssertPoolAgrees("LpPool", new[] { 1, 2, 6, 7 }, attributes: new (string, object)[] { ("kernel_shape", new[] { 2, 3 }), ("p", 3), ("pads", new[] { 1, 0, 0, 1 }) });

    [Theory]
    [InlineData("GlobalAveragePool")]
    [InlineData("GlobalMaxPool")]
    [InlineData("GlobalLpPool")]
    public void GlobalPoolMatchesOnnxRuntime(string op) => AssertPoolAgrees(op, new[] { 2, 3, 7, 9 });

    [Fact]
    public void MaxUnpoolInvertsMaxPoolLikeOnnxRuntime()
    {
        // MaxPool's indices feed MaxUnpool; the default output shape is the pooled input's.
        var model = new OnnxModelBuilder(11)
            .Input("x", DataType.Float, 2, 3, 6, 5)
            .Node("MaxPool", new[] { "x" }, new[] { "pooled", "indices" }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 0, 0, 0, 1 }))
            .Node("MaxUnpool", new[] { "pooled", "indices" }, new[] { "y" }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 0, 0, 0, 1 }))
            .Output("y", DataType.Float).ToBytes();
        Differential.AssertAgrees(model, inputs: new[] { (new[] { 2, 3, 6, 5 }, (System.Array)Differential.RandomFloats(50, 180)) });
    }
}
