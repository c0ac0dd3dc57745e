using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Constant: a tensor given as one of the <c>value*</c> attributes. It always folds at compile time, so it never
/// reaches code generation; <c>sparse_value</c> is not supported.
/// </summary>
public sealed class ConstantLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Constant" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var value = Value(op);
        op.SetOutput(0, value.Type, value.Shape);
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op) => new[] { Value(op) };

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) =>
        throw op.Fail("a Constant is folded at compile time and never emitted");

    static readonly string[] ValueAttributes =
        { "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings" };

    static Tensor Value(OpContext op)
    {
        string? given = null;
        foreach (var name in ValueAttributes)
        {
            if (!op.Attributes.Has(name)) continue;
            if (given is not null) throw op.Fail($"has both '{given}' and '{name}'; exactly one value attribute is allowed");
            given = name;
        }
        var a = op.Attributes;
        switch (given)
        {
            case "value": return a.Tensor("value")!;
            case "value_float": return new Tensor(DataType.Float, new int[0], new[] { a.Float("value_float", 0f) });
            case "value_floats": { var v = a.Floats("value_floats")!; return new Tensor(DataType.Float, new[] { v.Length }, v); }
            case "value_int": return new Tensor(DataType.Int64, new int[0], new[] { a.Int("value_int") });
            case "value_ints": { var v = a.Ints("value_ints")!; return new Tensor(DataType.Int64, new[] { v.Length }, v); }
            case "value_string": return new Tensor(DataType.String, new int[0], new[] { a.String("value_string", "") });
            case "value_strings": { var v = a.Strings("value_strings")!; return new Tensor(DataType.String, new[] { v.Length }, v); }
            case "sparse_value": throw op.Fail("attribute 'sparse_value' (a sparse constant) is not supported");
            default: throw op.Fail("has no value attribute (value, value_float, value_floats, value_int, value_ints, value_string or value_strings)");
        }
    }
}
