using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Reduction;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>MeanVarianceNormalization: (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over <c>axes</c> (default [0, 2, 3]).</summary>
public sealed class MeanVarianceNormalizationLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "MeanVarianceNormalization" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16)) throw op.Fail($"element type {type} is not supported");
        if (op.Opset < 9) throw op.Fail("opset < 9 MeanVarianceNormalization (across_channels, normalize_variance) is not supported");
        Axes(op);
        op.SetOutput(0, type, op.Shape(0));
    }

    static ReductionAxes Axes(OpContext op) =>
        ReductionAxes.Of(op, op.Shape(0), op.Attributes.Ints("axes") ?? new long[] { 0, 2, 3 }, keepDims: true);

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var axes = Axes(op);
        var (dims, reduced) = axes.Canonical();
        var spans = new ComputeSpans(op, code);
        var computeType = ComputeSpans.ComputeType(op.Type(0));
        int statsCount = ShapeMath.ElementCount(axes.KeepDimsShape);
        string x = spans.In(0), y = spans.Out(0);
        code.Writer.Line($"{EmitContext.Kernels}.Normalization.MeanVarianceNormalization.Run<{DataTypes.CSharpName(computeType)}>({x}, {code.IntArray(op.Shape(0))}, {y}, " +
                         $"{code.IntArray(dims)}, {code.IntArray(reduced)}, {axes.ReducedCount}, {code.Scratch(computeType, statsCount)}, {code.Scratch(computeType, statsCount)}, {code.IntArray(axes.KeepDimsShape)});");
        spans.Finish();
    }
}
