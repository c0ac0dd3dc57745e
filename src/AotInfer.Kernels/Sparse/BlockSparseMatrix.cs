using System;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// The constant B[k×n] operand of a product C = A·B stored by output groups: group g covers the
/// <see cref="BlockHeight"/> consecutive outputs g·h .. g·h + h − 1 and lists, for every k where one of them has a
/// non-zero weight, that k and the h weights B[k, g·h + i]. Height 1 is plain CSR of Bᵀ (one weight per entry);
/// heights 4 and 8 are the 4×1 / 8×1 blocks of the weights as Gemm stores them with transB.
/// </summary>
/// <remarks>
/// Output-major so that a group's sums stay in registers: a block is one broadcast of A[k] and one h-lane fused
/// multiply-add; height 1 gathers A[k] for 8 entries at a time, two gathers per step, so its rows are padded here with zero weights
/// (index 0) to a multiple of <see cref="RowPadding"/>. Generated code stores the compact arrays with the model's
/// weights (16-bit k indices) and builds this once at type initialisation.
/// </remarks>
public sealed class BlockSparseMatrix
{
    /// <summary>Height-1 rows are padded to a multiple of this many entries (two 8-lane gathers).</summary>
    public const int RowPadding = 16;

    BlockSparseMatrix(int k, int n, int height, int[] groupStart, ushort[] columns, float[] values, long nonZeroBlocks)
    {
        Rows = k;
        Columns = n;
        BlockHeight = height;
        GroupStart = groupStart;
        ColumnIndex = columns;
        Values = values;
        Blocks = nonZeroBlocks;
    }

    /// <summary>K: rows of B (the summed dimension).</summary>
    public int Rows { get; }

    /// <summary>N: columns of B (outputs).</summary>
    public int Columns { get; }

    /// <summary>Outputs per block: 1, 4 or 8.</summary>
    public int BlockHeight { get; }

    /// <summary>Stored blocks, padding excluded.</summary>
    public long Blocks { get; }

    /// <summary>Where group g's blocks start in <see cref="ColumnIndex"/>; ⌈N / h⌉ + 1 entries.</summary>
    internal int[] GroupStart { get; }

    /// <summary>The k of each block.</summary>
    internal ushort[] ColumnIndex { get; }

    /// <summary>The h weights of each block, block after block (lanes past N are zero).</summary>
    internal float[] Values { get; }

    /// <summary>
    /// Decodes the values array (see <see cref="Create"/>) stored as 16-entry palettes: the compiler writes
    /// <paramref name="palettes"/> palettes (1 for the whole matrix, or <paramref name="n"/>, one per column of B) of
    /// 16 entries of <paramref name="entryBytes"/> bytes (4: float32, 2: float16), then a 4-bit index (low nibble first)
    /// for each lane of each block in storage order, lanes past N excepted (they are zero). Exact: each weight gets its
    /// entry's value. Lane i of a block of group g is column g·h + i, which is what per-neuron clustering shares values by.
    /// </summary>
    public static float[] DecodePalette(ReadOnlySpan<byte> base64Utf8, ReadOnlySpan<int> groupStart, int blockHeight, int n, int palettes, int entryBytes)
    {
        if (groupStart.Length < 1 || blockHeight < 1 || n < 0 || (palettes != 1 && palettes != n) || entryBytes is not (2 or 4))
            throw new InvalidOperationException($"corrupt palette weight data: blocks of {blockHeight} over {n} columns with {palettes} palettes of {entryBytes}-byte entries");
        int lanes = 0;
        for (int g = 0; g + 1 < groupStart.Length; g++)
            lanes += (groupStart[g + 1] - groupStart[g]) * Math.Min(blockHeight, n - g * blockHeight);
        int paletteEntries = palettes * 16, paletteBytes = paletteEntries * entryBytes, columnStride = palettes == 1 ? 0 : 16;
        var bytes = WeightData.DecodeBase64(base64Utf8, paletteBytes + (lanes * 4 + 7) / 8);
        var entries = WeightData.ReadPalettes(bytes, paletteEntries, entryBytes);
        ReadOnlySpan<byte> indices = bytes.AsSpan(paletteBytes);
        var values = new float[groupStart[groupStart.Length - 1] * blockHeight];
        int position = 0;
        for (int g = 0; g + 1 < groupStart.Length; g++)
            for (int block = groupStart[g]; block < groupStart[g + 1]; block++)
                for (int lane = 0; lane < blockHeight && g * blockHeight + lane < n; lane++, position++)
                    values[block * blockHeight + lane] = entries[(g * blockHeight + lane) * columnStride + WeightData.Nibble(indices, position)];
        return values;
    }

    /// <summary>
    /// Builds the matrix from compact arrays: group g owns blocks <paramref name="groupStart"/>[g] .. [g + 1]; block b
    /// has k = <paramref name="columns"/>[b] and weights <paramref name="values"/>[b·h .. b·h + h].
    /// </summary>
    /// <exception cref="ArgumentException">The arrays do not describe a valid k×n matrix.</exception>
    public static BlockSparseMatrix Create(int k, int n, int blockHeight, ReadOnlySpan<int> groupStart, ReadOnlySpan<ushort> columns, ReadOnlySpan<float> values)
    {
        if (blockHeight is not (1 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(blockHeight), $"block height must be 1, 4 or 8, got {blockHeight}");
        if (k < 0 || n < 0 || k > ushort.MaxValue + 1) throw new ArgumentOutOfRangeException(nameof(k), $"sparse matrix {k}×{n}: k must be in 0..65536 (16-bit indices)");
        int groups = (n + blockHeight - 1) / blockHeight;
        if (groupStart.Length != groups + 1 || groupStart[0] != 0 || groupStart[groups] != columns.Length)
            throw new ArgumentException($"groupStart must have ⌈n/h⌉ + 1 = {groups + 1} entries from 0 to the block count {columns.Length}", nameof(groupStart));
        if (values.Length != columns.Length * blockHeight)
            throw new ArgumentException($"values must hold {blockHeight} weights per block ({columns.Length * blockHeight}), has {values.Length}", nameof(values));
        for (int g = 0; g < groups; g++)
            if (groupStart[g + 1] < groupStart[g]) throw new ArgumentException($"groupStart must not decrease (group {g})", nameof(groupStart));
        foreach (ushort column in columns)
            if (column >= k) throw new ArgumentException($"block index {column} is not below k = {k}", nameof(columns));
        if (blockHeight > 1)
            return new BlockSparseMatrix(k, n, blockHeight, groupStart.ToArray(), columns.ToArray(), values.ToArray(), columns.Length);

        int padded = 0;
        for (int g = 0; g < groups; g++) padded += Pad(groupStart[g + 1] - groupStart[g]);
        var start = new int[groups + 1];
        var paddedColumns = new ushort[padded];
        var paddedValues = new float[padded];
        for (int g = 0; g < groups; g++)
        {
            int count = groupStart[g + 1] - groupStart[g];
            columns.Slice(groupStart[g], count).CopyTo(paddedColumns.AsSpan(start[g]));
            values.Slice(groupStart[g], count).CopyTo(paddedValues.AsSpan(start[g]));
            start[g + 1] = start[g] + Pad(count);
        }
        return new BlockSparseMatrix(k, n, 1, start, paddedColumns, paddedValues, columns.Length);
    }

    static int Pad(int count) => (count + RowPadding - 1) / RowPadding * RowPadding;
}
