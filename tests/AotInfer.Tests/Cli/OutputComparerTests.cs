using AotInfer.Cli.Check;
using AotInfer.Onnx.Proto;
using Xunit;

namespace AotInfer.Tests.Cli;

public class OutputComparerTests
{
    static readonly OutputComparer OneUnit = new(1e-3, 1e-5, IntegerTolerance: 1);

    [Fact]
    public void Dequantized_output_one_quantum_off_passes_with_one_unit_of_integer_tolerance()
    {
        // 0.1526 vs 0.1512 is 0.9 % apart (fails rtol 1e-3) but exactly one quantum of 0.0014.
        Assert.Null(OneUnit.Compare(new[] { 0.15259366f }, new[] { 0.15119372f }, "y", quantum: 0.0014));
    }

    [Fact]
    public void Dequantized_output_two_quanta_off_fails()
    {
        Assert.NotNull(OneUnit.Compare(new[] { 0.1540f }, new[] { 0.1512f }, "y", quantum: 0.0014));
    }

    [Fact]
    public void Quantum_is_ignored_without_integer_tolerance_and_for_plain_float_outputs()
    {
        var exact = new OutputComparer(1e-3, 1e-5, IntegerTolerance: 0);
        Assert.NotNull(exact.Compare(new[] { 0.15259366f }, new[] { 0.15119372f }, "y", quantum: 0.0014));
        Assert.NotNull(OneUnit.Compare(new[] { 0.15259366f }, new[] { 0.15119372f }, "y"));
    }

    [Fact]
    public void Quanta_are_found_for_outputs_of_per_tensor_dequantize_with_constant_scale()
    {
        var graph = new GraphProto();
        graph.Initializer.Add(new TensorProto { Name = "s", DataType = (int)TensorProto.Types.DataType.Float, FloatData = { 0.25f } });
        graph.Initializer.Add(new TensorProto { Name = "axis_s", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 2 }, FloatData = { 0.5f, 0.25f } });
        graph.Node.Add(new NodeProto { OpType = "DequantizeLinear", Input = { "q", "s" }, Output = { "y" } });
        graph.Node.Add(new NodeProto { OpType = "DequantizeLinear", Input = { "q", "axis_s" }, Output = { "per_axis" } });
        graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "y" }, Output = { "plain" } });
        foreach (var name in new[] { "y", "per_axis", "plain" }) graph.Output.Add(new ValueInfoProto { Name = name });

        var quanta = OutputQuanta.Find(graph);

        Assert.Equal(0.25, quanta["y"]);
        Assert.False(quanta.ContainsKey("per_axis"));
        Assert.False(quanta.ContainsKey("plain"));
    }
}
