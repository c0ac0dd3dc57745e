using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Reduction;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Normalization;

/// <summary>LRN: local response normalisation across channels of [N, C, ...] (size required; alpha, beta, bias).</summary>
public sealed class LrnLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "LRN" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!(DataTypes.IsFloat(type) && type != DataType.BFloat16)) throw op.Fail($"element type {type} is not supported");
        if (op.Shape(0).Length < 2) throw op.Fail("input must have rank ≥ 2 ([N, C, ...])");
        long size = op.Attributes.Int("size");
        if (size <= 0) throw op.Fail($"size {size} must be positive");
        op.SetOutput(0, type, op.Shape(0));
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int[] shape = op.Shape(0);
        int spatial = ReductionAxes.Product(shape, 2, shape.Length);
        var spans = new ComputeSpans(op, code);
        var computeType = ComputeSpans.ComputeType(op.Type(0));
        string Literal(string name, float fallback) => EmitContext.Literal(computeType, op.Attributes.Float(name, fallback));
        string x = spans.In(0), y = spans.Out(0);
        code.Writer.Line($"{EmitContext.Kernels}.Normalization.LocalResponseNormalization.Run<{DataTypes.CSharpName(computeType)}>({x}, {y}, {shape[1]}, {spatial}, " +
                         $"{op.Attributes.Int("size")}, alpha: {Literal("alpha", 1e-4f)}, beta: {Literal("beta", 0.75f)}, bias: {Literal("bias", 1f)}, {code.Scratch(computeType, spatial)});");
        spans.Finish();
    }
}
