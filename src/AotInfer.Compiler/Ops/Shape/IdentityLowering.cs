using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Identity, and Dropout at inference: the output is the input. Cleanup rewires readers to the input, so code is
/// only emitted when the output is a graph output. Dropout's optional mask is all true (all ones before opset 10,
/// where it has the data's type). Dropout in training mode (opset 12's <c>training_mode</c> input constant true)
/// is supported only with ratio 0, where it is still the identity.
/// </summary>
public sealed class IdentityLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Identity", "Dropout" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var x = op.Input(0);
        if (op.Node.OpType == "Dropout") CheckInference(op);
        op.SetOutput(0, x.Type, x.Shape!);
        op.SetOutput(1, op.Opset >= 10 ? DataType.Bool : x.Type, x.Shape!);
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (op.OutputCount < 2) return new[] { x };
        var mask = op.Output(1)!;
        var one = mask.Type == DataType.Bool
            ? new Tensor(DataType.Bool, new[] { 1 }, new[] { true })
            : ConstantCast.Convert(new Tensor(DataType.Int64, new[] { 1 }, new[] { 1L }), mask.Type);
        return new[] { x, ConstantData.Fill(one, mask.Shape!) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        code.Writer.Line($"{code.In(0)}.CopyTo({code.Out(0)});");
        if (op.OutputCount > 1)
            code.Writer.Line($"{code.Out(1)}.Fill({EmitContext.Literal(op.Output(1)!.Type, 1)});");
    }

    static void CheckInference(OpContext op)
    {
        if (op.Opset < 12)
        {
            // Before opset 12 the ratio is an attribute and inference never drops (is_test is ignored from opset 7).
            op.Attributes.Float("ratio", 0.5f);
            return;
        }
        if (!op.HasInput(2)) return;
        var training = op.ConstantInput(2, "training_mode");
        if (training.Length != 1 || training.ToDouble()[0] == 0) return;
        double ratio = op.HasInput(1) ? op.ConstantInput(1, "ratio").ToDouble()[0] : 0.5;
        if (ratio != 0) throw op.Fail($"training mode with ratio {ratio} drops random elements; only inference (or ratio 0) is supported");
    }
}
