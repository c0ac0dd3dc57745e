using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// The constant B[k×n] operand of a product C = A·B laid out so that a row of A is multiplied without gathers: the
/// outputs are cut into groups of <see cref="Lanes"/> (one 16-lane vector each) and the k inputs into bands of
/// <see cref="BandWidth"/>. For every (band, group) the weights are stored as steps: in one step each lane (output)
/// takes one of its non-zero weights in that band and the 5-bit position of its input within the band. A step is
/// then one in-register permute of the band's 32 inputs (two vectors, <c>vpermt2ps</c>), one load of 16 weights and
/// one fused multiply-add; its work does not depend on how the non-zeros are scattered.
/// </summary>
/// <remarks>
/// A (band, group) takes as many steps as its busiest lane has non-zeros; the other lanes are padded with zero weights
/// (position 0). With randomly pruned weights a step carries about 8 non-zeros at 90 % sparsity and 6 at 95 %,
/// against one per gathered CSR entry or 1.25 per 8×1 block. Generated code stores the compact CSR arrays of Bᵀ
/// (one row per output, 16-bit k) with the model's weights; <see cref="Create"/> builds this layout once at type
/// initialisation, so the binary carries 6 bytes per non-zero rather than 5 per stored lane.
/// </remarks>
public sealed unsafe class BandSparseMatrix
{
    /// <summary>Outputs per group: the lanes of one 512-bit vector.</summary>
    public const int Lanes = 16;

    /// <summary>Inputs per band: the two 16-float vectors one <c>vpermt2ps</c> selects from.</summary>
    public const int BandWidth = 32;

    readonly byte[] _stepCounts;
    readonly byte[] _positions;
    readonly float[] _weights;
    readonly int _weightOffset;

    BandSparseMatrix(int k, int n, long nonZeros, byte[] stepCounts, byte[] positions, float[] weights, int weightOffset)
    {
        Rows = k;
        Columns = n;
        NonZeros = nonZeros;
        _stepCounts = stepCounts;
        _positions = positions;
        _weights = weights;
        _weightOffset = weightOffset;
    }

    /// <summary>K: rows of B (the summed dimension).</summary>
    public int Rows { get; }

    /// <summary>N: columns of B (outputs).</summary>
    public int Columns { get; }

    /// <summary>Non-zero weights stored.</summary>
    public long NonZeros { get; }

    /// <summary>Groups of <see cref="Lanes"/> outputs (the last may be partial).</summary>
    public int Groups => (Columns + Lanes - 1) / Lanes;

    /// <summary>Bands of <see cref="BandWidth"/> inputs (the last may be partial).</summary>
    public int Bands => (Rows + BandWidth - 1) / BandWidth;

    /// <summary>Steps over all bands and groups, padding included: the kernel's work.</summary>
    public int Steps => _positions.Length / Lanes;

    /// <summary>Steps of each (band, group), band-major: entry b·<see cref="Groups"/> + g.</summary>
    internal byte* StepCounts => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_stepCounts));

    /// <summary>Per step, each lane's input position within the band (0..31).</summary>
    internal byte* Positions => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_positions));

    /// <summary>Per step, each lane's weight (0 for padding); 64-byte aligned.</summary>
    internal float* Weights => (float*)Unsafe.AsPointer(ref _weights[_weightOffset]);

    /// <summary>
    /// Builds the layout from the CSR arrays of Bᵀ: output j's non-zeros are entries <paramref name="rowStart"/>[j] ..
    /// [j + 1], each with its k in <paramref name="columns"/> and its weight in <paramref name="values"/> (the arrays
    /// of a height-1 <see cref="BlockSparseMatrix"/>). Zero weights in the arrays are dropped.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays do not describe a valid k×n matrix.</exception>
    public static BandSparseMatrix Create(int k, int n, ReadOnlySpan<int> rowStart, ReadOnlySpan<ushort> columns, ReadOnlySpan<float> values)
    {
        if (k < 0 || n < 0 || k > ushort.MaxValue + 1) throw new ArgumentOutOfRangeException(nameof(k), $"sparse matrix {k}×{n}: k must be in 0..65536 (16-bit indices)");
        if (rowStart.Length != n + 1 || rowStart[0] != 0 || rowStart[n] != columns.Length)
            throw new ArgumentException($"rowStart must have n + 1 = {n + 1} entries from 0 to the entry count {columns.Length}", nameof(rowStart));
        if (values.Length != columns.Length) throw new ArgumentException($"values must hold one weight per entry ({columns.Length}), has {values.Length}", nameof(values));
        for (int j = 0; j < n; j++)
            if (rowStart[j + 1] < rowStart[j]) throw new ArgumentException($"rowStart must not decrease (output {j})", nameof(rowStart));
        foreach (ushort column in columns)
            if (column >= k) throw new ArgumentException($"entry index {column} is not below k = {k}", nameof(columns));

        int groups = (n + Lanes - 1) / Lanes, bands = (k + BandWidth - 1) / BandWidth;
        // counts[(b·groups + g)·Lanes + lane]: non-zeros of output g·16 + lane in band b.
        var counts = new int[bands * groups * Lanes];
        long nonZeros = 0;
        for (int j = 0; j < n; j++)
            for (int e = rowStart[j]; e < rowStart[j + 1]; e++)
                if (values[e] != 0)
                {
                    counts[(columns[e] / BandWidth * groups + j / Lanes) * Lanes + j % Lanes]++;
                    nonZeros++;
                }
        var stepCounts = new byte[bands * groups];
        var firstStep = new int[bands * groups + 1];
        for (int pair = 0; pair < stepCounts.Length; pair++)
        {
            int steps = 0;
            for (int lane = 0; lane < Lanes; lane++) steps = Math.Max(steps, counts[pair * Lanes + lane]);
            stepCounts[pair] = (byte)steps;
            firstStep[pair + 1] = firstStep[pair] + steps;
        }

        int totalSteps = firstStep[stepCounts.Length];
        var positions = new byte[totalSteps * Lanes];
        // Pinned so that the weight pointer stays valid; 16 spare floats let the start be 64-byte aligned.
        var weights = GC.AllocateArray<float>(totalSteps * Lanes + 16, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(weights));
        int offset = (int)(((address + 63) & ~(nuint)63) - address) / sizeof(float);
        Array.Clear(counts);
        for (int j = 0; j < n; j++)
            for (int e = rowStart[j]; e < rowStart[j + 1]; e++)
            {
                if (values[e] == 0) continue;
                int pair = columns[e] / BandWidth * groups + j / Lanes, lane = j % Lanes;
                int slot = (firstStep[pair] + counts[pair * Lanes + lane]++) * Lanes + lane;
                positions[slot] = (byte)(columns[e] % BandWidth);
                weights[offset + slot] = values[e];
            }
        return new BandSparseMatrix(k, n, nonZeros, stepCounts, positions, weights, offset);
    }
}
