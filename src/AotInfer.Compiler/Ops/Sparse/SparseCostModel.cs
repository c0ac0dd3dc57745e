using System;
using System.Linq;

namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>
/// Measures a constant weight matrix (non-zeros, the blocks each sparse layout would store) and predicts the cycles
/// of the dense and sparse kernels for m rows of A, to pick a layout per layer.
/// </summary>
/// <remarks>
/// The constants are cycles per unit of work on the reference machine (one Zen core at about 4 GHz), fitted to
/// <c>aotinfer bench --sparse dense|csr|blocks4x1|blocks8x1|bands --profile</c> runs of pruned fashion_lenet300
/// (docs/sparse.md): a batch-1 dense product is bound by streaming the weights (slower once they outgrow L2; the
/// 942 KB first layer runs at 10 multiply-adds per cycle), a block costs a little under a cycle (load bound), a
/// gathered CSR entry more, a band step 1.5 cycles plus 4 per (band, group). Auto mode wants a clear win
/// (<see cref="AutoMinimumGain"/>) before leaving the dense kernel.
/// </remarks>
internal static class SparseCostModel
{
    /// <summary>Multiply-adds per cycle of the dense product at m = 1 while B fits in L2.</summary>
    public const double DenseGemvMacsPerCycle = 12;
    /// <summary>Multiply-adds per cycle of the dense product at m = 1 when B streams from L3 (over <see cref="CacheBytes"/>).</summary>
    public const double DenseStreamingMacsPerCycle = 10;
    /// <summary>Multiply-adds per cycle of the dense GEMM for m &gt; 1 (B reused from cache across rows).</summary>
    public const double DenseGemmMacsPerCycle = 40;
    /// <summary>Weight bytes above which the dense product streams from L3.</summary>
    public const long CacheBytes = 512 * 1024;
    /// <summary>Cycles per gathered CSR entry (Zen 4 gathers are slow: about one element per load port cycle and more).</summary>
    public const double GatherEntryCycles = 1.5;
    /// <summary>Cycles per 4×1 or 8×1 block (one 64-bit index load per four blocks, a broadcast, a weight load, an FMA).</summary>
    public const double BlockCycles = 0.8;
    /// <summary>Cycles per output group (CSR: per output) for set-up, the final sum and the store.</summary>
    public const double GroupCycles = 10;
    /// <summary>
    /// Cycles per step of the band layout (16 lanes: a widened index load, a permute, a weight load, an FMA; bound by
    /// streaming the step's 80 bytes from L2).
    /// </summary>
    public const double BandStepCycles = 1.5;
    /// <summary>Cycles per (band, group) holding weights: loading and storing the group's sums, the loop around its steps.</summary>
    public const double BandPairCycles = 4;
    /// <summary>Outputs per group of the band layout (<c>BandSparseMatrix.Lanes</c>).</summary>
    public const int BandLanes = 16;
    /// <summary>Inputs per band of the band layout (<c>BandSparseMatrix.BandWidth</c>).</summary>
    public const int BandWidth = 32;
    /// <summary>
    /// Multiply-adds per cycle of the dense convolution kernels on small layers (measured 26 on fashion_lenet5's
    /// 20→50 5×5 layer, 22 on digits_cnn's 32→64 3×3).
    /// </summary>
    public const double DenseConvolutionMacsPerCycle = 25;
    /// <summary>
    /// Cycles per non-zero filter weight and 16 lanes of the sparse convolution (a broadcast, a load, an FMA; the loads
    /// are unaligned, the shifted rows start anywhere): 1.6 measured on pruned fashion_lenet5.
    /// </summary>
    public const double ConvolutionVectorCycles = 1.6;
    /// <summary>Column-matrix floats gathered per cycle (im2col for windows other than 1×1).</summary>
    public const double ColumnFloatsPerCycle = 4;
    /// <summary>Multiply-adds per cycle of the int8 GEMV (<c>vpmaddubsw</c>; 29 measured on quantised fashion_lenet300's 784×300 layer).</summary>
    public const double Int8GemvMacsPerCycle = 29;
    /// <summary>The predicted speed-up auto mode needs before choosing a sparse layout.</summary>
    public const double AutoMinimumGain = 1.3;
    /// <summary>
    /// The fraction of zero weights auto mode needs: below it the sparse layouts store more bytes than dense, and a
    /// predicted gain would only reflect the cost model's reach beyond the pruned models it was fitted to.
    /// </summary>
    public const double AutoMinimumSparsity = 0.5;

