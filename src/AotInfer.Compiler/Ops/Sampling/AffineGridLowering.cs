using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Sampling;

/// <summary>AffineGrid (opset 20): theta [N, 2, 3] or [N, 3, 4] and a constant size [N, C, H, W] or [N, C, D, H, W].</summary>
public sealed class AffineGridLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "AffineGrid" };

    static int[] Spatial(OpContext op)
    {
        var size = op.ConstantInput(1, "size").ToInt64();
        if (size.Length is not (4 or 5)) throw op.Fail($"size must have 4 or 5 elements, got {size.Length}");
        if (size.Any(s => s <= 0 || s > int.MaxValue)) throw op.Fail($"size [{string.Join(",", size)}] must be positive");
        return size.Skip(2).Select(s => (int)s).ToArray();
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var theta = op.Input(0);
        var spatial = Spatial(op);
        int k = spatial.Length;
        if (theta.Type != DataType.Float) throw op.Fail($"theta must be float, got {theta.Type}");
        if (theta.Shape!.Length != 3 || theta.Shape[1] != k || theta.Shape[2] != k + 1)
            throw op.Fail($"theta shape [{string.Join(",", theta.Shape)}] must be [N, {k}, {k + 1}] for {k}-D size");
        long n = op.ConstantInput(1, "size").ToInt64()[0];
        if (n != theta.Shape[0]) throw op.Fail($"size has batch {n} but theta has {theta.Shape[0]}");
        op.SetOutput(0, DataType.Float, new[] { theta.Shape[0] }.Concat(spatial).Concat(new[] { k }).ToArray());
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        bool align = op.Attributes.Int("align_corners", 0) != 0;
        code.Writer.Line($"{EmitContext.Kernels}.Sampling.AffineGridGenerator.Generate({code.In(0)}, {code.Out(0)}, {op.Shape(0)[0]}, {code.IntArray(Spatial(op))}, {(align ? "true" : "false")});");
    }
}
