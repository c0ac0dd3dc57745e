using System;
using System.Collections.Generic;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops.Linear;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>
/// Emits the sparse form of a Gemm/MatMul product whose constant B <see cref="Passes.SparseWeightSelection"/> chose to
/// store sparse: the compact arrays go with the model's weights (so a pruned model's binary shrinks too; palette
/// encoding applies to the stored values), a <c>BlockSparseMatrix</c> or <c>BandSparseMatrix</c> is built from them
/// once at type initialisation, and <c>Run</c> calls <c>SparseMatrixMultiply</c> or <c>BandSparseMultiply</c> (which
/// also applies the bias and the fused activation). The dense B is then never stored.
/// </summary>
internal static class SparseProductEmitter
{
    const string Sparse = EmitContext.Kernels + ".Sparse";

    /// <summary>True when <paramref name="node"/>'s B (input 1) is replaced by a sparse layout, so it is not read at run time.</summary>
    public static bool Replaces(Node node) => SparseDecision.SparseOf(node) is not null;

    /// <summary>
    /// Writes the sparse product into <paramref name="output"/> when the node was chosen sparse and returns true;
    /// returns false (writing nothing) otherwise, and the caller emits the dense product. <paramref name="bias"/> (one
    /// value per output, shared by every row) and <paramref name="activation"/> (a <c>FusedActivation</c> expression)
    /// are what the caller would apply after the product, or null when its epilogue cannot be handed over;
    /// <paramref name="appliedEpilogue"/> tells whether the sparse kernel applied them.
    /// </summary>
    public static bool TryEmit(OpContext op, EmitContext code, MatrixProduct product, string output, string? bias, string? activation, out bool appliedEpilogue)
    {
        appliedEpilogue = false;
        if (SparseDecision.SparseOf(op.Node) is not { } decision) return false;
        if (product.TransposeA || product.AOffsets is not null || product.M != decision.M || product.N != decision.N || product.K != decision.K)
            throw new InvalidOperationException($"node {op.Node}: the sparse decision does not match the product {product.Describe(DataType.Float, true)}");
        var b = new ConstantWeightMatrix(op.Input(1).Constant!.As<float>(), product.K, product.N, product.Ldb, product.TransposeB);
        string name = op.Node.Name;
        code.Writer.Line($"// sparse weights: {Literals.Comment(decision.ToString())}");
        if (decision.Format == SparseFormat.Bands)
        {
            // The band layout is built from the CSR arrays at type initialisation (see BandSparseMatrix).
            string bands = BandMatrix(code, b, decision, name);
            appliedEpilogue = bias is not null && activation is not null;
            code.Writer.Line($"{Sparse}.BandSparseMultiply.Multiply({code.In(0)}, {Literals.Int(product.Lda)}, {bands}, " +
                             $"{(appliedEpilogue ? bias : "global::System.ReadOnlySpan<float>.Empty")}, {(appliedEpilogue ? activation : MatrixProduct.NoActivation)}, " +
                             $"{output}, {Literals.Int(product.N)}, {Literals.Int(product.M)});");
            return true;
        }
        string matrix = BlockMatrix(code, b, SparseCostModel.BlockHeight(decision.Format), name);
        code.Writer.Line($"{Sparse}.SparseMatrixMultiply.Multiply({code.In(0)}, {Literals.Int(product.Lda)}, {matrix}, {output}, {Literals.Int(product.N)}, {Literals.Int(product.M)});");
        return true;
    }

    /// <summary>
    /// The static <c>BandSparseMatrix</c> field of <paramref name="b"/>, built at type initialisation from its CSR
    /// arrays and the lane order searched at build time (<see cref="BandLaneAssignment"/>; empty keeps the natural order).
    /// </summary>
    internal static string BandMatrix(EmitContext code, ConstantWeightMatrix b, SparseDecision decision, string name)
    {
        var (groupStart, index, weights) = CompactArrays(code, b, 1, name);
        string lanes = decision.BandOutputOfSlot.Length == 0 ? "global::System.ReadOnlySpan<int>.Empty"
            : code.Constant(new Tensor(DataType.Int32, new[] { decision.BandOutputOfSlot.Length }, decision.BandOutputOfSlot), name + "/sparse_lane_order");
        return code.StaticField($"{Sparse}.BandSparseMatrix",
            $"{Sparse}.BandSparseMatrix.Create({Literals.Int(b.K)}, {Literals.Int(b.N)}, {groupStart}, {index}, {weights}, {lanes})");
    }

    /// <summary>
    /// Groups of <paramref name="height"/> consecutive outputs, each listing the k where one of its weights is non-zero
    /// and those weights (height 1: CSR of Bᵀ).
    /// </summary>
    static string BlockMatrix(EmitContext code, ConstantWeightMatrix b, int height, string name)
    {
        var (groupStart, index, weights) = CompactArrays(code, b, height, name);
        return code.StaticField($"{Sparse}.BlockSparseMatrix",
            $"{Sparse}.BlockSparseMatrix.Create({Literals.Int(b.K)}, {Literals.Int(b.N)}, {height}, {groupStart}, {index}, {weights})");
    }

    /// <summary>
    /// The constants of the groups of <paramref name="height"/> outputs: where each group starts, the k of each block
    /// and the block's weights (height 1: the CSR arrays of Bᵀ).
    /// </summary>
    internal static (string GroupStart, string Index, string Weights) CompactArrays(EmitContext code, ConstantWeightMatrix b, int height, string name)
    {
        int groups = (b.N + height - 1) / height;
        var start = new int[groups + 1];
        var columns = new List<ushort>();
        var values = new List<float>();
        for (int g = 0; g < groups; g++)
        {
            for (int p = 0; p < b.K; p++)
            {
                bool any = false;
                for (int lane = 0; lane < height && g * height + lane < b.N; lane++) any |= b[p, g * height + lane] != 0;
                if (!any) continue;
                columns.Add((ushort)p);
                for (int lane = 0; lane < height; lane++) values.Add(g * height + lane < b.N ? b[p, g * height + lane] : 0f);
            }
            start[g + 1] = columns.Count;
        }
        string groupStart = code.Constant(new Tensor(DataType.Int32, new[] { start.Length }, start), name + "/sparse_group_start");
        string index = code.Constant(new Tensor(DataType.UInt16, new[] { columns.Count }, columns.ToArray()), name + "/sparse_k");
        // Per-neuron clustering keeps one palette per column of B through the blocks' lanes.
        string weights = code.KernelLayoutConstant(new Tensor(DataType.Float, new[] { values.Count }, values.ToArray()), name + "/sparse_values",
            new SparseBlockColumns(start, height, b.N, groupStart));
        return (groupStart, index, weights);
    }
}
