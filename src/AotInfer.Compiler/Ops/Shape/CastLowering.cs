using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Cast (target type from the <c>to</c> attribute) and CastLike (target type of input 1). Run-time conversions use
/// <c>Elementwise.Conversion</c>; casts to and from raw tensors (float8, float4e2m1, 4-bit and 2-bit integers) use
/// <c>Quantization.RawCast</c>, where <c>saturate</c> (opset 19) decides what float8 does with values out of range
/// and <c>round_mode</c> (opset 25) how float8e8m0 rounds. bfloat16 and string targets are not supported, nor casts
/// between two raw types.
/// </summary>
public sealed class CastLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Cast", "CastLike" };

    /// <inheritdoc/>
    public override bool HandlesRawElements => true;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var source = op.Type(0);
        DataType target = op.Node.OpType == "Cast" ? CastTarget(op) : op.Type(1);
        long saturate = op.Attributes.Int("saturate", 1);
        if (saturate != 0 && saturate != 1) throw op.Fail($"attribute 'saturate' must be 0 or 1, not {saturate}");
        if (target == DataType.Float8E8M0) RoundMode(op);
        if (!DataTypes.IsSupportedAtRunTime(target) && !RawEncoding.IsRaw(target))
            throw op.Fail($"casting to {target} is not supported (AotInfer holds no {target} tensors)");
        if (RawEncoding.IsRaw(source) && RawEncoding.IsRaw(target) && source != target)
            throw op.Fail($"casting from {source} to {target} is not supported (both are raw types; cast through float)");
        if (!ConstantCast.CanConvertFrom(source) && !RawEncoding.IsRaw(source))
            throw op.Fail($"casting from {source} is not supported");
        op.SetOutput(0, target, op.Shape(0));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        // Compile-time 4/2-bit integers hold their values (sign-extended), so they convert like other integers; float8
        // and float4 constants hold codes, and raw targets need their encoding: those casts run in generated code.
        var (source, target) = (op.Type(0), op.Output(0)!.Type);
        bool holdsCodes = RawEncoding.IsRaw(source) && !IsSmallInteger(source);
        if (source != target && (RawEncoding.IsRaw(target) || holdsCodes)) return null;
        return new[] { ConstantCast.Convert(op.Input(0).Constant!, target) };
    }

    static bool IsSmallInteger(DataType type) => type is DataType.Int4 or DataType.UInt4 or DataType.Int2 or DataType.UInt2;

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (source, target) = (op.Type(0), op.Output(0)!.Type);
        string kernel = $"{EmitContext.Kernels}.Quantization.RawCast";
        if (source == target)
            code.Writer.Line($"{code.In(0)}.CopyTo({code.Out(0)});");
        else if (RawEncoding.IsRaw(source))
            code.Writer.Line($"{kernel}.Decode<{code.OutType(0)}>({code.In(0)}, {EmitContext.Kernels}.Quantization.RawElementType.{source}, {code.Out(0)});");
        else if (RawEncoding.IsRaw(target))
            code.Writer.Line($"{kernel}.Encode<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {EmitContext.Kernels}.Quantization.RawElementType.{target}, " +
                             $"{(op.Attributes.Int("saturate", 1) != 0 ? "true" : "false")}" +
                             $"{(target == DataType.Float8E8M0 ? $", {EmitContext.Kernels}.Quantization.E8M0Rounding.{RoundMode(op)}" : "")});");
        else
            code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Conversion.Convert<{code.InType(0)}, {code.OutType(0)}>({code.In(0)}, {code.Out(0)});");
    }

    /// <summary>The <c>round_mode</c> attribute (float8e8m0 targets only) as the kernel's E8M0Rounding member name.</summary>
    static string RoundMode(OpContext op) => op.Attributes.String("round_mode", "up") switch
    {
        "up" => "Up",
        "down" => "Down",
        "nearest" => "Nearest",
        var other => throw op.Fail($"attribute 'round_mode' is '{other}'; it must be up, down or nearest"),
    };

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
