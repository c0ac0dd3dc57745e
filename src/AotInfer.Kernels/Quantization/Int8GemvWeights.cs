using System;
using System.Numerics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// A constant 8-bit weight matrix packed once (at type initialisation of generated code) for
/// <see cref="Int8VectorMatrixMultiply"/>, the batch-1 fully-connected product. The centring, the product scheme, the
/// row sums and the ±128 fixups are those of <see cref="Int8PackedWeights"/> (packed first, then re-laid out); the
/// layout differs: <see cref="PanelRows"/> output rows side by side, four k per row, so one 64-byte vector holds
/// 16 outputs × 4 k and a broadcast quad of activations multiplies all of them at once. Byte
/// ((panel·<see cref="Quads"/> + q)·16 + j)·4 + i holds the centred weight of row panel·16 + j at k = 4q + i; rows and
/// k past the matrix are zero. The layout does not depend on the vector width: 256- and 128-bit tiers read a panel as
/// two or four vectors of 8 or 4 outputs, so weights packed once serve every tier.
/// </summary>
public sealed class Int8GemvWeights
{
    /// <summary>Output rows per panel (int32 lanes of a 512-bit vector).</summary>
    public const int PanelRows = 16;

    /// <summary>Bytes per panel and quad: <see cref="PanelRows"/> rows × 4 k.</summary>
    public const int PanelBytes = PanelRows * 4;

    Int8GemvWeights(int rows, int depth, Int8ProductScheme scheme, int[] rowSums, (int Row, int Index, int Delta)[] fixups)
    {
        Rows = rows;
        Depth = depth;
        Scheme = scheme;
        RowSums = rowSums;
        Fixups = fixups;
        Values = new sbyte[Math.Max(1, Panels * Quads * PanelBytes)];
    }

    /// <summary>Weight rows (output columns of the product).</summary>
    public int Rows { get; }

    /// <summary>Weights per row (the reduction length K).</summary>
    public int Depth { get; }

    /// <summary>Groups of four k (K rounded up to 4, divided by 4).</summary>
    public int Quads => (Depth + 3) / 4;

    /// <summary>Panels of <see cref="PanelRows"/> rows (the last one padded with zero rows).</summary>
    public int Panels => (Rows + PanelRows - 1) / PanelRows;

    /// <summary>The no-saturation scheme these weights allow (see <see cref="Int8ProductScheme"/>).</summary>
    public Int8ProductScheme Scheme { get; }

    /// <summary>Σ_k of the stored centred weights per row, to fold the activation zero point into one offset per row.</summary>
    public int[] RowSums { get; }

    internal sbyte[] Values { get; }

    /// <summary>Weights stored one short of ±128 (see <see cref="Int8PackedWeights"/>): true value = stored + Delta.</summary>
    internal (int Row, int Index, int Delta)[] Fixups { get; }

    /// <summary>
    /// Packs weights as <see cref="Int8PackedWeights.Pack{T}"/> does (same arguments, same limits: every |w − zw| ≤ 127,
    /// or 128 for at most one weight in 16), in the panel layout.
    /// </summary>
    public static Int8GemvWeights Pack<T>(T[] weights, T[] zeroPoints, int rows, int depth, bool transposed) where T : IBinaryInteger<T>
    {
        var rowMajor = Int8PackedWeights.Pack(weights, zeroPoints, rows, depth, transposed);
        var packed = new Int8GemvWeights(rows, depth, rowMajor.Scheme, rowMajor.RowSums, rowMajor.Fixups);
        int quads = packed.Quads;
        for (int r = 0; r < rows; r++)
        {
            int panel = r / PanelRows, lane = r % PanelRows;
            for (int k = 0; k < depth; k++)
                packed.Values[((panel * quads + k / 4) * PanelRows + lane) * 4 + k % 4] = rowMajor.Values[r * rowMajor.Stride + k];
        }
        return packed;
    }
}
