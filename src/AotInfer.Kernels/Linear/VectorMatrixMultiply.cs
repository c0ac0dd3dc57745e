using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// The fully-connected layer at batch 1: y[n] = act(x[k] · B[k×n] + bias[n]) with B constant and laid out by the
/// compiler (<see cref="GemvWeights"/>). One pass over the weights: each block's sums stay in registers for the whole
/// depth and are written once, then bias and activation are applied while that output row is in L1. No packing and no
/// scratch per call: the layer is bound by how fast the weights stream in, so every byte is read exactly once.
/// </summary>
/// <remarks>
/// The instruction set follows <see cref="MatrixMultiply.Tier"/>: AVX-512 (4 vectors × 2 depth chains), 256-bit
/// vectors (8 vectors), or the scalar reference. Blocks are independent, so with a <see cref="Threading.WorkerPool"/>
/// in effect the columns are split between threads at block boundaries and the result is bit for bit the same.
/// When enough inputs are zero (after a ReLU, or an image's background) the vector tiers read only the rows of the
/// non-zero ones (<see cref="ZeroInputSkipping"/>).
/// </remarks>
public static unsafe class VectorMatrixMultiply
{
    /// <summary>y = act(x · B + bias); <paramref name="bias"/> is empty or holds one value per column.</summary>
    public static void Multiply(ReadOnlySpan<float> x, GemvWeights weights, ReadOnlySpan<float> bias, FusedActivation activation, Span<float> y) =>
        Multiply(x, weights, bias, activation, y, MatrixMultiply.Tier);

