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
/// A centred weight of exactly ±128 (an s8 weight of −128 with zero point 0, the most common outlier of 8-bit
/// quantisers) is stored as ±127 and listed in <see cref="Fixups"/>: <see cref="Int8Gemm"/> adds the missing ±1·(a − za)
/// afterwards, so the result stays exact while the packed values keep the sign-transfer bound.
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

    /// <summary>Σ_k of the stored (w[r, k] − zw[r]) per row: fixups add their own ±1·(a − za), zero point included.</summary>
    public int[] RowSums { get; }

    /// <summary>The weights stored one short of ±128: true value = stored + <c>Delta</c> (±1), at row <c>Row</c>, k <c>Index</c>.</summary>
    internal (int Row, int Index, int Delta)[] Fixups { get; private set; } = Array.Empty<(int, int, int)>();

    /// <summary>
    /// Whether <see cref="Pack{T}"/> takes weights whose largest |w − zw| is <paramref name="largest"/> with
    /// <paramref name="atLimit"/> of them at exactly 128, out of <paramref name="count"/>: up to 127 always; 128 when at
    /// most one weight in 16 needs a fixup.
    /// </summary>
    public static bool Fits(int largest, int atLimit, int count) => largest <= 127 || (largest == 128 && atLimit * 16L <= count);

    /// <summary>
    /// The largest |w − zw| of a weight tensor and how many weights reach exactly 128 (see <see cref="Fits"/>).
    /// Arguments as <see cref="Pack{T}"/>.
    /// </summary>
    public static (int Largest, int AtLimit) CentredRange<T>(ReadOnlySpan<T> weights, ReadOnlySpan<T> zeroPoints, int rows, int depth, bool transposed) where T : IBinaryInteger<T>
    {
        int largest = 0, atLimit = 0;
        for (int r = 0; r < rows; r++)
        {
            int zero = ZeroPoint(zeroPoints, r);
            for (int k = 0; k < depth; k++)
            {
                int magnitude = Math.Abs(int.CreateTruncating(weights[transposed ? k * rows + r : r * depth + k]) - zero);
                largest = Math.Max(largest, magnitude);
                if (magnitude == 128) atLimit++;
            }
        }
        return (largest, atLimit);
    }

    /// <summary>
    /// Packs weights stored <paramref name="rows"/> × <paramref name="depth"/> (conv <c>[M, C/group·kernel]</c>, QGemm
    /// with transB) or, when <paramref name="transposed"/>, <paramref name="depth"/> × <paramref name="rows"/> (MatMul B).
    /// Zero points: empty (0), one (per tensor) or one per row. Throws when the weights do not <see cref="Fits"/> (the
    /// compiler checks <see cref="CentredRange{T}"/> and <see cref="Fits"/> first and keeps the widening kernel for those).
    /// </summary>
    public static Int8PackedWeights Pack<T>(T[] weights, T[] zeroPoints, int rows, int depth, bool transposed) where T : IBinaryInteger<T>
    {
        if (weights.Length < rows * depth) throw new ArgumentException($"weights hold {weights.Length} values, expected {rows}×{depth}");
        if (zeroPoints.Length is not (0 or 1) && zeroPoints.Length != rows) throw new ArgumentException($"expected 0, 1 or {rows} zero points, got {zeroPoints.Length}");
        var (largest, atLimit) = CentredRange<T>(weights, zeroPoints, rows, depth, transposed);
        if (!Fits(largest, atLimit, rows * depth))
            throw new ArgumentException($"a weight differs from its zero point by {largest} ({atLimit} by 128); the int8 GEMM takes at most 127, or 128 for one weight in 16");
        var packed = new Int8PackedWeights(rows, depth, largest <= 64 ? Int8ProductScheme.SevenBitWeights : Int8ProductScheme.SignTransfer);
        var fixups = new System.Collections.Generic.List<(int, int, int)>();
        for (int r = 0; r < rows; r++)
        {
            int zero = ZeroPoint<T>(zeroPoints, r), sum = 0;
            for (int k = 0; k < depth; k++)
            {
                int value = int.CreateTruncating(weights[transposed ? k * rows + r : r * depth + k]) - zero;
                int stored = Math.Clamp(value, -127, 127);
                if (stored != value) fixups.Add((r, k, value - stored));
                packed.Values[r * packed.Stride + k] = (sbyte)stored;
                packed.Negated[r * packed.Stride + k] = (sbyte)-stored;
                sum += stored;
            }
            packed.RowSums[r] = sum;
        }
        packed.Fixups = fixups.ToArray();
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
