using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Reduction;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>LpNormalization: x divided by its L1 or L2 norm along <c>axis</c> (default −1); p must be 1 or 2.</summary>
public sealed class LpNormalizationLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "LpNormalization" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16)) throw op.Fail($"element type {type} is not supported");
        Axes(op);
        long p = op.Attributes.Int("p", 2);
        if (p is not (1 or 2)) throw op.Fail($"p = {p} is not supported (1 or 2)");
        op.SetOutput(0, type, op.Shape(0));
    }

    static ReductionAxes Axes(OpContext op)
    {
        int[] shape = op.Shape(0);
        if (shape.Length == 0) throw op.Fail("input must have rank ≥ 1");
        return ReductionAxes.Single(shape, op.Axis(op.Attributes.Int("axis", -1), shape.Length), keepDims: true);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var axes = Axes(op);
        var (dims, reduced) = axes.Canonical();
        var spans = new ComputeSpans(op, code);
        var computeType = ComputeSpans.ComputeType(op.Type(0));
        string t = DataTypes.CSharpName(computeType);
        string x = spans.In(0), y = spans.Out(0);
        int normCount = ShapeMath.ElementCount(axes.KeepDimsShape);
        code.Writer.Line($"var norm = {code.Scratch(computeType, normCount)};");
        bool l1 = op.Attributes.Int("p", 2) == 1;
        string reduce = $"{EmitContext.Kernels}.Reduction.Reduce";
        code.Writer.Line($"{reduce}.Run<{t}, {EmitContext.Kernels}.Reduction.{(l1 ? "ReduceSumAbsOperator" : "ReduceSumSquareOperator")}<{t}>>({x}, norm, {code.IntArray(dims)}, {code.IntArray(reduced)});");
        if (!l1) code.Writer.Line($"{reduce}.Sqrt<{t}>(norm);");
        string shape = code.IntArray(op.Shape(0));
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Binary<{t}, {t}, {EmitContext.Kernels}.Elementwise.DivideOrZeroOperator<{t}>>({x}, {shape}, norm, {code.IntArray(axes.KeepDimsShape)}, {y}, {shape});");
        spans.Finish();
    }
}
