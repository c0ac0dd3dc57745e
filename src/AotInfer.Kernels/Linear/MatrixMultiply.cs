using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Linear;

/// <summary>The instruction-set tiers of the single-precision GEMM, lowest first.</summary>
public enum GemmTier
{
    /// <summary>Portable scalar code.</summary>
    Scalar,
    /// <summary>128-bit vectors (SSE, NEON).</summary>
    Vector128,
    /// <summary>256-bit vectors with fused multiply-add (AVX2 + FMA).</summary>
    Fma256,
    /// <summary>512-bit vectors (AVX-512F).</summary>
    Avx512,
}

/// <summary>
/// Single-precision matrix multiplication, the workhorse of Gemm, MatMul, Einsum and convolution (im2col).
/// All matrices are row-major with explicit leading dimensions (row strides).
/// </summary>
/// <remarks>
/// The instruction-set tier is chosen once from the CPU; <see cref="Tier"/> can lower it (tests force every tier).
/// Packing scratch comes from two [ThreadStatic] buffers allocated once per thread on first use (pinned, 64-byte
/// aligned), so no call allocates and concurrent model instances on different threads do not share scratch. With a
/// <see cref="Threading.WorkerPool"/> current (a model compiled for several threads), large products are split by
/// rows between its threads (<see cref="ParallelGemm"/>), with the same result.
/// </remarks>
public static unsafe class MatrixMultiply
{
    /// <summary>The best tier this CPU supports.</summary>
    public static GemmTier BestTier { get; } =
        Avx512F.IsSupported ? GemmTier.Avx512 :
        Fma.IsSupported && Avx2.IsSupported ? GemmTier.Fma256 :
        Vector128.IsHardwareAccelerated ? GemmTier.Vector128 : GemmTier.Scalar;

    // Declared after BestTier: static initialisers run in textual order.
    static GemmTier s_tier = BestTier;

    /// <summary>
    /// The tier in use (defaults to <see cref="BestTier"/>). Setting a higher tier than the CPU supports selects
    /// <see cref="BestTier"/>. Meant for tests and benchmarks; <see cref="PackedMatrix"/> keeps the tier it was packed for.
    /// </summary>
    public static GemmTier Tier
    {
        get => s_tier;
        set => s_tier = value > BestTier ? BestTier : value;
    }

    /// <summary>C[m×n] = A[m×k] · B[k×n] (overwriting C); <paramref name="lda"/>, <paramref name="ldb"/>, <paramref name="ldc"/> are row strides.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, int m, int n, int k) =>
        Multiply(a, lda, false, b, ldb, false, c, ldc, m, n, k);

