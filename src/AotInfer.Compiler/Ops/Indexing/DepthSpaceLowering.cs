using AotInfer.Compiler.Emit;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// DepthToSpace (opsets 1, 11, 13; modes DCR and CRD) and SpaceToDepth (opsets 1, 13) on [N, C, H, W] tensors.
/// Each is a reshape to six dimensions and a permutation, emitted as one permuted copy.
/// </summary>
public sealed class DepthSpaceLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "DepthToSpace", "SpaceToDepth" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var (_, _, output) = Plan(op);
        op.SetOutput(0, op.Type(0), output);
    }

    /// <summary>The six-dimensional view of the input, the permutation, and the output shape.</summary>
    static (int[] View, int[] Permutation, int[] Output) Plan(OpContext op)
    {
        var s = op.Shape(0);
        if (s.Length != 4) throw op.Fail($"input must have rank 4 [N,C,H,W], got rank {s.Length}");
        long blockSize = op.Attributes.Int("blocksize");
        if (blockSize <= 0 || blockSize > int.MaxValue) throw op.Fail($"blocksize {blockSize} must be positive");
        int b = (int)blockSize, n = s[0], c = s[1], h = s[2], w = s[3];
        if (op.Node.OpType == "SpaceToDepth")
        {
            if (h % b != 0 || w % b != 0) throw op.Fail($"height {h} and width {w} must be multiples of blocksize {b}");
            return (new[] { n, c, h / b, b, w / b, b }, new[] { 0, 3, 5, 1, 2, 4 }, new[] { n, c * b * b, h / b, w / b });
        }
        if (c % (b * b) != 0) throw op.Fail($"channels {c} must be a multiple of blocksize² {b * b}");
        string mode = op.Opset >= 11 ? op.Attributes.String("mode", "DCR") : "DCR";
        var output = new[] { n, c / (b * b), h * b, w * b };
        return mode switch
        {
            "DCR" => (new[] { n, b, b, c / (b * b), h, w }, new[] { 0, 3, 4, 1, 5, 2 }, output),
            "CRD" => (new[] { n, c / (b * b), b, b, h, w }, new[] { 0, 1, 4, 2, 5, 3 }, output),
            _ => throw op.Fail($"mode '{mode}' is not supported (DCR or CRD)"),
        };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (view, permutation, _) = Plan(op);
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.Permute.Run<{code.InType(0)}>({code.In(0)}, {code.IntArray(view)}, {code.IntArray(permutation)}, {code.Out(0)});");
    }
}
