using System;
using AotInfer.Compiler.IR;

namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>The layouts a constant weight matrix can take in generated code.</summary>
public enum SparseFormat
{
    /// <summary>The dense GEMM on B packed at type initialisation.</summary>
    Dense,
    /// <summary>Compressed rows of B (CSR: per k, each non-zero weight and its output): <c>BlockSparseMatrix</c> with height 1.</summary>
    Rows,
    /// <summary>4×1 blocks (4 outputs × 1 k): <c>BlockSparseMatrix</c> with height 4.</summary>
    Blocks4x1,
    /// <summary>8×1 blocks (8 outputs × 1 k): <c>BlockSparseMatrix</c> with height 8.</summary>
    Blocks8x1,
    /// <summary>
    /// Groups of 16 outputs × bands of 32 inputs, 16 weights per step, each lane selecting its input with an
    /// in-register permute: <c>BandSparseMatrix</c>, built at type initialisation from the CSR arrays.
    /// </summary>
    Bands,
}

/// <summary>
/// What <see cref="Passes.SparseWeightSelection"/> measured about one layer's constant weights and chose; stored in
/// <c>node.Annotations[SparseDecision.Key]</c> (shown by <c>inspect</c> and in the generated comments) and read by
/// the Gemm/MatMul lowerings through <see cref="SparseProductEmitter"/>.
/// </summary>
/// <param name="Format">The chosen layout.</param>
/// <param name="BestSparse">The sparse layout with the lowest predicted cost.</param>
/// <param name="M">Rows of A per run.</param>
/// <param name="K">The summed dimension.</param>
/// <param name="N">Outputs.</param>
/// <param name="NonZeros">Non-zero weights.</param>
/// <param name="DenseCost">Predicted cycles of the dense product.</param>
/// <param name="SparseCost">Predicted cycles of <paramref name="BestSparse"/>.</param>
/// <param name="Reason">Why <paramref name="Format"/> was chosen.</param>
public sealed record SparseDecision(SparseFormat Format, SparseFormat BestSparse, int M, int K, int N, long NonZeros,
    double DenseCost, double SparseCost, string Reason)
{
    /// <summary>
    /// The band layout's lane assignment (<see cref="BandLaneAssignment.OutputOfSlot"/>): slot s computes output
    /// [s]; empty for the natural order.
    /// </summary>
    public int[] BandOutputOfSlot { get; init; } = Array.Empty<int>();

    /// <summary>The annotation key.</summary>
    public const string Key = "sparsity";

    /// <summary>Fraction of weights that are zero.</summary>
    public double Sparsity => (long)K * N == 0 ? 0 : 1 - (double)NonZeros / ((long)K * N);

    /// <summary>Predicted speed of the best sparse layout relative to dense (above 1: faster).</summary>
    public double PredictedGain => SparseCost <= 0 ? double.PositiveInfinity : DenseCost / SparseCost;

    /// <summary>The decision of <paramref name="node"/> when a sparse layout was chosen, else null.</summary>
    public static SparseDecision? SparseOf(Node node) =>
        node.Annotations.TryGetValue(Key, out var v) && v is SparseDecision { Format: not SparseFormat.Dense } d ? d : null;

    /// <summary>For comments and <c>inspect</c>: <c>Rows (CSR): 90.0% zeros, predicted 4.1× vs dense</c>.</summary>
    public override string ToString() => FormattableString.Invariant(
        $"{Format}: {Sparsity:P1} zeros ({NonZeros} of {(long)K * N} weights kept), best sparse {BestSparse} predicted {PredictedGain:F1}× vs dense; {Reason}");
}
