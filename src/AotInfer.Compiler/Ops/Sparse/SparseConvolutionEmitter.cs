using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops.Convolution;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>
/// Emits the sparse form of a Conv whose filter <see cref="Passes.SparseWeightSelection"/> chose to store as compressed
/// rows: the rows go with the model's weights (the dense filter is then never stored), a <c>SparseFilter</c> is built
/// from them once at type initialisation, and <c>Run</c> calls <c>SparseConvolution.Convolve</c>, which also applies
/// the bias, a fused residual and the fused activation.
/// </summary>
internal static class SparseConvolutionEmitter
{
    const string Sparse = EmitContext.Kernels + ".Sparse";

    /// <summary>True when <paramref name="node"/>'s filter (input 1) is replaced by compressed rows, so it is not read at run time.</summary>
    public static bool Replaces(Node node) => node.OpType == "Conv" && SparseDecision.SparseOf(node) is not null;

    /// <summary>
    /// Writes the sparse convolution when the node was chosen sparse and returns true; returns false (writing nothing)
    /// otherwise. <paramref name="bias"/> is the bias span expression (possibly empty) and <paramref name="epilogue"/>
    /// the trailing activation and residual arguments the dense kernels take.
    /// </summary>
    public static bool TryEmit(OpContext op, EmitContext code, int batch, int inChannels, WindowGeometry geometry, string bias, string epilogue)
    {
        if (!Replaces(op.Node)) return false;
        var decision = SparseDecision.SparseOf(op.Node)!;
        var weights = op.Input(1).Constant!;
        var filter = new ConstantWeightMatrix(weights.As<float>(), decision.K, decision.N, decision.K, transposed: true);
        code.Writer.Line($"// sparse weights: {Literals.Comment(decision.ToString())}");
        var (rowStart, taps, values) = SparseProductEmitter.CompactArrays(code, filter, 1, op.Node.Name);
        string window = code.IntArray(geometry.Packed()); // declared before the filter field that reads it
        string sparseFilter = code.StaticField($"{Sparse}.SparseFilter",
            $"{Sparse}.SparseFilter.Create({Literals.Int(decision.N)}, {Literals.Int(inChannels)}, {window}, {rowStart}, {taps}, {values})");
        int scratchSize = ScratchSize(inChannels, geometry);
        string scratch = scratchSize == 0 ? "global::System.Span<float>.Empty" : code.Scratch(DataType.Float, scratchSize);
        code.Writer.Line($"{Sparse}.SparseConvolution.Convolve({code.In(0)}, {sparseFilter}, {bias}, {code.Out(0)}, {scratch}, {batch}{epilogue});");
        return true;
    }

    /// <summary>
    /// The scratch <c>SparseConvolution.Convolve</c> needs (its <c>ScratchSize</c>; the kernel checks it): nothing for
    /// 1×1 stride-1 unpadded windows; for other stride-1 2-D windows the zero-bordered image and a 64-float tile of
    /// slack, plus one output plane at the bordered width rounded up to whole tiles; else the im2col column matrix.
    /// </summary>
    static int ScratchSize(int inChannels, WindowGeometry g)
    {
        bool stride1 = g.Strides.All(s => s == 1);
        if (g.IsPointwise) return 0;
        if (!stride1 || g.Rank != 2) return inChannels * g.KernelSize * g.OutputSize;
        int borderedWidth = g.Input[1] + g.PadsBegin[1] + g.PadsEnd[1];
        int plane = (g.Input[0] + g.PadsBegin[0] + g.PadsEnd[0]) * borderedWidth;
        int wide = (g.Output[0] - 1) * borderedWidth + g.Output[1];
        return inChannels * plane + 64 + (wide + 63) / 64 * 64;
    }
}
