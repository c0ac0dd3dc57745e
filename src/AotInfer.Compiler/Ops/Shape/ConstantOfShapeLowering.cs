using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// ConstantOfShape: a tensor of the shape given by a constant int64 input, every element the one-element
/// <c>value</c> attribute (float 0 by default). Small results fold; large ones are filled at run time so the
/// generated file does not carry a big block of repeated bytes.
/// </summary>
public sealed class ConstantOfShapeLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "ConstantOfShape" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var value = FillValue(op);
        var dims = IntArguments.Values(op, op.ConstantInput(0, "shape"), "input 0 (shape)");
        if (dims.Any(d => d < 0)) throw op.Fail($"input 0 (shape) has a negative dimension: [{string.Join(",", dims)}]");
        op.SetOutput(0, value.Type, ShapeMath.ToIntShape(dims, "ConstantOfShape shape"));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var output = op.Output(0)!;
        if (ConstantData.TooRepetitiveToFold(1, output)) return null;
        return new[] { ConstantData.Fill(FillValue(op), output.Shape!) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var value = FillValue(op);
        code.Writer.Line($"{code.Out(0)}.Fill({ElementLiteral(value)});");
    }

    /// <summary>The single element as a C# literal; integers go through long so that 64-bit values stay exact.</summary>
    static string ElementLiteral(Tensor value) => value.Type switch
    {
        DataType.UInt64 => ((ulong[])value.Data)[0].ToString(System.Globalization.CultureInfo.InvariantCulture) + "UL",
        _ when DataTypes.IsInteger(value.Type) => $"({DataTypes.CSharpName(value.Type)}){Literals.Long(value.ToInt64()[0])}",
        _ => EmitContext.Literal(value.Type, value.ToDouble()[0]),
    };

    static Tensor FillValue(OpContext op)
    {
        var value = op.Attributes.Tensor("value") ?? new Tensor(DataType.Float, new[] { 1 }, new[] { 0f });
        if (value.Length != 1) throw op.Fail($"attribute 'value' must hold one element, not {value.Length}");
        return value;
    }
}