    /// <summary>Outputs per block of a sparse layout.</summary>
    public static int BlockHeight(SparseFormat format) => format switch
    {
        SparseFormat.Blocks8x1 => 8,
        SparseFormat.Blocks4x1 => 4,
        _ => 1,
    };

    /// <summary>Decides the layout of a product with m rows of A and constant B.</summary>
    /// <param name="b">The constant weights.</param>
    /// <param name="m">Rows of A per run.</param>
    /// <param name="mode">The options' sparse mode.</param>
    /// <param name="freeLaneOrder">The outputs may be computed in any order (the next layer's weights follow), so a
    /// band lane order costs no gathers.</param>
    public static SparseDecision Decide(ConstantWeightMatrix b, int m, SparseMode mode, bool freeLaneOrder = false)
    {
        int k = b.K, n = b.N;
        long nonZeros = CountBlocks(b, 1);
        double macs = (double)k * n * m;
        double dense = macs / (m > 1 ? DenseGemmMacsPerCycle : (long)k * n * 4 > CacheBytes ? DenseStreamingMacsPerCycle : DenseGemvMacsPerCycle);

        // The lane search is the costly part of the measurements: only for layers auto could make sparse, or when forced.
        int[] bandLanes = nonZeros <= (1 - AutoMinimumSparsity) * k * n || mode is not (SparseMode.Auto or SparseMode.Dense) ? BandLaneAssignment.OutputOfSlot(b, freeLaneOrder) : Array.Empty<int>();
        var best = SparseFormat.Rows;
        double bestCost = double.PositiveInfinity;
        foreach (var format in new[] { SparseFormat.Rows, SparseFormat.Blocks4x1, SparseFormat.Blocks8x1, SparseFormat.Bands })
        {
            int h = BlockHeight(format), groups = (n + h - 1) / h;
            double cost;
            if (format == SparseFormat.Rows) cost = m * (PaddedRowEntries(b) * GatherEntryCycles + n * GroupCycles);
            else if (format == SparseFormat.Bands)
            {
                var (steps, pairs) = BandLaneAssignment.Count(b, bandLanes);
                cost = m * (steps * BandStepCycles + pairs * BandPairCycles + n);
            }
            else cost = m * (CountBlocks(b, h) * BlockCycles + groups * GroupCycles);
            if (cost < bestCost) { best = format; bestCost = cost; }
        }

        SparseFormat chosen;
        string reason;
        if (k > ushort.MaxValue + 1) { chosen = SparseFormat.Dense; reason = $"k = {k} exceeds the 16-bit indices of the sparse kernels"; }
        else if (mode == SparseMode.Sparse) { chosen = best; reason = "sparse forced by the options"; }
        else if (mode is SparseMode.Rows or SparseMode.Blocks4x1 or SparseMode.Blocks8x1 or SparseMode.Bands)
        {
            chosen = mode switch
            {
                SparseMode.Rows => SparseFormat.Rows,
                SparseMode.Blocks4x1 => SparseFormat.Blocks4x1,
                SparseMode.Blocks8x1 => SparseFormat.Blocks8x1,
                _ => SparseFormat.Bands,
            };
            reason = "layout forced by the options";
        }
        else if (nonZeros > (1 - AutoMinimumSparsity) * k * n)
        {
            chosen = SparseFormat.Dense;
            reason = FormattableString.Invariant($"auto needs at least {AutoMinimumSparsity:P0} zero weights");
        }
        else if (dense >= bestCost * AutoMinimumGain) { chosen = best; reason = "cost model"; }
        else { chosen = SparseFormat.Dense; reason = FormattableString.Invariant($"cost model (sparse needs a predicted {AutoMinimumGain}× gain)"); }
        return new SparseDecision(chosen, best, m, k, n, nonZeros, dense, bestCost, reason) { BandOutputOfSlot = bandLanes };
    }

