using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Reduction;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>
/// BatchNormalization on [N, C, ...]. Inference uses the given mean and variance. Training mode (opset 14+
/// <c>training_mode</c> = 1) normalises with the batch statistics and can return the updated running mean and
/// variance, exactly as the reference does. Older training forms (opset &lt; 14 with extra outputs, opset ≤ 6
/// <c>is_test</c> = 0, <c>spatial</c> = 0) are rejected.
/// </summary>
public sealed class BatchNormalizationLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "BatchNormalization" };

    static bool Training(OpContext op) => op.Opset >= 14 && op.Attributes.Int("training_mode", 0) != 0;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16)) throw op.Fail($"element type {type} is not supported");
        int[] shape = op.Shape(0);
        if (shape.Length < 2) throw op.Fail("input must have rank ≥ 2 ([N, C, ...])");
        for (int i = 1; i <= 4; i++)
        {
            if (op.Type(i) != type) throw op.Fail($"input {i} has element type {op.Type(i)}, expected {type} like the data (mixed types are not supported)");
            if (op.Input(i).ElementCount != shape[1] || op.Shape(i).Length != 1) throw op.Fail($"input {i} must have shape [{shape[1]}], got [{string.Join(",", op.Shape(i))}]");
        }
        if (op.Opset < 9 && op.Attributes.Int("spatial", 1) == 0) throw op.Fail("spatial = 0 (per-activation statistics) is not supported");
        if (op.Opset <= 6 && op.Attributes.Has("is_test") && op.Attributes.Int("is_test", 0) == 0 && op.OutputCount > 1)
            throw op.Fail("training mode (is_test = 0) of opset ≤ 6 is not supported");
        if (op.Opset < 14 && op.OutputCount > 1)
            throw op.Fail($"the training outputs of opset {op.Opset} (mean, var, saved statistics) are not supported; opset 14 training_mode is");
        if (op.OutputCount > 1 && !Training(op)) throw op.Fail("outputs 1 and 2 need training_mode = 1");
        op.SetOutput(0, type, shape);
        op.SetOutput(1, type, new[] { shape[1] });
        op.SetOutput(2, type, new[] { shape[1] });
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int[] shape = op.Shape(0);
        int channels = shape[1], spatial = ReductionAxes.Product(shape, 2, shape.Length);
        var spans = new ComputeSpans(op, code);
        var computeType = ComputeSpans.ComputeType(op.Type(0));
        string t = DataTypes.CSharpName(computeType);
        string epsilon = EmitContext.Literal(computeType, op.Attributes.Float("epsilon", 1e-5f));
        var inputs = Enumerable.Range(0, 5).Select(spans.In).ToArray();
        string y = spans.Out(0);
        string args = $"{inputs[0]}, {y}, {channels}, {spatial}, {inputs[1]}, {inputs[2]}, {inputs[3]}, {inputs[4]}, {epsilon}";
        if (Training(op))
        {
            string momentum = EmitContext.Literal(computeType, op.Attributes.Float("momentum", 0.9f));
            string runningMean = op.OutputCount > 1 ? spans.Out(1) : "default";
            string runningVariance = op.OutputCount > 2 ? spans.Out(2) : "default";
            code.Writer.Line($"{EmitContext.Kernels}.Normalization.BatchNormalization.Training<{t}>({args}, {momentum}, {runningMean}, {runningVariance});");
        }
        else code.Writer.Line($"{EmitContext.Kernels}.Normalization.BatchNormalization.Inference<{t}>({args});");
        spans.Finish();
    }
}