    /// <summary>The same on an explicit instruction-set tier (lowered to what the CPU supports), for tests.</summary>
    public static void Multiply(ReadOnlySpan<float> x, GemvWeights weights, ReadOnlySpan<float> bias, FusedActivation activation, Span<float> y, GemmTier tier)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int k = weights.Rows, n = weights.Columns;
        if (x.Length != k) throw new ArgumentException($"x has {x.Length} elements but the weights have {k} rows", nameof(x));
        if (y.Length != n) throw new ArgumentException($"y has {y.Length} elements but the weights have {n} columns", nameof(y));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"bias has {bias.Length} elements but the weights have {n} columns", nameof(bias));
        if (tier > MatrixMultiply.BestTier) tier = MatrixMultiply.BestTier;
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (float* pbias = bias)
        {
            bool skipZeros = tier >= GemmTier.Fma256 && (long)k * n >= MinSkippingWeights && weights.AllFinite &&
                             ZeroInputSkipping.CountNonZero(px, k) * 100L <= (long)k * MaxKeptPercent;
            var job = new Job(px, weights, pbias, bias.Length, activation, py, tier, skipZeros);
            int blocks = BlockCount(n);
            if (Threading.WorkerPool.Current is { } pool && (long)k * n >= ParallelThreshold && blocks > 1)
                pool.Run(ref job, Math.Min(pool.Threads, blocks));
            else
                job.Execute(0, 1);
        }
    }

    /// <summary>Multiply-adds below which splitting a layer between threads costs more than it saves.</summary>
    public const long ParallelThreshold = 32 * 1024;

    /// <summary>
    /// Weights (floats) below which zero inputs are not skipped: such a layer's 32 KB stay in L1, where reading a row
    /// costs less than gathering the inputs (fashion_lenet300's 100×10 layer measured 0.08 → 0.2 µs skipping).
    /// </summary>
    public const long MinSkippingWeights = 8192;

    /// <summary>
    /// Zero rows are skipped when at most this share (%) of the inputs is non-zero. Reading rows with gaps defeats the
    /// hardware prefetcher, so skipping a few rows costs more than it saves; measured per call (thread-local loop,
    /// µs dense → skipping, random zero positions): 784×300 4.3 → 5.7 at 80 % non-zero, 4.9 at 65 %, 3.5 at 60 %, 2.5 at
    /// 50 %, 1.9 at 34 % (Fashion-MNIST's first test image); 1024×1024 34.9 → 38.6 at 80 %, 34.9 at 60 %, 22.2 at 50 %;
    /// 11616×32 14.7 → 16.2 at 80 %, 11.4 at 60 %, 9.4 at 50 %. Software prefetches of the gathered rows made it slower.
    /// </summary>
    public const int MaxKeptPercent = 60;

    /// <summary>Wide blocks plus narrow panels.</summary>
    static int BlockCount(int n)
    {
        int wide = GemvWeights.WideColumnsOf(n);
        return wide / GemvWeights.WideBlock + (n - wide + GemvWeights.NarrowBlock - 1) / GemvWeights.NarrowBlock;
    }

    /// <summary>Column where block <paramref name="block"/> starts (n past the last block).</summary>
    static int BlockStart(int n, int block)
    {
        int wideBlocks = n / GemvWeights.WideBlock;
        int start = block <= wideBlocks ? block * GemvWeights.WideBlock : wideBlocks * GemvWeights.WideBlock + (block - wideBlocks) * GemvWeights.NarrowBlock;
        return Math.Min(start, n);
    }

    /// <summary>One call's operands; part <c>p</c> of <c>parts</c> computes a contiguous range of whole blocks.</summary>
    readonly struct Job(float* x, GemvWeights weights, float* bias, int biasLength, FusedActivation activation, float* y, GemmTier tier, bool skipZeros)
        : Threading.IParallelWork
    {
        public void Execute(int part, int parts)
        {
            int n = weights.Columns, k = weights.Rows, blocks = BlockCount(n);
            int first = BlockStart(n, (int)((long)blocks * part / parts)), end = BlockStart(n, (int)((long)blocks * (part + 1) / parts));
            if (first >= end) return;
            if (skipZeros) SkippingColumns(x, weights, y, first, end, tier);
            else Columns(x, weights, y, first, end, tier);
            var row = new Span<float>(y + first, end - first);
            var rowBias = biasLength == 0 ? ReadOnlySpan<float>.Empty : new ReadOnlySpan<float>(bias + first, end - first);
            activation.ApplyRows(row, 1, row.Length, rowBias, 0, 1);
        }
    }

    /// <summary>
    /// y[first..end) = x · B[:, first..end) for a block-aligned range. Every other call walks the blocks backwards:
    /// a layer's weights slightly larger than L2 are then read starting with the blocks the previous call touched last
    /// (still cached) instead of the ones it evicted first, which under LRU would miss on every line. Blocks are
    /// independent, so the order changes no result.
    /// </summary>
    static void Columns(float* x, GemvWeights weights, float* y, int first, int end, GemmTier tier)
    {
        int wideEnd = Math.Min(end, weights.WideColumns);
        float* tile = stackalloc float[GemvWeights.NarrowBlock];
        if (!weights.NextWalkIsBackwards())
        {
            for (int j = first; j < end; j += j < wideEnd ? GemvWeights.WideBlock : GemvWeights.NarrowBlock)
                Block(x, weights, y, j, end, wideEnd, tier, tile);
            return;
        }
        int narrowStart = Math.Max(first, wideEnd);
        if (end > narrowStart)
            for (int j = narrowStart + (end - narrowStart - 1) / GemvWeights.NarrowBlock * GemvWeights.NarrowBlock; j >= narrowStart; j -= GemvWeights.NarrowBlock)
                Block(x, weights, y, j, end, wideEnd, tier, tile);
        for (int j = wideEnd - GemvWeights.WideBlock; j >= first; j -= GemvWeights.WideBlock)
            Block(x, weights, y, j, end, wideEnd, tier, tile);
    }

    /// <summary>
    /// <see cref="Columns"/> reading only the rows of non-zero inputs (see <see cref="ZeroInputSkipping"/>): the inputs
    /// are gathered a run of <see cref="ZeroInputSkipping.ChunkRows"/> at a time, each run once, and every block adds
    /// that run's rows to its sums. The blocks are walked in alternating directions within each run, while the runs
    /// always go forwards, so each block sums its rows in one order whichever way it is walked (the same bits).
    /// </summary>
    [SkipLocalsInit]
    static void SkippingColumns(float* x, GemvWeights weights, float* y, int first, int end, GemmTier tier)
    {
        const int Chunk = ZeroInputSkipping.ChunkRows;
        int k = weights.Rows, wideEnd = Math.Min(end, weights.WideColumns);
        // Not cleared (SkipLocalsInit): Gather writes every slot it returns.
        int* rows = stackalloc int[Math.Min(k, Chunk) + 16];
        float* values = stackalloc float[Math.Min(k, Chunk) + 16];
        float* tile = stackalloc float[GemvWeights.NarrowBlock];
        int wideBlocks = wideEnd > first ? (wideEnd - first) / GemvWeights.WideBlock : 0, narrowStart = Math.Max(first, wideEnd);
        int blocks = wideBlocks + (end > narrowStart ? (end - narrowStart + GemvWeights.NarrowBlock - 1) / GemvWeights.NarrowBlock : 0);
        bool backwards = weights.NextWalkIsBackwards();
        for (int start = 0; start < k; start += Chunk)
        {
            int kept = ZeroInputSkipping.Gather(x + start, Math.Min(Chunk, k - start), rows, values);
            for (int b = 0; b < blocks; b++)
            {
                int index = backwards ? blocks - 1 - b : b;
                int j = index < wideBlocks ? first + index * GemvWeights.WideBlock : narrowStart + (index - wideBlocks) * GemvWeights.NarrowBlock;
                int width = index < wideBlocks ? GemvWeights.WideBlock : GemvWeights.NarrowBlock;
                // The last panel is zero padded past n: its sums go to a tile, the valid ones copied after the last run.
                float* target = j + width <= end ? y + j : tile;
                float* w = weights.Pointer + GemvWeights.BlockOffset(k, j) + (long)start * width;
                SkippingBlock(rows, values, kept, w, target, width, start > 0, tier);
            }
        }
        if (end - narrowStart > 0 && (end - narrowStart) % GemvWeights.NarrowBlock != 0)
        {
            int last = end - (end - narrowStart) % GemvWeights.NarrowBlock;
            new ReadOnlySpan<float>(tile, end - last).CopyTo(new Span<float>(y + last, end - last));
        }
    }

    /// <summary>One block's sums over the gathered rows, on a vector tier.</summary>
    static void SkippingBlock(int* rows, float* values, int kept, float* w, float* y, int width, bool accumulate, GemmTier tier)
    {
        var gathered = new GatheredRows(rows, values, kept);
        bool wide = width == GemvWeights.WideBlock;
        if (tier == GemmTier.Avx512)
        {
            if (wide) Wide512(gathered, w, y, accumulate);
            else Narrow512(gathered, w, y, accumulate);
        }
        else
        {
            if (wide) Wide256(gathered, w, y, accumulate);
            else Narrow256(gathered, w, y, accumulate);
        }
    }

    /// <summary>The block starting at column <paramref name="j"/>: wide before <paramref name="wideEnd"/>, narrow after.</summary>
    static void Block(float* x, GemvWeights weights, float* y, int j, int end, int wideEnd, GemmTier tier, float* tile)
    {
        int k = weights.Rows;
        float* w = weights.Pointer + GemvWeights.BlockOffset(k, j);
        if (j < wideEnd)
        {
            switch (tier)
            {
                case GemmTier.Avx512: Wide512(new DenseRows(x, k), w, y + j, false); break;
                case GemmTier.Fma256: Wide256(new DenseRows(x, k), w, y + j, false); break;
                default: Scalar(x, w, k, GemvWeights.WideBlock, y + j); break;
            }
            return;
        }
        int width = Math.Min(GemvWeights.NarrowBlock, end - j);
        // The last panel is zero padded past n: compute all 16 into a tile and copy the valid ones.
        float* target = width == GemvWeights.NarrowBlock ? y + j : tile;
        switch (tier)
        {
            case GemmTier.Avx512: Narrow512(new DenseRows(x, k), w, target, false); break;
            case GemmTier.Fma256: Narrow256(new DenseRows(x, k), w, target, false); break;
            default: Scalar(x, w, k, GemvWeights.NarrowBlock, target); break;
        }
        if (target == tile) new ReadOnlySpan<float>(tile, width).CopyTo(new Span<float>(y + j, width));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary>
    /// y[0..64) (+)= Σ_q rows.Value(q)·w[rows.Row(q)·64 ..+64): 64 columns, even and odd rows in separate accumulators
    /// (eight chains hide the FMA latency); adds to y when <paramref name="accumulate"/> (a later run of gathered rows).
    /// </summary>
    static void Wide512<TRows>(TRows rows, float* w, float* y, bool accumulate) where TRows : struct, IGemvRows
    {
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, o0 = default, o1 = default, o2 = default, o3 = default;
        if (accumulate)
        {
            e0 = Vector512.Load(y);
            e1 = Vector512.Load(y + 16);
            e2 = Vector512.Load(y + 32);
            e3 = Vector512.Load(y + 48);
        }
        int q = 0, count = rows.Count;
        for (; q + 1 < count; q += 2)
        {
            float* re = w + (rows.Row(q) << 6), ro = w + (rows.Row(q + 1) << 6);
            var xe = Vector512.Create(rows.Value(q));
            e0 = Fma(xe, Vector512.Load(re), e0);
            e1 = Fma(xe, Vector512.Load(re + 16), e1);
            e2 = Fma(xe, Vector512.Load(re + 32), e2);
            e3 = Fma(xe, Vector512.Load(re + 48), e3);
            var xo = Vector512.Create(rows.Value(q + 1));
            o0 = Fma(xo, Vector512.Load(ro), o0);
            o1 = Fma(xo, Vector512.Load(ro + 16), o1);
            o2 = Fma(xo, Vector512.Load(ro + 32), o2);
            o3 = Fma(xo, Vector512.Load(ro + 48), o3);
        }
        if (q < count)
        {
            float* re = w + (rows.Row(q) << 6);
            var xe = Vector512.Create(rows.Value(q));
            e0 = Fma(xe, Vector512.Load(re), e0);
            e1 = Fma(xe, Vector512.Load(re + 16), e1);
            e2 = Fma(xe, Vector512.Load(re + 32), e2);
            e3 = Fma(xe, Vector512.Load(re + 48), e3);
        }
        (e0 + o0).Store(y);
        (e1 + o1).Store(y + 16);
        (e2 + o2).Store(y + 32);
        (e3 + o3).Store(y + 48);
    }

    /// <summary><see cref="Wide512{TRows}"/> for a 16-column panel: four chains.</summary>
    static void Narrow512<TRows>(TRows rows, float* w, float* y, bool accumulate) where TRows : struct, IGemvRows
    {
        Vector512<float> s0 = accumulate ? Vector512.Load(y) : default, s1 = default, s2 = default, s3 = default;
        int q = 0, count = rows.Count;
        for (; q + 3 < count; q += 4)
        {
            s0 = Fma(Vector512.Create(rows.Value(q)), Vector512.Load(w + (rows.Row(q) << 4)), s0);
            s1 = Fma(Vector512.Create(rows.Value(q + 1)), Vector512.Load(w + (rows.Row(q + 1) << 4)), s1);
            s2 = Fma(Vector512.Create(rows.Value(q + 2)), Vector512.Load(w + (rows.Row(q + 2) << 4)), s2);
            s3 = Fma(Vector512.Create(rows.Value(q + 3)), Vector512.Load(w + (rows.Row(q + 3) << 4)), s3);
        }
        for (; q < count; q++) s0 = Fma(Vector512.Create(rows.Value(q)), Vector512.Load(w + (rows.Row(q) << 4)), s0);
        ((s0 + s1) + (s2 + s3)).Store(y);
    }

    /// <summary><see cref="Wide512{TRows}"/> as eight 256-bit accumulators (AVX2 has 16 registers: one chain).</summary>
    static void Wide256<TRows>(TRows rows, float* w, float* y, bool accumulate) where TRows : struct, IGemvRows
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        if (accumulate)
        {
            s0 = Vector256.Load(y); s1 = Vector256.Load(y + 8); s2 = Vector256.Load(y + 16); s3 = Vector256.Load(y + 24);
            s4 = Vector256.Load(y + 32); s5 = Vector256.Load(y + 40); s6 = Vector256.Load(y + 48); s7 = Vector256.Load(y + 56);
        }
        for (int q = 0, count = rows.Count; q < count; q++)
        {
            float* r = w + (rows.Row(q) << 6);
            var xq = Vector256.Create(rows.Value(q));
            s0 = Fma(xq, Vector256.Load(r), s0);
            s1 = Fma(xq, Vector256.Load(r + 8), s1);
            s2 = Fma(xq, Vector256.Load(r + 16), s2);
            s3 = Fma(xq, Vector256.Load(r + 24), s3);
            s4 = Fma(xq, Vector256.Load(r + 32), s4);
            s5 = Fma(xq, Vector256.Load(r + 40), s5);
            s6 = Fma(xq, Vector256.Load(r + 48), s6);
            s7 = Fma(xq, Vector256.Load(r + 56), s7);
        }
        s0.Store(y); s1.Store(y + 8); s2.Store(y + 16); s3.Store(y + 24);
        s4.Store(y + 32); s5.Store(y + 40); s6.Store(y + 48); s7.Store(y + 56);
    }

    /// <summary><see cref="Narrow512{TRows}"/> as two 256-bit halves, two chains each.</summary>
    static void Narrow256<TRows>(TRows rows, float* w, float* y, bool accumulate) where TRows : struct, IGemvRows
    {
        Vector256<float> e0 = default, e1 = default, o0 = default, o1 = default;
        if (accumulate)
        {
            e0 = Vector256.Load(y);
            e1 = Vector256.Load(y + 8);
        }
        int q = 0, count = rows.Count;
        for (; q + 1 < count; q += 2)
        {
            float* re = w + (rows.Row(q) << 4), ro = w + (rows.Row(q + 1) << 4);
            var xe = Vector256.Create(rows.Value(q));
            e0 = Fma(xe, Vector256.Load(re), e0);
            e1 = Fma(xe, Vector256.Load(re + 8), e1);
            var xo = Vector256.Create(rows.Value(q + 1));
            o0 = Fma(xo, Vector256.Load(ro), o0);
            o1 = Fma(xo, Vector256.Load(ro + 8), o1);
        }
        if (q < count)
        {
            float* re = w + (rows.Row(q) << 4);
            var xe = Vector256.Create(rows.Value(q));
            e0 = Fma(xe, Vector256.Load(re), e0);
            e1 = Fma(xe, Vector256.Load(re + 8), e1);
        }
        (e0 + o0).Store(y);
        (e1 + o1).Store(y + 8);
    }

    /// <summary>The scalar reference over one block of <paramref name="width"/> columns.</summary>
    static void Scalar(float* x, float* w, int k, int width, float* y)
    {
        for (int j = 0; j < width; j++)
        {
            float sum = 0;
            for (int p = 0; p < k; p++) sum += x[p] * w[(long)p * width + j];
            y[j] = sum;
        }
    }
}