    /// <summary>
    /// Decides the layout of a convolution's filter (<paramref name="filter"/>: the M × C·taps weights as an n×k
    /// matrix) over <paramref name="pixels"/> output pixels, each channel's computed as <paramref name="rowLength"/>
    /// lanes (output rows at the bordered width for stride-1 windows, see <c>SparseConvolution</c>), after gathering
    /// <paramref name="gathered"/> floats (the bordered image or the im2col columns): dense (whichever dense kernel the
    /// Conv lowering picks) or compressed filter rows, the only sparse convolution layout, which every forced sparse
    /// mode selects.
    /// </summary>
    public static SparseDecision DecideConvolution(ConstantWeightMatrix filter, int pixels, int rowLength, long gathered, SparseMode mode)
    {
        int depth = filter.K, outChannels = filter.N;
        long nonZeros = CountBlocks(filter, 1);
        double dense = (double)depth * outChannels * pixels / DenseConvolutionMacsPerCycle;
        double sparse = nonZeros * Math.Ceiling(rowLength / 16.0) * ConvolutionVectorCycles + gathered / ColumnFloatsPerCycle
                        + outChannels * Math.Ceiling(rowLength / 64.0) * GroupCycles;
        SparseFormat chosen;
        string reason;
        if (mode == SparseMode.Dense) { chosen = SparseFormat.Dense; reason = "dense forced by the options"; }
        else if (mode != SparseMode.Auto) { chosen = SparseFormat.Rows; reason = "sparse forced by the options (compressed filter rows: the convolution's only sparse layout)"; }
        else if (nonZeros > (1 - AutoMinimumSparsity) * depth * outChannels)
        {
            chosen = SparseFormat.Dense;
            reason = FormattableString.Invariant($"auto needs at least {AutoMinimumSparsity:P0} zero weights");
        }
        else if (dense >= sparse * AutoMinimumGain) { chosen = SparseFormat.Rows; reason = "cost model"; }
        else { chosen = SparseFormat.Dense; reason = FormattableString.Invariant($"cost model (sparse needs a predicted {AutoMinimumGain}× gain)"); }
        return new SparseDecision(chosen, SparseFormat.Rows, pixels, depth, outChannels, nonZeros, dense, sparse, reason);
    }

    /// <summary>
    /// Decides the layout of a quantised product's centred weights (B − zb): the dense int8 GEMV/GEMM, or the band
    /// layout run in float on the centred integers (exact, see <c>SparseWeightSelection</c>), the only int8 sparse
    /// layout, which every forced sparse mode selects.
    /// </summary>
    public static SparseDecision DecideInt8(ConstantWeightMatrix centred, int m, SparseMode mode)
    {
        int k = centred.K, n = centred.N;
        long nonZeros = CountBlocks(centred, 1);
        double dense = (double)k * n * m / (m > 1 ? DenseGemmMacsPerCycle * 2 : Int8GemvMacsPerCycle);
        int[] lanes = nonZeros <= (1 - AutoMinimumSparsity) * k * n || mode is not (SparseMode.Auto or SparseMode.Dense)
            ? BandLaneAssignment.OutputOfSlot(centred, false) : Array.Empty<int>();
        var (steps, pairs) = BandLaneAssignment.Count(centred, lanes);
        // Centring A and converting the sums back to integers: about a cycle per 8 values.
        double sparse = m * (steps * BandStepCycles + pairs * BandPairCycles + n + (k + n) / 8.0);
        SparseFormat chosen;
        string reason;
        if (mode == SparseMode.Dense) { chosen = SparseFormat.Dense; reason = "dense forced by the options"; }
        else if (mode != SparseMode.Auto) { chosen = SparseFormat.Bands; reason = "sparse forced by the options (bands: the only int8 sparse layout)"; }
        else if (nonZeros > (1 - AutoMinimumSparsity) * k * n)
        {
            chosen = SparseFormat.Dense;
            reason = FormattableString.Invariant($"auto needs at least {AutoMinimumSparsity:P0} zero weights");
        }
        else if (dense >= sparse * AutoMinimumGain) { chosen = SparseFormat.Bands; reason = "cost model"; }
        else { chosen = SparseFormat.Dense; reason = FormattableString.Invariant($"cost model (sparse needs a predicted {AutoMinimumGain}× gain)"); }
        return new SparseDecision(chosen, SparseFormat.Bands, m, k, n, nonZeros, dense, sparse, reason) { BandOutputOfSlot = lanes };
    }

    /// <summary>CSR entries once each output's list is padded to whole gathers.</summary>
    static long PaddedRowEntries(ConstantWeightMatrix b)
    {
        long entries = 0;
        for (int j = 0; j < b.N; j++)
        {
            int count = 0;
            for (int p = 0; p < b.K; p++) if (b[p, j] != 0) count++;
            entries += (count + 15) / 16 * 16;
        }
        return entries;
    }

    /// <summary>Blocks of <paramref name="height"/> consecutive outputs × one k holding at least one non-zero.</summary>
    public static long CountBlocks(ConstantWeightMatrix b, int height)
    {
        long blocks = 0;
        for (int p = 0; p < b.K; p++)
            for (int start = 0; start < b.N; start += height)
            {
                int end = Math.Min(b.N, start + height);
                for (int j = start; j < end; j++)
                    if (b[p, j] != 0) { blocks++; break; }
            }
        return blocks;
    }
}
