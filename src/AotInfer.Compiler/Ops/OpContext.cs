using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops;

/// <summary>The node an <see cref="OpLowering"/> works on, with checked access to its inputs, outputs and attributes.</summary>
public sealed class OpContext
{
    /// <summary>Wraps a node.</summary>
    public OpContext(Node node) => Node = node;

    /// <summary>The node.</summary>
    public Node Node { get; }

    /// <summary>The node's attributes.</summary>
    public NodeAttributes Attributes => Node.Attributes;

    /// <summary>The opset version of the node's domain.</summary>
    public int Opset => Node.Opset;

    /// <summary>Number of inputs given (including omitted optional ones in the middle).</summary>
    public int InputCount => Node.Inputs.Count;

    /// <summary>Number of outputs requested.</summary>
    public int OutputCount => Node.Outputs.Count;

    /// <summary>A required input.</summary>
    public Value Input(int index) => Node.Input(index) ?? throw Fail($"input {index} is required");

    /// <summary>An optional input, or null.</summary>
    public Value? OptionalInput(int index) => Node.Input(index);

    /// <summary>True when the optional input is present.</summary>
    public bool HasInput(int index) => Node.Input(index) is not null;

    /// <summary>An output, or null when the node has fewer outputs.</summary>
    public Value? Output(int index) => index < Node.Outputs.Count ? Node.Outputs[index] : null;

    /// <summary>The static shape of a required input.</summary>
    public int[] Shape(int index) => Input(index).Shape!;

    /// <summary>The element type of a required input.</summary>
    public DataType Type(int index) => Input(index).Type;

    /// <summary>Sets an output's type and shape (ignored for omitted outputs).</summary>
    public void SetOutput(int index, DataType type, int[] shape)
    {
        var v = Output(index);
        if (v is null) return;
        ShapeMath.ElementCount(shape);
        v.Type = type;
        v.Shape = shape;
    }

    /// <summary>The words that mark the diagnostic of a run-time value used where a constant is needed (tools may retry with bound inputs).</summary>
    public const string NotConstantMessage = "must be known at compile time";

    /// <summary>The compile-time value of an input that must be constant (shape, axes, pads...).</summary>
    public Tensor ConstantInput(int index, string role) =>
        Input(index).Constant ?? throw Fail($"input {index} ({role}) {NotConstantMessage}; AotInfer compiles static shapes only");

    /// <summary>The compile-time value of an optional input, or null when it is absent.</summary>
    public Tensor? OptionalConstantInput(int index, string role) =>
        HasInput(index) ? ConstantInput(index, role) : null;

    /// <summary>True when every present input is constant.</summary>
    public bool AllInputsConstant => Node.Inputs.All(i => i is null || i.Constant is not null);

    /// <summary>Builds the exception for an unsupported or invalid use of this op.</summary>
    public UnsupportedModelException Fail(string message) => new(message);

    /// <summary>Normalises a possibly negative axis against a rank, failing when out of range.</summary>
    public int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Fail($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }
}
