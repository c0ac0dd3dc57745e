using System;
using System.Linq;
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
/// (position 0). To waste fewer lanes, the outputs are assigned to lanes densest first (<see cref="SlotOfOutput"/>),
/// so that a group's outputs have similar numbers of non-zeros: on magnitude-pruned fashion_lenet300 this cuts the
/// steps of the first layer by a quarter. A step then carries about 7 non-zeros at 90 % sparsity and 5 at 95 %,
/// against one per gathered CSR entry or 1.25 per 8×1 block. The kernel is bound by streaming the 80 bytes of each
/// step from L2, so fewer steps is what makes it faster. Generated code stores the compact CSR arrays of Bᵀ
/// (one row per output, 16-bit k) with the model's weights; <c>Create</c> builds this layout once at type
/// initialisation, so the binary carries 6 bytes per non-zero rather than 5 per stored lane.
/// </remarks>
public sealed unsafe class BandSparseMatrix
{
    /// <summary>Outputs per group: the lanes of one 512-bit vector.</summary>
    public const int Lanes = 16;

    /// <summary>Inputs per band: the two 16-float vectors one <c>vpermt2ps</c> selects from.</summary>
    public const int BandWidth = 32;

    readonly byte[] _stepCounts;
    readonly int[] _slotOfOutput;
    readonly byte[] _positions;
    readonly float[] _weights;
    readonly int _weightOffset;

    BandSparseMatrix(int k, int n, long nonZeros, byte[] stepCounts, int[] slotOfOutput, byte[] positions, float[] weights, int weightOffset)
    {
        _slotOfOutput = slotOfOutput;
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

    /// <summary>
    /// The lane slot that computes each output (slot s is lane s mod 16 of group s / 16), or empty when output j is
    /// computed by slot j.
    /// </summary>
    public ReadOnlySpan<int> SlotOfOutput => _slotOfOutput;

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
        CompressedRows.Validate(k, n, rowStart, columns, values);
        var rowNonZeros = new int[n];
        for (int j = 0; j < n; j++)
            for (int e = rowStart[j]; e < rowStart[j + 1]; e++)
                if (values[e] != 0) rowNonZeros[j]++;

        // Lanes in natural order, or densest outputs first when that saves more than two steps per output: the kernel
        // then puts the sums back in output order with 8-lane gathers, which cost about two steps' time per output
        // (0.15 µs for 300 outputs, so a 100-output layer saving 66 steps runs faster unpermuted).
        int[] identity = Enumerable.Range(0, n).ToArray();
        int[] densestFirst = identity.OrderByDescending(j => rowNonZeros[j]).ToArray();
        var (_, naturalSteps) = CountSteps(k, n, rowStart, columns, values, identity);
        var (_, sortedSteps) = CountSteps(k, n, rowStart, columns, values, densestFirst);
        return Build(k, n, rowStart, columns, values, naturalSteps - sortedSteps > 2 * n ? densestFirst : identity);
    }

    /// <summary>
    /// Builds the layout like <see cref="Create(int, int, ReadOnlySpan{int}, ReadOnlySpan{ushort}, ReadOnlySpan{float})"/>
    /// with the lane assignment chosen by the caller (the compiler searches for one with fewer steps at build time):
    /// slot s (lane s mod 16 of group s / 16) computes output <paramref name="outputOfSlot"/>[s]; empty keeps the
    /// natural order (slot j computes output j).
    /// </summary>
    /// <exception cref="ArgumentException">The arrays do not describe a valid k×n matrix, or
    /// <paramref name="outputOfSlot"/> is not empty nor a permutation of 0..n − 1.</exception>
    public static BandSparseMatrix Create(int k, int n, ReadOnlySpan<int> rowStart, ReadOnlySpan<ushort> columns, ReadOnlySpan<float> values,
        ReadOnlySpan<int> outputOfSlot)
    {
        CompressedRows.Validate(k, n, rowStart, columns, values);
        if (outputOfSlot.IsEmpty) return Build(k, n, rowStart, columns, values, Enumerable.Range(0, n).ToArray());
        if (outputOfSlot.Length != n) throw new ArgumentException($"outputOfSlot must be empty or hold one output per slot ({n}), has {outputOfSlot.Length}", nameof(outputOfSlot));
        var seen = new bool[n];
        foreach (int j in outputOfSlot)
        {
            if ((uint)j >= (uint)n || seen[j]) throw new ArgumentException($"outputOfSlot must be a permutation of 0..{n - 1} (output {j})", nameof(outputOfSlot));
            seen[j] = true;
        }
        return Build(k, n, rowStart, columns, values, outputOfSlot.ToArray());
    }

