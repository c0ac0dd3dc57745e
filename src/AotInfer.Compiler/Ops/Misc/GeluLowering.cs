using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>Gelu (opset 20): exact (approximate="none") or tanh-approximated (approximate="tanh") GELU on float types.</summary>
public sealed class GeluLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Gelu" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (!DataTypes.IsFloat(op.Type(0))) throw op.Fail($"element type {op.Type(0)} is not supported");
        Operator(op);
        op.SetOutput(0, op.Type(0), op.Shape(0));
    }

    static string Operator(OpContext op) => op.Attributes.String("approximate", "none") switch
    {
        "none" => "GeluOperator",
        "tanh" => "GeluTanhOperator",
        var other => throw op.Fail($"approximate '{other}' is not supported (none or tanh)"),
    };

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string t = code.InType(0);
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Unary<{t}, {t}, {EmitContext.Kernels}.Elementwise.{Operator(op)}<{t}>>({code.In(0)}, {code.Out(0)});");
    }
}
