using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Cast (target type from the <c>to</c> attribute) and CastLike (target type of input 1). Run-time conversions use
/// <c>Elementwise.Conversion</c>; <c>saturate</c> (opset 19) only concerns float8 targets, which are not supported,
/// nor are bfloat16, string and 4/2-bit targets.
/// </summary>
public sealed class CastLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Cast", "CastLike" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var source = op.Type(0);
        DataType target = op.Node.OpType == "Cast" ? CastTarget(op) : op.Type(1);
        long saturate = op.Attributes.Int("saturate", 1);
        if (saturate != 0 && saturate != 1) throw op.Fail($"attribute 'saturate' must be 0 or 1, not {saturate}");
        if (!DataTypes.IsSupportedAtRunTime(target))
            throw op.Fail($"casting to {target} is not supported (AotInfer holds no {target} tensors)");
        if (!ConstantCast.CanConvertFrom(source))
            throw op.Fail($"casting from {source} is not supported");
        op.SetOutput(0, target, op.Shape(0));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op) =>
        new[] { ConstantCast.Convert(op.Input(0).Constant!, op.Output(0)!.Type) };

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        if (op.Type(0) == op.Output(0)!.Type)
            code.Writer.Line($"{code.In(0)}.CopyTo({code.Out(0)});");
        else
            code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Conversion.Convert<{code.InType(0)}, {code.OutType(0)}>({code.In(0)}, {code.Out(0)});");
    }

    static DataType CastTarget(OpContext op)
    {
        var to = op.Attributes.Raw("to");
        if (to is null) throw op.Fail("required attribute 'to' is missing");
        // Opset 1 spelled the target as a string ("FLOAT"); later opsets use the TensorProto data type number.
        if (to.Type == Onnx.Proto.AttributeProto.Types.AttributeType.String)
        {
            string name = op.Attributes.String("to", "");
            // The enum's names match the ONNX spellings case-insensitively (FLOAT, UINT8, FLOAT16, DOUBLE...).
            foreach (DataType t in System.Enum.GetValues(typeof(DataType)))
                if (t != DataType.Undefined && string.Equals(t.ToString(), name, System.StringComparison.OrdinalIgnoreCase)) return t;
            throw op.Fail($"attribute 'to' names unknown type '{name}'");
        }
        long code = op.Attributes.Int("to");
        if (!System.Enum.IsDefined(typeof(DataType), (int)code) || code == 0) throw op.Fail($"attribute 'to' is {code}, not a known element type");
        return (DataType)(int)code;
    }
}
