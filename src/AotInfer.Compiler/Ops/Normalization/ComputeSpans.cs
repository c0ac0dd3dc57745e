using System.Collections.Generic;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>
/// Gives a kernel float spans when the node's tensors are float16: inputs are converted into scratch before the
/// call and outputs converted back after <see cref="Finish"/>. Normalisations and reductions accumulate, and
/// accumulating in Half would lose most of the precision, so they compute in float (as ONNX Runtime does).
/// Other element types pass through unchanged.
/// </summary>
internal sealed class ComputeSpans
{
    readonly OpContext _op;
    readonly EmitContext _code;
    readonly List<(string Scratch, int Index)> _pendingOutputs = new();
    int _locals;

    public ComputeSpans(OpContext op, EmitContext code)
    {
        _op = op;
        _code = code;
    }

    /// <summary>The element type kernels compute in for a tensor of <paramref name="type"/>.</summary>
    public static DataType ComputeType(DataType type) => type == DataType.Float16 ? DataType.Float : type;

    /// <summary>Input <paramref name="index"/> as a span of its compute type.</summary>
    public string In(int index)
    {
        var value = _op.Input(index);
        if (value.Type != DataType.Float16) return _code.In(index);
        string name = $"computeIn{_locals++}";
        _code.Writer.Line($"var {name} = {_code.Scratch(DataType.Float, value.ElementCount)};");
        _code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Conversion.Convert<global::System.Half, float>({_code.In(index)}, {name});");
        return name;
    }

    /// <summary>Output <paramref name="index"/> as a span of its compute type (converted back in <see cref="Finish"/>).</summary>
    public string Out(int index)
    {
        var value = _op.Output(index)!;
        if (value.Type != DataType.Float16) return _code.Out(index);
        string name = $"computeOut{_locals++}";
        _code.Writer.Line($"var {name} = {_code.Scratch(DataType.Float, value.ElementCount)};");
        _pendingOutputs.Add((name, index));
        return name;
    }

    /// <summary>Writes the conversions of float16 outputs back from their float scratch.</summary>
    public void Finish()
    {
        foreach (var (scratch, index) in _pendingOutputs)
            _code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Conversion.Convert<float, global::System.Half>({scratch}, {_code.Out(index)});");
        _pendingOutputs.Clear();
    }
}
