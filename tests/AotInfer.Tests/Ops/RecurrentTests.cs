using System;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>RNN, GRU and LSTM against ONNX Runtime: directions, layouts, clip, biases, initial states and sequence lengths.</summary>
public class RecurrentTests
{
    const int Seq = 5, Batch = 3, InputSize = 4, Hidden = 6;

    static (int[], Array) Random(int seed, params int[] shape)
    {
        int count = 1;
        foreach (int d in shape) count *= d;
        return (shape, Differential.RandomFloats(seed, count, -0.8f, 0.8f));
    }

    /// <summary>
    /// Builds a node with every optional input present, as graph inputs, and checks all outputs. ONNX Runtime has no
    /// batch-major layout (layout = 1), so its reference model then is the layout-0 node between Transposes.
    /// </summary>
    static void AssertAgrees(string op, int gates, string direction, int layout, params (string Name, object Value)[] extra)
    {
        var (model, inputs) = Build(op, gates, direction, layout, layout == 1, extra);
        if (layout == 0)
        {
            Differential.AssertAgrees(model, inputs: inputs);
            return;
        }
        var (reference, _) = Build(op, gates, direction, layout, false, extra);
        var expected = Differential.RunOnnxRuntime(reference, inputs);
        var actual = Differential.RunAotInfer(model, Array.ConvertAll(inputs, i => i.Item2));
        Assert.Equal(expected.Length, actual.Length);
        for (int o = 0; o < expected.Length; o++)
        {
            var e = (float[])expected[o];
            var a = (float[])actual[o];
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5 + 1e-4 * Math.Abs(e[i]), $"output {o}[{i}]: {a[i]} vs {e[i]}");
        }
    }

    static (byte[] Model, (int[], Array)[] Inputs) Build(string op, int gates, string direction, int layout, bool native, (string Name, object Value)[] extra)
    {
        int directions = direction == "bidirectional" ? 2 : 1;
        bool lstm = op == "LSTM";
        int[] xShape = layout == 0 ? new[] { Seq, Batch, InputSize } : new[] { Batch, Seq, InputSize };
        int[] stateShape = layout == 0 ? new[] { directions, Batch, Hidden } : new[] { Batch, directions, Hidden };
        // native: the node itself has the layout; otherwise a layout-0 node with Transposes around it (same model interface).
        bool wrap = layout == 1 && !native;
        var attributes = new System.Collections.Generic.List<(string, object)> { ("hidden_size", (long)Hidden), ("direction", direction), ("layout", (long)(wrap ? 0 : layout)) };
        attributes.AddRange(extra);
        var builder = new OnnxModelBuilder(22)
            .Input("X", DataType.Float, xShape)
            .Input("W", DataType.Float, directions, gates * Hidden, InputSize)
            .Input("R", DataType.Float, directions, gates * Hidden, Hidden)
            .Input("B", DataType.Float, directions, 2 * gates * Hidden)
            .Input("lengths", DataType.Int32, Batch)
            .Input("h0", DataType.Float, stateShape);
        var inputs = new System.Collections.Generic.List<(int[], Array)>
        {
            Random(1, xShape), Random(2, directions, gates * Hidden, InputSize), Random(3, directions, gates * Hidden, Hidden),
            Random(4, directions, 2 * gates * Hidden), (new[] { Batch }, new[] { Seq, 2, 4 }), Random(5, stateShape),
        };
        var names = new System.Collections.Generic.List<string> { "X", "W", "R", "B", "lengths", "h0" };
        var outputs = new System.Collections.Generic.List<string> { "Y", "Y_h" };
        if (lstm)
        {
            builder.Input("c0", DataType.Float, stateShape).Input("P", DataType.Float, directions, 3 * Hidden);
            inputs.Add(Random(6, stateShape));
            inputs.Add(Random(7, directions, 3 * Hidden));
            names.AddRange(new[] { "c0", "P" });
            outputs.Add("Y_c");
        }
        var nodeInputs = names.ToArray();
        var nodeOutputs = outputs.ToArray();
        if (wrap)
        {
            foreach (int i in new[] { 0, 5, 6 })
            {
                if (i >= nodeInputs.Length) continue;
                builder.Node("Transpose", new[] { nodeInputs[i] }, new[] { nodeInputs[i] + "_t" }, ("perm", new long[] { 1, 0, 2 }));
                nodeInputs[i] += "_t";
            }
            for (int o = 0; o < nodeOutputs.Length; o++) nodeOutputs[o] += "_t";
        }
        builder.Node(op, nodeInputs, nodeOutputs, attributes.ToArray());
        if (wrap)
            for (int o = 0; o < outputs.Count; o++)
                builder.Node("Transpose", new[] { nodeOutputs[o] }, new[] { outputs[o] }, ("perm", o == 0 ? new long[] { 2, 0, 1, 3 } : new long[] { 1, 0, 2 }));
        foreach (var output in outputs) builder.Output(output, DataType.Float);
        return (builder.ToBytes(), inputs.ToArray());
    }

    [Theory]
    [InlineData("forward", 0)]
    [InlineData("reverse", 0)]
    [InlineData("bidirectional", 0)]
    [InlineData("bidirectional", 1)]
    public void RnnMatchesOnnxRuntime(string direction, int layout) => AssertAgrees("RNN", 1, direction, layout);

    [Theory]
    [InlineData("forward", 0, 0)]
    [InlineData("forward", 1, 0)]
    [InlineData("reverse", 1, 1)]
    [InlineData("bidirectional", 0, 1)]
    public void GruMatchesOnnxRuntime(string direction, int linearBeforeReset, int layout) =>
        AssertAgrees("GRU", 3, direction, layout, ("linear_before_reset", (long)linearBeforeReset));

    [Theory]
    [InlineData("forward", 0)]
    [InlineData("reverse", 1)]
    [InlineData("bidirectional", 0)]
    public void LstmMatchesOnnxRuntime(string direction, int layout) => AssertAgrees("LSTM", 4, direction, layout);

    [Fact]
    public void ClipAndActivationsMatchOnnxRuntime()
    {
        AssertAgrees("LSTM", 4, "bidirectional", 0, ("clip", 0.3f),
            ("activations", new[] { "HardSigmoid", "Softsign", "Relu", "Sigmoid", "Tanh", "Tanh" }));
        AssertAgrees("GRU", 3, "forward", 0, ("clip", 0.5f), ("activations", new[] { "Sigmoid", "Relu" }));
    }

    [Fact]
    public void InputForgetIsDiagnosed()
    {
        var model = new OnnxModelBuilder(22)
            .Input("X", DataType.Float, Seq, Batch, InputSize).Input("W", DataType.Float, 1, 4 * Hidden, InputSize).Input("R", DataType.Float, 1, 4 * Hidden, Hidden)
            .Node("LSTM", new[] { "X", "W", "R" }, new[] { "Y" }, ("hidden_size", (long)Hidden), ("input_forget", 1L))
            .Output("Y", DataType.Float).ToBytes();
        var result = AotInfer.Compiler.ModelCompiler.Compile(model, new AotInfer.Compiler.CompileOptions());
        Assert.False(result.Success);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("input_forget"));
    }
}
