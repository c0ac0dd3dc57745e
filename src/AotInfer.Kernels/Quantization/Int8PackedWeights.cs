using System;
using System.Numerics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// How <see cref="Int8Gemm"/> multiplies bytes with <c>vpmaddubsw</c> (u8 × s8 → saturating int16 pairs) without ever
/// saturating. Chosen per weight tensor when it is packed.
/// </summary>
public enum Int8ProductScheme
{
    /// <summary>
    /// Every centred weight w − zw lies in [−64, 64]: activations stay unsigned (u8 domain, [0, 255]) and go straight
    /// into <c>vpmaddubsw</c>; a pair sum is at most 2·255·64 = 32640 ≤ 32767. No extra instruction.
    /// </summary>
    SevenBitWeights,

    /// <summary>
    /// Every centred weight lies in [−127, 127]: activations are shifted to signed (s8 domain, [−128, 127]); the
    /// product a·w is computed as |a| · (w with a's sign). |a| ≤ 128 fits the unsigned operand and the signed operand
    /// keeps |w| ≤ 127 (−w never wraps because w ≠ −128), so a pair sum is at most 2·128·127 = 32512 ≤ 32767.
    /// </summary>
    SignTransfer,
}

/// <summary>
/// A constant 8-bit weight matrix packed once (at type initialisation of generated code) for <see cref="Int8Gemm"/>:
/// <see cref="Rows"/> output channels (conv) or output columns (matmul), each a row of <see cref="Depth"/> centred
/// weights w − zw as sbyte, padded with zeros to <see cref="Stride"/> (a multiple of 64, so every vector width reads
/// whole vectors), plus the same rows negated (the AVX-512 sign transfer selects between the two, having no
/// <c>vpsignb</c>) and each row's sum (to fold the activation zero point into one offset per row).
/// </summary>
public sealed class Int8PackedWeights
{
    Int8PackedWeights(int rows, int depth, Int8ProductScheme scheme)
    {
        Rows = rows;
        Depth = depth;
        Stride = (depth + 63) / 64 * 64;
        Scheme = scheme;
        Values = new sbyte[Math.Max(1, rows * Stride)];
        Negated = new sbyte[Values.Length];
        RowSums = new int[rows];
    }

    /// <summary>Weight rows (output channels or output columns).</summary>
    public int Rows { get; }

    /// <summary>Weights per row (the reduction length K).</summary>
    public int Depth { get; }

    /// <summary>Bytes between rows: <see cref="Depth"/> rounded up to 64.</summary>
    public int Stride { get; }

    /// <summary>Groups of four k (the reduction length rounded up to 4, divided by 4).</summary>
    public int Quads => (Depth + 3) / 4;

    /// <summary>The no-saturation scheme these weights allow.</summary>
    public Int8ProductScheme Scheme { get; }

    internal sbyte[] Values { get; }

    internal sbyte[] Negated { get; }

    /// <summary>Σ_k (w[r, k] − zw[r]) per row.</summary>
    public int[] RowSums { get; }

    /// <summary>
    /// The largest |w − zw| of a weight tensor: <see cref="Int8Gemm"/> takes it when it is at most 127. Arguments as
    /// <see cref="Pack{T}"/>.
    /// </summary>
    public static int LargestCentredMagnitude<T>(ReadOnlySpan<T> weights, ReadOnlySpan<T> zeroPoints, int rows, int depth, bool transposed) where T : IBinaryInteger<T>
    {
        int largest = 0;
        for (int r = 0; r < rows; r++)
        {
            int zero = ZeroPoint(zeroPoints, r);
            for (int k = 0; k < depth; k++)
                largest = Math.Max(largest, Math.Abs(int.CreateTruncating(weights[transposed ? k * rows + r : r * depth + k]) - zero));
        }
        return largest;
    }

    /// <summary>
    /// Packs weights stored <paramref name="rows"/> × <paramref name="depth"/> (conv <c>[M, C/group·kernel]</c>, QGemm
    /// with transB) or, when <paramref name="transposed"/>, <paramref name="depth"/> × <paramref name="rows"/> (MatMul B).
    /// Zero points: empty (0), one (per tensor) or one per row. Throws when a centred weight needs 128 or more (the
    /// compiler checks <see cref="LargestCentredMagnitude{T}"/> first and keeps the widening kernel for those).
    /// </summary>
    public static Int8PackedWeights Pack<T>(T[] weights, T[] zeroPoints, int rows, int depth, bool transposed) where T : IBinaryInteger<T>
    {
        if (weights.Length < rows * depth) throw new ArgumentException($"weights hold {weights.Length} values, expected {rows}×{depth}");
        if (zeroPoints.Length is not (0 or 1) && zeroPoints.Length != rows) throw new ArgumentException($"expected 0, 1 or {rows} zero points, got {zeroPoints.Length}");
        int largest = LargestCentredMagnitude<T>(weights, zeroPoints, rows, depth, transposed);
        if (largest > 127) throw new ArgumentException($"a weight differs from its zero point by {largest}; the int8 GEMM takes at most 127");
        var packed = new Int8PackedWeights(rows, depth, largest <= 64 ? Int8ProductScheme.SevenBitWeights : Int8ProductScheme.SignTransfer);
        for (int r = 0; r < rows; r++)
        {
            int zero = ZeroPoint<T>(zeroPoints, r), sum = 0;
            for (int k = 0; k < depth; k++)
            {
                int value = int.CreateTruncating(weights[transposed ? k * rows + r : r * depth + k]) - zero;
                packed.Values[r * packed.Stride + k] = (sbyte)value;
                packed.Negated[r * packed.Stride + k] = (sbyte)-value;
                sum += value;
            }
            packed.RowSums[r] = sum;
        }
        return packed;
    }

    /// <summary>
    /// offsets[r] = bias[r] − za·RowSums[r] for rows <paramref name="firstRow"/>…: what turns Σ a·w into
    /// Σ (a − za)·w + bias, with <paramref name="activationZero"/> = za in the activations' packed domain
    /// (<see cref="Int8Gemm.DomainZeroPoint{T}"/>). An empty <paramref name="bias"/> means none.
    /// </summary>
    public void Offsets(int activationZero, ReadOnlySpan<int> bias, int firstRow, Span<int> offsets)
    {
        for (int r = 0; r < offsets.Length; r++)
            offsets[r] = (bias.IsEmpty ? 0 : bias[firstRow + r]) - activationZero * RowSums[firstRow + r];
    }

    static int ZeroPoint<T>(ReadOnlySpan<T> zeroPoints, int row) where T : IBinaryInteger<T> =>
        zeroPoints.IsEmpty ? 0 : int.CreateTruncating(zeroPoints[zeroPoints.Length == 1 ? 0 : row]);
}
