using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// DynamicQuantizeLinear (opset 11): float x → uint8 y with the scale and zero point computed from x's range
/// (always including 0) at run time.
/// </summary>
public sealed class DynamicQuantizeLinearLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "DynamicQuantizeLinear" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.Type(0) != DataType.Float) throw op.Fail($"input x has element type {op.Type(0)}; DynamicQuantizeLinear takes float");
        op.SetOutput(0, DataType.UInt8, op.Shape(0));
        op.SetOutput(1, DataType.Float, new int[0]);
        op.SetOutput(2, DataType.UInt8, new int[0]);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) =>
        code.Writer.Line($"{EmitContext.Kernels}.Quantization.LinearQuantization.DynamicQuantize({code.In(0)}, {code.Out(0)}, {code.Out(1)}, {code.Out(2)});");
}
