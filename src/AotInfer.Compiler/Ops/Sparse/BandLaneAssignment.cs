using System;
using System.Linq;

namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>
/// Chooses which lane of the band layout (<c>BandSparseMatrix</c>) computes each output. A (band of 32 inputs, group of
/// 16 lanes) takes as many steps as its busiest lane has non-zeros there, so outputs whose non-zeros fall in the same
/// bands should share a group. Densest outputs first is a good start; a local search that swaps outputs between groups
/// while the total does not grow then removes a further sixth of the steps of magnitude-pruned fashion_lenet300 at 95 %
/// (2138 → 1791 in the 784×300 layer). It runs at build time, so the generated code only carries the resulting order.
/// </summary>
internal static class BandLaneAssignment
{
    const int Lanes = SparseCostModel.BandLanes, BandWidth = SparseCostModel.BandWidth;

    /// <summary>Swap trials per output, and the cap on the whole search's work (lane counts read), so that big layers stay quick to compile.</summary>
    const int TrialsPerOutput = 200;
    const long MaximumWork = 100_000_000;

    /// <summary>
    /// The output each slot computes (slot s is lane s mod 16 of group s / 16), or an empty array for the natural order,
    /// which is kept unless the searched order saves more than two steps per output: permuted sums are put back in
    /// output order by gathers costing about that much (see <c>BandSparseMatrix.Create</c>). With
    /// <paramref name="free"/> (the outputs may come in lane order, see <c>BandOutputReordering</c>) any saving counts.
    /// </summary>
    public static int[] OutputOfSlot(ConstantWeightMatrix b, bool free)
    {
        int n = b.N, bands = (b.K + BandWidth - 1) / BandWidth;
        var counts = BandCounts(b, bands);
        int[] natural = Enumerable.Range(0, n).ToArray();
        int[] searched = Search(counts, bands, n, natural.OrderByDescending(j => Enumerable.Range(0, bands).Sum(band => counts[j * bands + band])).ToArray());
        return Steps(counts, bands, natural) - Steps(counts, bands, searched) > (free ? 0 : 2 * n) ? searched : Array.Empty<int>();
    }

    /// <summary>Steps and (band, group) pairs holding weights when slot s computes <paramref name="outputOfSlot"/>[s] (empty: natural order).</summary>
    public static (long Steps, long Pairs) Count(ConstantWeightMatrix b, int[] outputOfSlot)
    {
        int bands = (b.K + BandWidth - 1) / BandWidth;
        var counts = BandCounts(b, bands);
        int[] order = outputOfSlot.Length == 0 ? Enumerable.Range(0, b.N).ToArray() : outputOfSlot;
        long steps = 0, pairs = 0;
        for (int g = 0; g * Lanes < b.N; g++)
            for (int band = 0; band < bands; band++)
            {
                int most = Busiest(counts, bands, order, g, band);
                steps += most;
                if (most > 0) pairs++;
            }
        return (steps, pairs);
    }

    /// <summary>Non-zeros of each output in each band: entry j·bands + band.</summary>
    static int[] BandCounts(ConstantWeightMatrix b, int bands)
    {
        var counts = new int[b.N * bands];
        for (int j = 0; j < b.N; j++)
            for (int p = 0; p < b.K; p++)
                if (b[p, j] != 0) counts[j * bands + p / BandWidth]++;
        return counts;
    }

    static int Busiest(int[] counts, int bands, int[] order, int group, int band)
    {
        int most = 0;
        for (int slot = group * Lanes; slot < Math.Min(order.Length, group * Lanes + Lanes); slot++)
            most = Math.Max(most, counts[order[slot] * bands + band]);
        return most;
    }

    static long Steps(int[] counts, int bands, int[] order)
    {
        long steps = 0;
        for (int g = 0; g * Lanes < order.Length; g++) steps += GroupSteps(counts, bands, order, g);
        return steps;
    }

    static int GroupSteps(int[] counts, int bands, int[] order, int group)
    {
        int steps = 0;
        for (int band = 0; band < bands; band++) steps += Busiest(counts, bands, order, group, band);
        return steps;
    }

    /// <summary>
    /// Swaps two outputs of different groups at random (fixed seed: the same model compiles to the same code) and keeps
    /// the swap when the two groups' steps do not grow; equal moves let the search cross plateaus.
    /// </summary>
    static int[] Search(int[] counts, int bands, int n, int[] start)
    {
        int groups = (n + Lanes - 1) / Lanes;
        var order = (int[])start.Clone();
        if (groups < 2) return order;
        var groupSteps = new int[groups];
        for (int g = 0; g < groups; g++) groupSteps[g] = GroupSteps(counts, bands, order, g);
        long trials = Math.Min((long)TrialsPerOutput * n, MaximumWork / (2L * bands * Lanes));
        var random = new Random(n * 7919 + bands);
        for (long trial = 0; trial < trials; trial++)
        {
            int s1 = random.Next(n), s2 = random.Next(n), g1 = s1 / Lanes, g2 = s2 / Lanes;
            if (g1 == g2) continue;
            (order[s1], order[s2]) = (order[s2], order[s1]);
            int steps1 = GroupSteps(counts, bands, order, g1), steps2 = GroupSteps(counts, bands, order, g2);
            if (steps1 + steps2 <= groupSteps[g1] + groupSteps[g2])
            {
                groupSteps[g1] = steps1;
                groupSteps[g2] = steps2;
            }
            else (order[s1], order[s2]) = (order[s2], order[s1]);
        }
        return order;
    }
}
