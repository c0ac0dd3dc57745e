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
            var job = new Job(px, weights, pbias, bias.Length, activation, py, tier);
            int blocks = BlockCount(n);
            if (Threading.WorkerPool.Current is { } pool && (long)k * n >= ParallelThreshold && blocks > 1)
                pool.Run(ref job, Math.Min(pool.Threads, blocks));
            else
                job.Execute(0, 1);
        }
    }

    /// <summary>Multiply-adds below which splitting a layer between threads costs more than it saves.</summary>
    public const long ParallelThreshold = 32 * 1024;

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
    readonly struct Job(float* x, GemvWeights weights, float* bias, int biasLength, FusedActivation activation, float* y, GemmTier tier)
        : Threading.IParallelWork
    {
        public void Execute(int part, int parts)
        {
            int n = weights.Columns, k = weights.Rows, blocks = BlockCount(n);
            int first = BlockStart(n, (int)((long)blocks * part / parts)), end = BlockStart(n, (int)((long)blocks * (part + 1) / parts));
            if (first >= end) return;
            Columns(x, weights, y, first, end, tier);
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

    /// <summary>The block starting at column <paramref name="j"/>: wide before <paramref name="wideEnd"/>, narrow after.</summary>
    static void Block(float* x, GemvWeights weights, float* y, int j, int end, int wideEnd, GemmTier tier, float* tile)
    {
        int k = weights.Rows;
        float* w = weights.Pointer + GemvWeights.BlockOffset(k, j);
        if (j < wideEnd)
        {
            switch (tier)
            {
                case GemmTier.Avx512: Wide512(x, w, k, y + j); break;
                case GemmTier.Fma256: Wide256(x, w, k, y + j); break;
                default: Scalar(x, w, k, GemvWeights.WideBlock, y + j); break;
            }
            return;
        }
        int width = Math.Min(GemvWeights.NarrowBlock, end - j);
        // The last panel is zero padded past n: compute all 16 into a tile and copy the valid ones.
        float* target = width == GemvWeights.NarrowBlock ? y + j : tile;
        switch (tier)
        {
            case GemmTier.Avx512: Narrow512(x, w, k, target); break;
            case GemmTier.Fma256: Narrow256(x, w, k, target); break;
            default: Scalar(x, w, k, GemvWeights.NarrowBlock, target); break;
        }
        if (target == tile) new ReadOnlySpan<float>(tile, width).CopyTo(new Span<float>(y + j, width));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary>64 columns: even and odd rows in separate accumulators (eight chains hide the FMA latency).</summary>
    static void Wide512(float* x, float* w, int k, float* y)
    {
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, o0 = default, o1 = default, o2 = default, o3 = default;
        int p = 0;
        for (; p + 1 < k; p += 2)
        {
            var xe = Vector512.Create(x[p]);
            e0 = Fma(xe, Vector512.Load(w), e0);
            e1 = Fma(xe, Vector512.Load(w + 16), e1);
            e2 = Fma(xe, Vector512.Load(w + 32), e2);
            e3 = Fma(xe, Vector512.Load(w + 48), e3);
            var xo = Vector512.Create(x[p + 1]);
            o0 = Fma(xo, Vector512.Load(w + 64), o0);
            o1 = Fma(xo, Vector512.Load(w + 80), o1);
            o2 = Fma(xo, Vector512.Load(w + 96), o2);
            o3 = Fma(xo, Vector512.Load(w + 112), o3);
            w += 128;
        }
        if (p < k)
        {
            var xe = Vector512.Create(x[p]);
            e0 = Fma(xe, Vector512.Load(w), e0);
            e1 = Fma(xe, Vector512.Load(w + 16), e1);
            e2 = Fma(xe, Vector512.Load(w + 32), e2);
            e3 = Fma(xe, Vector512.Load(w + 48), e3);
        }
        (e0 + o0).Store(y);
        (e1 + o1).Store(y + 16);
        (e2 + o2).Store(y + 32);
        (e3 + o3).Store(y + 48);
    }

    /// <summary>16 columns: four depth chains.</summary>
    static void Narrow512(float* x, float* w, int k, float* y)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 3 < k; p += 4)
        {
            s0 = Fma(Vector512.Create(x[p]), Vector512.Load(w), s0);
            s1 = Fma(Vector512.Create(x[p + 1]), Vector512.Load(w + 16), s1);
            s2 = Fma(Vector512.Create(x[p + 2]), Vector512.Load(w + 32), s2);
            s3 = Fma(Vector512.Create(x[p + 3]), Vector512.Load(w + 48), s3);
            w += 64;
        }
        for (; p < k; p++, w += 16) s0 = Fma(Vector512.Create(x[p]), Vector512.Load(w), s0);
        ((s0 + s1) + (s2 + s3)).Store(y);
    }

    /// <summary>64 columns as eight 256-bit accumulators (AVX2 has 16 registers: one chain).</summary>
    static void Wide256(float* x, float* w, int k, float* y)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int p = 0; p < k; p++, w += 64)
        {
            var xp = Vector256.Create(x[p]);
            s0 = Fma(xp, Vector256.Load(w), s0);
            s1 = Fma(xp, Vector256.Load(w + 8), s1);
            s2 = Fma(xp, Vector256.Load(w + 16), s2);
            s3 = Fma(xp, Vector256.Load(w + 24), s3);
            s4 = Fma(xp, Vector256.Load(w + 32), s4);
            s5 = Fma(xp, Vector256.Load(w + 40), s5);
            s6 = Fma(xp, Vector256.Load(w + 48), s6);
            s7 = Fma(xp, Vector256.Load(w + 56), s7);
        }
        s0.Store(y); s1.Store(y + 8); s2.Store(y + 16); s3.Store(y + 24);
        s4.Store(y + 32); s5.Store(y + 40); s6.Store(y + 48); s7.Store(y + 56);
    }

    /// <summary>16 columns as two 256-bit halves, two depth chains each.</summary>
    static void Narrow256(float* x, float* w, int k, float* y)
    {
        Vector256<float> e0 = default, e1 = default, o0 = default, o1 = default;
        int p = 0;
        for (; p + 1 < k; p += 2, w += 32)
        {
            var xe = Vector256.Create(x[p]);
            e0 = Fma(xe, Vector256.Load(w), e0);
            e1 = Fma(xe, Vector256.Load(w + 8), e1);
            var xo = Vector256.Create(x[p + 1]);
            o0 = Fma(xo, Vector256.Load(w + 16), o0);
            o1 = Fma(xo, Vector256.Load(w + 24), o1);
        }
        if (p < k)
        {
            var xe = Vector256.Create(x[p]);
            e0 = Fma(xe, Vector256.Load(w), e0);
            e1 = Fma(xe, Vector256.Load(w + 8), e1);
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
