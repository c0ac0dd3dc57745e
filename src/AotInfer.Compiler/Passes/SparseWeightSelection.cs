using System;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops.Sparse;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Measures the constant float weights of every Gemm and MatMul (sparsity, block pattern) and records, per node, the
/// layout the cost model (or <see cref="CompileOptions.Sparse"/>) picks, as a <see cref="SparseDecision"/> annotation
/// that the lowerings read. Runs after fusion, so that the fused epilogue still follows the sparse product.
/// </summary>
public static class SparseWeightSelection
{
    /// <summary>Annotates every eligible node; with <see cref="SparseMode.Dense"/> records the measurements but keeps dense.</summary>
    public static void Run(Graph graph, SparseMode mode)
    {
        foreach (var node in graph.Nodes)
        {
            if (!IsEligible(node, out var b, out int m)) continue;
            bool reorderable = BandOutputReordering.CanReorder(node, b.N);
            var decision = SparseCostModel.Decide(b, m, mode, reorderable);
            if (mode == SparseMode.Dense) decision = decision with { Format = SparseFormat.Dense, Reason = "dense forced by the options" };
            // Before the reader is measured: its weight rows follow this node's lane order.
            if (decision.Format == SparseFormat.Bands && decision.BandOutputOfSlot.Length != 0 && reorderable)
            {
                BandOutputReordering.Reorder(graph, node, decision.BandOutputOfSlot);
                decision = decision with { BandOutputOfSlot = Array.Empty<int>(), Reason = decision.Reason + "; outputs computed in lane order, the next layer's weights reordered to match" };
            }
            node.Annotations[SparseDecision.Key] = decision;
            if (decision.Format != SparseFormat.Dense)
                node.Annotations["kernel"] = decision.Format == SparseFormat.Bands
                    ? $"sparse Bands product (BandSparseMultiply, bias and activation in the same call), M={decision.M} N={decision.N} K={decision.K}"
                    : $"sparse {decision.Format} product (SparseMatrixMultiply), M={decision.M} N={decision.N} K={decision.K}";
        }
    }

    /// <summary>
    /// A Gemm (transA = 0) or MatMul whose B is a constant 2-D float matrix, so that A's rows form one contiguous
    /// m×k matrix (MatMul folds A's batch dimensions into m).
    /// </summary>
    static bool IsEligible(Node node, out ConstantWeightMatrix b, out int m)
    {
        b = default;
        m = 0;
        if (node.Domain.Length != 0 || node.OpType is not ("Gemm" or "MatMul")) return false;
        var a = node.Input(0);
        var weights = node.Input(1);
        var output = node.Outputs[0];
        if (a?.Shape is null || weights?.Constant is not { } constant || constant.Type != Onnx.DataType.Float || constant.Shape.Length != 2 || output.Shape is null)
            return false;
        if (a.Type != Onnx.DataType.Float) return false;
        bool transB = false;
        if (node.OpType == "Gemm")
        {
            if (node.Attributes.Int("transA", 0) != 0 || a.Shape.Length != 2) return false;
            transB = node.Attributes.Int("transB", 0) != 0;
        }
        int[] shape = constant.Shape;
        int k = transB ? shape[1] : shape[0], n = transB ? shape[0] : shape[1];
        if (k == 0 || n == 0 || a.Shape[a.Shape.Length - 1] != k) return false;
        m = output.ElementCount / n;
        if (m == 0) return false;
        b = new ConstantWeightMatrix(constant.As<float>(), k, n, shape[1], transB);
        return true;
    }
}