    /// <summary>
    /// C[m×n] = op(A) · op(B) (overwriting C), where op(X) is X or its transpose. A is stored m×k (k×m when
    /// <paramref name="transposeA"/>) with row stride <paramref name="lda"/>; B is stored k×n (n×k when
    /// <paramref name="transposeB"/>) with row stride <paramref name="ldb"/>.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, bool transposeA, ReadOnlySpan<float> b, int ldb, bool transposeB,
        Span<float> c, int ldc, int m, int n, int k)
    {
        CheckOperands(a.Length, lda, transposeA, m, k, "a");
        CheckOperands(b.Length, ldb, transposeB, k, n, "b");
        CheckOperands(c.Length, ldc, false, m, n, "c");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            ClearRows(c, ldc, m, n);
            return;
        }
        if (ParallelGemm.TrySplit(a, lda, transposeA, b, ldb, transposeB, null, c, ldc, m, n, k)) return;
        int rsA = transposeA ? 1 : lda, csA = transposeA ? lda : 1;
        int rsB = transposeB ? 1 : ldb, csB = transposeB ? ldb : 1;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            float* scratchA = Scratch.A, scratchB = Scratch.B;
            switch (s_tier)
            {
                case GemmTier.Avx512: GemmDriver<GemmKernelAvx512>.Multiply(pa, rsA, csA, pb, rsB, csB, pc, ldc, m, n, k, scratchA, scratchB); break;
                case GemmTier.Fma256: GemmDriver<GemmKernelFma256>.Multiply(pa, rsA, csA, pb, rsB, csB, pc, ldc, m, n, k, scratchA, scratchB); break;
                case GemmTier.Vector128: GemmDriver<GemmKernelVector128>.Multiply(pa, rsA, csA, pb, rsB, csB, pc, ldc, m, n, k, scratchA, scratchB); break;
                default: GemmDriver<GemmKernelScalar>.Multiply(pa, rsA, csA, pb, rsB, csB, pc, ldc, m, n, k, scratchA, scratchB); break;
            }
        }
    }

    /// <summary>C[m×n] = A[m×k] · B (overwriting C) with B pre-packed (constant weights); M = 1 takes the GEMV path.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, PackedMatrix b, Span<float> c, int ldc, int m) =>
        Multiply(a, lda, false, b, c, ldc, m);

    /// <summary>C[m×n] = op(A) · B (overwriting C) with B pre-packed; A is m×k (k×m when <paramref name="transposeA"/>) with row stride <paramref name="lda"/>.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, bool transposeA, PackedMatrix b, Span<float> c, int ldc, int m)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.Columns, k = b.Rows;
        CheckOperands(a.Length, lda, transposeA, m, k, "a");
        CheckOperands(c.Length, ldc, false, m, n, "c");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            ClearRows(c, ldc, m, n);
            return;
        }
        if (ParallelGemm.TrySplit(a, lda, transposeA, default, 0, false, b, c, ldc, m, n, k)) return;
        int rsA = transposeA ? 1 : lda, csA = transposeA ? lda : 1;
        fixed (float* pa = a)
        fixed (float* pc = c)
        {
            float* pb = b.Pointer, scratchA = Scratch.A;
            switch (b.Tier)
            {
                case GemmTier.Avx512: GemmDriver<GemmKernelAvx512>.MultiplyPacked(pa, rsA, csA, pb, b.PaddedColumns, pc, ldc, m, n, k, scratchA); break;
                case GemmTier.Fma256: GemmDriver<GemmKernelFma256>.MultiplyPacked(pa, rsA, csA, pb, b.PaddedColumns, pc, ldc, m, n, k, scratchA); break;
                case GemmTier.Vector128: GemmDriver<GemmKernelVector128>.MultiplyPacked(pa, rsA, csA, pb, b.PaddedColumns, pc, ldc, m, n, k, scratchA); break;
                default: GemmDriver<GemmKernelScalar>.MultiplyPacked(pa, rsA, csA, pb, b.PaddedColumns, pc, ldc, m, n, k, scratchA); break;
            }
        }
    }

    /// <summary>
    /// A batch of products C_b[m×n] = op(A_b) · op(B_b), where A_b starts at <paramref name="aOffsets"/>[b], B_b at
    /// <paramref name="bOffsets"/>[b] and C_b at b·m·n (broadcast batches repeat an offset).
    /// </summary>
    public static void MultiplyBatched(ReadOnlySpan<float> a, int[] aOffsets, int lda, bool transposeA, ReadOnlySpan<float> b, int[] bOffsets, int ldb, bool transposeB,
        Span<float> c, int m, int n, int k)
    {
        ArgumentNullException.ThrowIfNull(aOffsets);
        ArgumentNullException.ThrowIfNull(bOffsets);
        if (aOffsets.Length != bOffsets.Length) throw new ArgumentException("aOffsets and bOffsets must have one entry per batch", nameof(bOffsets));
        int size = m * n;
        for (int batch = 0; batch < aOffsets.Length; batch++)
            Multiply(a.Slice(aOffsets[batch]), lda, transposeA, b.Slice(bOffsets[batch]), ldb, transposeB, c.Slice(batch * size, size), n, m, n, k);
    }

    /// <summary>
    /// The scalar reference: C = op(A) · op(B) accumulated in double. Slow and obviously right; the fast tiers are
    /// tested against it.
    /// </summary>
    public static void Reference(ReadOnlySpan<float> a, int lda, bool transposeA, ReadOnlySpan<float> b, int ldb, bool transposeB,
        Span<float> c, int ldc, int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                c[i * ldc + j] = (float)sum;
            }
        }
    }

    static void ClearRows(Span<float> c, int ldc, int m, int n)
    {
        for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
    }

    /// <summary>Throws unless a span of <paramref name="length"/> holds a rows×columns matrix (stored transposed when asked) with row stride <paramref name="ld"/>.</summary>
    internal static void CheckOperands(int length, int ld, bool transposed, int rows, int columns, string name)
    {
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(name, "matrix dimensions must not be negative");
        if (rows == 0 || columns == 0) return;
        int storedRows = transposed ? columns : rows, storedColumns = transposed ? rows : columns;
        if (ld < storedColumns) throw new ArgumentOutOfRangeException(name, $"row stride {ld} is smaller than the {storedColumns} stored columns");
        if ((long)(storedRows - 1) * ld + storedColumns > length)
            throw new ArgumentException($"'{name}' has {length} elements, too few for {storedRows}×{storedColumns} with row stride {ld}", name);
    }

    /// <summary>Per-thread packing buffers, allocated once per thread on first use and pinned for life.</summary>
    internal static class Scratch
    {
        /// <summary>The deepest depth block (KC) of any tier: B scratch holds MaxDepthBlock × ColumnBlock floats.</summary>
        internal const int MaxDepthBlock = 256;
        const int ASize = GemmDriver<GemmKernelScalar>.RowBlock * MaxDepthBlock;
        // A spare sliver width at the end: the convolution gather copies whole slivers (Convolution/Window2D.cs).
        const int BSize = MaxDepthBlock * GemmDriver<GemmKernelScalar>.ColumnBlock + 64;

        [ThreadStatic] static float[]? t_a;
        [ThreadStatic] static float[]? t_b;

        public static float* A => Aligned(t_a ??= Allocate(ASize));
        public static float* B => Aligned(t_b ??= Allocate(BSize));

        static float[] Allocate(int count) => GC.AllocateUninitializedArray<float>(count + 16, pinned: true);

        static float* Aligned(float[] pinned)
        {
            nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
            return (float*)((address + 63) & ~(nuint)63);
        }
    }
}
