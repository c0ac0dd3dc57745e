using System;
using AotInfer.Kernels.Threading;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// Splits one SGEMM between the threads of the current <see cref="WorkerPool"/> by rows of C: each part is an ordinary
/// <see cref="MatrixMultiply"/> call on its rows (packing its own operands in its thread's scratch). Row ranges start
/// at multiples of <see cref="RowGranule"/> and hold at least two rows, so every row goes through the same micro-kernel
/// arithmetic as single-threaded and the result is bit for bit the same.
/// </summary>
internal static unsafe class ParallelGemm
{
    /// <summary>Multiple of every tier's micro-tile height (6 and 4): parts never share a tile.</summary>
    const int RowGranule = 12;

    /// <summary>Multiply-adds below which waking workers costs more than it saves.</summary>
    const long Threshold = 128 * 1024;

    /// <summary>Runs the product in parts when a pool is current and the product is big enough; false to run it inline.</summary>
    public static bool TrySplit(ReadOnlySpan<float> a, int lda, bool transposeA, ReadOnlySpan<float> b, int ldb, bool transposeB, PackedMatrix? packed,
        Span<float> c, int ldc, int m, int n, int k)
    {
        if (WorkerPool.Current is not { } pool || pool.Threads < 2 || (long)m * n * k < Threshold) return false;
        // At most one part per whole granule, so the last part never ends up with a single row (the GEMV path).
        int parts = Math.Min(pool.Threads, m / RowGranule);
        if (parts < 2) return false;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var job = new RowsJob(pa, a.Length, lda, transposeA, pb, b.Length, ldb, transposeB, packed, pc, c.Length, ldc, m, n, k);
            pool.Run(ref job, parts);
        }
        return true;
    }

    readonly struct RowsJob(float* a, int aLength, int lda, bool transposeA, float* b, int bLength, int ldb, bool transposeB, PackedMatrix? packed,
        float* c, int cLength, int ldc, int m, int n, int k) : IParallelWork
    {
        public void Execute(int part, int parts)
        {
            int granules = (m + RowGranule - 1) / RowGranule;
            int first = Math.Min(m, granules * part / parts * RowGranule), end = Math.Min(m, granules * (part + 1) / parts * RowGranule);
            if (first >= end) return;
            long aOffset = transposeA ? first : (long)first * lda, cOffset = (long)first * ldc;
            var aPart = new ReadOnlySpan<float>(a + aOffset, (int)(aLength - aOffset));
            var cPart = new Span<float>(c + cOffset, (int)(cLength - cOffset));
            // This part runs single-threaded (the calling thread would otherwise split it again).
            var previous = WorkerPool.Enter(null);
            try
            {
                if (packed is not null) MatrixMultiply.Multiply(aPart, lda, transposeA, packed, cPart, ldc, end - first);
                else MatrixMultiply.Multiply(aPart, lda, transposeA, new ReadOnlySpan<float>(b, bLength), ldb, transposeB, cPart, ldc, end - first, n, k);
            }
            finally
            {
                WorkerPool.Exit(previous);
            }
        }
    }
}
