using System;

namespace AotInfer.Kernels.Sparse;

/// <summary>Checks of the compressed-row arrays (CSR of Bᵀ: one row per output) the compiler stores for the sparse layouts.</summary>
internal static class CompressedRows
{
    /// <summary>
    /// Throws unless output j's entries are <paramref name="rowStart"/>[j] .. [j + 1] of <paramref name="columns"/> and
    /// <paramref name="values"/>, for <paramref name="n"/> outputs over <paramref name="k"/> inputs (16-bit indices).
    /// </summary>
    public static void Validate(int k, int n, ReadOnlySpan<int> rowStart, ReadOnlySpan<ushort> columns, ReadOnlySpan<float> values)
    {
        if (k < 0 || n < 0 || k > ushort.MaxValue + 1) throw new ArgumentOutOfRangeException(nameof(k), $"sparse matrix {k}×{n}: k must be in 0..65536 (16-bit indices)");
        if (rowStart.Length != n + 1 || rowStart[0] != 0 || rowStart[n] != columns.Length)
            throw new ArgumentException($"rowStart must have n + 1 = {n + 1} entries from 0 to the entry count {columns.Length}", nameof(rowStart));
        if (values.Length != columns.Length) throw new ArgumentException($"values must hold one weight per entry ({columns.Length}), has {values.Length}", nameof(values));
        for (int j = 0; j < n; j++)
            if (rowStart[j + 1] < rowStart[j]) throw new ArgumentException($"rowStart must not decrease (output {j})", nameof(rowStart));
        foreach (ushort column in columns)
            if (column >= k) throw new ArgumentException($"entry index {column} is not below k = {k}", nameof(columns));
    }
}