    /// <summary>The layout of valid CSR arrays with slot s computing output <paramref name="outputOfSlot"/>[s] (a permutation).</summary>
    static BandSparseMatrix Build(int k, int n, ReadOnlySpan<int> rowStart, ReadOnlySpan<ushort> columns, ReadOnlySpan<float> values, int[] outputOfSlot)
    {
        int groups = (n + Lanes - 1) / Lanes, bands = (k + BandWidth - 1) / BandWidth;
        long nonZeros = 0;
        foreach (float value in values)
            if (value != 0) nonZeros++;
        bool permute = false;
        for (int slot = 0; slot < n; slot++) permute |= outputOfSlot[slot] != slot;
        var (stepCounts, totalSteps) = CountSteps(k, n, rowStart, columns, values, outputOfSlot);

        var firstStep = new int[bands * groups + 1];
        for (int pair = 0; pair < stepCounts.Length; pair++) firstStep[pair + 1] = firstStep[pair] + stepCounts[pair];
        var positions = new byte[totalSteps * Lanes];
        // Pinned so that the weight pointer stays valid; 16 spare floats let the start be 64-byte aligned.
        var weights = GC.AllocateArray<float>(totalSteps * Lanes + 16, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(weights));
        int offset = (int)(((address + 63) & ~(nuint)63) - address) / sizeof(float);
        var filled = new int[bands * groups * Lanes];
        for (int slot = 0; slot < n; slot++)
        {
            int j = outputOfSlot[slot];
            for (int e = rowStart[j]; e < rowStart[j + 1]; e++)
            {
                if (values[e] == 0) continue;
                int pair = columns[e] / BandWidth * groups + slot / Lanes, lane = slot % Lanes;
                int position = (firstStep[pair] + filled[pair * Lanes + lane]++) * Lanes + lane;
                positions[position] = (byte)(columns[e] % BandWidth);
                weights[offset + position] = values[e];
            }
        }
        var slotOfOutput = new int[permute ? n : 0];
        if (permute)
            for (int slot = 0; slot < n; slot++) slotOfOutput[outputOfSlot[slot]] = slot;
        return new BandSparseMatrix(k, n, nonZeros, stepCounts, slotOfOutput, positions, weights, offset);
    }

    /// <summary>The steps of every (band, group) and their total when slot s computes output <paramref name="outputOfSlot"/>[s].</summary>
    static (byte[] Counts, int Total) CountSteps(int k, int n, ReadOnlySpan<int> rowStart, ReadOnlySpan<ushort> columns, ReadOnlySpan<float> values, int[] outputOfSlot)
    {
        int groups = (n + Lanes - 1) / Lanes, bands = (k + BandWidth - 1) / BandWidth;
        // perLane[(b·groups + g)·Lanes + lane]: non-zeros of slot g·16 + lane in band b.
        var perLane = new int[bands * groups * Lanes];
        for (int slot = 0; slot < n; slot++)
        {
            int j = outputOfSlot[slot];
            for (int e = rowStart[j]; e < rowStart[j + 1]; e++)
                if (values[e] != 0) perLane[(columns[e] / BandWidth * groups + slot / Lanes) * Lanes + slot % Lanes]++;
        }
        var counts = new byte[bands * groups];
        int total = 0;
        for (int pair = 0; pair < counts.Length; pair++)
        {
            int steps = 0;
            for (int lane = 0; lane < Lanes; lane++) steps = Math.Max(steps, perLane[pair * Lanes + lane]);
            counts[pair] = (byte)steps;
            total += steps;
        }
        return (counts, total);
    }
}
