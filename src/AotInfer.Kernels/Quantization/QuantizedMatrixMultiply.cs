using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>The instruction-set tiers of the int8 GEMM, lowest first.</summary>
public enum QuantizedGemmTier
{
    /// <summary>Portable scalar reference.</summary>
    Scalar,
    /// <summary>128-bit <c>pmaddwd</c> (SSE2).</summary>
    Vector128,
    /// <summary>256-bit <c>vpmaddwd</c> (AVX2).</summary>
    Avx2,
    /// <summary>512-bit <c>vpmaddwd</c> (AVX-512BW).</summary>
    Avx512BW,
}

/// <summary>
/// Integer matrix product C = (A − za)·(B − zb) with int32 results, for 8-bit (or 16-bit) operands of any signedness
/// (u8×s8, u8×u8, s8×s8...), per-row A zero points and per-column B zero points.
/// </summary>
/// <remarks>
/// Both operands are widened to int16 with their zero points already subtracted (values in [−255, 255]), so the
/// zero-point correction costs nothing in the inner loop and <c>vpmaddwd</c> (int16 pairs → int32) is exact: two
/// products of at most 255·255 never overflow, unlike the saturating u8×s8 <c>vpmaddubsw</c>.
/// A is packed row by row into int32 words each holding the int16 pair (a[m,2p], a[m,2p+1]), broadcast in the inner
/// loop; B is packed into panels of <see cref="PanelColumns"/> columns where each k pair stores, per column, the pair
/// (b[2p,n], b[2p+1,n]) — so one <c>vpmaddwd</c> of a broadcast A pair and a panel row adds two k steps to 8 or 16
/// columns. A constant operand is packed once at type initialisation (<see cref="PackA{T}(T[], T[], int, int)"/>,
/// <see cref="PackB{T}(T[], T[], int, int, bool)"/>). The tier is chosen once from the CPU; <see cref="Tier"/> can lower
/// it for tests. Packed layouts do not depend on the tier.
/// </remarks>
public static class QuantizedMatrixMultiply
{
    /// <summary>Columns per packed B panel.</summary>
    public const int PanelColumns = 16;

    /// <summary>The best tier this CPU supports.</summary>
    public static QuantizedGemmTier BestTier { get; } =
        Avx512BW.IsSupported ? QuantizedGemmTier.Avx512BW :
        Avx2.IsSupported ? QuantizedGemmTier.Avx2 :
        Sse2.IsSupported ? QuantizedGemmTier.Vector128 : QuantizedGemmTier.Scalar;

    // Per thread: packing and multiplying read the tier separately, so a tier forced by one thread (a test, a
    // benchmark) must never change the layout another thread's model is in the middle of using.
    [ThreadStatic] static QuantizedGemmTier? t_tier;

    /// <summary>
    /// The tier in use on the calling thread (defaults to <see cref="BestTier"/>; a higher value than the CPU supports
    /// selects it). For tests and benchmarks; setting it affects only the calling thread.
    /// </summary>
    public static QuantizedGemmTier Tier
    {
        get => t_tier ?? BestTier;
        set => t_tier = value > BestTier ? BestTier : value;
    }

    /// <summary>Number of k pairs (K rounded up to even, halved).</summary>
    public static int Pairs(int k) => (k + 1) / 2;

    /// <summary>Length in int32 words of packed A.</summary>
    public static int PackedALength(int m, int k) => m * Pairs(k);

    /// <summary>Length in int16 elements of packed B.</summary>
    public static int PackedBLength(int k, int n) => (n + PanelColumns - 1) / PanelColumns * PanelColumns * Pairs(k) * 2;

    /// <summary>
    /// Packs A (M×K, row stride <paramref name="lda"/>) minus its zero point (empty: 0; one value: per tensor;
    /// M values: per row) into <paramref name="packed"/> (<see cref="PackedALength"/> words).
    /// </summary>
    public static void PackA<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> zeroPoint, int m, int k, Span<int> packed) where T : IBinaryInteger<T>
    {
        int pairs = Pairs(k);
        for (int row = 0; row < m; row++)
        {
            int zero = zeroPoint.IsEmpty ? 0 : int.CreateTruncating(zeroPoint[zeroPoint.Length == 1 ? 0 : row]);
            ReadOnlySpan<T> source = a.Slice(row * lda, k);
            Span<int> destination = packed.Slice(row * pairs, pairs);
            for (int p = 0; p < k / 2; p++)
            {
                int low = int.CreateTruncating(source[2 * p]) - zero, high = int.CreateTruncating(source[2 * p + 1]) - zero;
                destination[p] = (low & 0xFFFF) | (high << 16);
            }
            if ((k & 1) != 0) destination[pairs - 1] = (int.CreateTruncating(source[k - 1]) - zero) & 0xFFFF;
        }
    }

    /// <summary>Packs a constant A once (for a static field of generated code); <paramref name="zeroPoint"/> may be empty.</summary>
    public static int[] PackA<T>(T[] a, T[] zeroPoint, int m, int k) where T : IBinaryInteger<T>
    {
        var packed = new int[PackedALength(m, k)];
        PackA<T>(a, k, zeroPoint, m, k, packed);
        return packed;
    }

    /// <summary>
    /// Packs B (K×N, row stride <paramref name="ldb"/>) minus its zero point (empty: 0; one value: per tensor; N values:
    /// per column) into panels (<see cref="PackedBLength"/> elements); padding columns and the odd last k are zero.
    /// When <paramref name="transposed"/>, B is stored N×K (row stride <paramref name="ldb"/>) instead.
    /// </summary>
    public static void PackB<T>(ReadOnlySpan<T> b, int ldb, ReadOnlySpan<T> zeroPoint, int k, int n, Span<short> packed, bool transposed = false) where T : IBinaryInteger<T>
    {
        int pairs = Pairs(k);
        int panelLength = pairs * 2 * PanelColumns;
        Span<int> zeros = stackalloc int[PanelColumns];
        for (int n0 = 0, panel = 0; n0 < n; n0 += PanelColumns, panel++)
        {
            int width = Math.Min(PanelColumns, n - n0);
            for (int j = 0; j < width; j++)
                zeros[j] = zeroPoint.IsEmpty ? 0 : int.CreateTruncating(zeroPoint[zeroPoint.Length == 1 ? 0 : n0 + j]);
            Span<short> destination = packed.Slice(panel * panelLength, panelLength);
            destination.Clear();
            for (int kk = 0; kk < k; kk++)
            {
                int offset = (kk >> 1) * 2 * PanelColumns + (kk & 1);
                if (transposed)
                {
                    for (int j = 0; j < width; j++) destination[offset + 2 * j] = (short)(int.CreateTruncating(b[(n0 + j) * ldb + kk]) - zeros[j]);
                    continue;
                }
                ReadOnlySpan<T> row = b.Slice(kk * ldb + n0, width);
                for (int j = 0; j < width; j++) destination[offset + 2 * j] = (short)(int.CreateTruncating(row[j]) - zeros[j]);
            }
        }
    }

    /// <summary>
    /// Packs a constant B once (for a static field of generated code); <paramref name="zeroPoint"/> may be empty;
    /// <paramref name="transposed"/>: B is stored N×K.
    /// </summary>
    public static short[] PackB<T>(T[] b, T[] zeroPoint, int k, int n, bool transposed = false) where T : IBinaryInteger<T>
    {
        var packed = new short[PackedBLength(k, n)];
        PackB<T>(b, transposed ? k : n, zeroPoint, k, n, packed, transposed);
        return packed;
    }

    /// <summary>C (M×N, row stride <paramref name="ldc"/>) = packed A · packed B, with the tier in use.</summary>
    public static void Multiply(ReadOnlySpan<int> packedA, ReadOnlySpan<short> packedB, Span<int> c, int ldc, int m, int n, int k)
    {
        if (m == 0 || n == 0) return;
        int pairs = Pairs(k);
        if (packedA.Length < m * pairs || packedB.Length < PackedBLength(k, n) || c.Length < (m - 1) * ldc + n)
            throw new ArgumentException("packed operands or C are too short for the given M, N, K");
        switch (Tier)
        {
            case QuantizedGemmTier.Avx512BW when Avx512BW.IsSupported: MultiplyAvx512(packedA, packedB, c, ldc, m, n, pairs); break;
            case QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Avx2.IsSupported: MultiplyAvx2(packedA, packedB, c, ldc, m, n, pairs); break;
            case QuantizedGemmTier.Vector128 or QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Sse2.IsSupported: MultiplySse2(packedA, packedB, c, ldc, m, n, pairs); break;
            default: MultiplyScalar(packedA, packedB, c, ldc, m, n, pairs); break;
        }
    }

    /// <summary>
    /// C = (A − za)·(B − zb) for run-time operands: packs both into the caller's scratch (<see cref="PackedALength"/>
    /// words and <see cref="PackedBLength"/> elements) and multiplies. Zero points: empty, one value, or per row / column.
    /// </summary>
    public static void Multiply<TA, TB>(ReadOnlySpan<TA> a, ReadOnlySpan<TA> zeroA, ReadOnlySpan<TB> b, ReadOnlySpan<TB> zeroB, Span<int> c,
        int m, int n, int k, Span<int> packedA, Span<short> packedB)
        where TA : IBinaryInteger<TA> where TB : IBinaryInteger<TB>
    {
        PackA(a, k, zeroA, m, k, packedA);
        PackB(b, n, zeroB, k, n, packedB);
        Multiply(packedA, packedB, c, n, m, n, k);
    }

    /// <summary>
    /// Batched <see cref="Multiply{TA, TB}"/>: batch i reads A at <paramref name="aOffsets"/>[i] and B at
    /// <paramref name="bOffsets"/>[i] (numpy broadcasting resolved at compile time) and writes C at i·M·N.
    /// </summary>
    public static void MultiplyBatched<TA, TB>(ReadOnlySpan<TA> a, int[] aOffsets, ReadOnlySpan<TA> zeroA, ReadOnlySpan<TB> b, int[] bOffsets, ReadOnlySpan<TB> zeroB,
        Span<int> c, int m, int n, int k, Span<int> packedA, Span<short> packedB)
        where TA : IBinaryInteger<TA> where TB : IBinaryInteger<TB>
    {
        for (int i = 0; i < aOffsets.Length; i++)
            Multiply(a.Slice(aOffsets[i], m * k), zeroA, b.Slice(bOffsets[i], k * n), zeroB, c.Slice(i * m * n, m * n), m, n, k, packedA, packedB);
    }

    /// <summary>C = (A − za)·(B − zb) for a run-time A and a B packed once.</summary>
    public static void Multiply<TA>(ReadOnlySpan<TA> a, ReadOnlySpan<TA> zeroA, short[] packedB, Span<int> c, int m, int n, int k, Span<int> packedA)
        where TA : IBinaryInteger<TA>
    {
        PackA(a, k, zeroA, m, k, packedA);
        Multiply(packedA, packedB, c, n, m, n, k);
    }

    /// <summary>The reference every tier must match exactly: plain int32 dot products over the packed operands.</summary>
    static void MultiplyScalar(ReadOnlySpan<int> packedA, ReadOnlySpan<short> packedB, Span<int> c, int ldc, int m, int n, int pairs)
    {
        int panelLength = pairs * 2 * PanelColumns;
        for (int row = 0; row < m; row++)
        {
            ReadOnlySpan<int> aRow = packedA.Slice(row * pairs, pairs);
            for (int col = 0; col < n; col++)
            {
                ReadOnlySpan<short> panel = packedB.Slice(col / PanelColumns * panelLength, panelLength);
                int j = col % PanelColumns;
                int sum = 0;
                for (int p = 0; p < pairs; p++)
                {
                    int word = aRow[p];
                    sum += (short)word * panel[p * 2 * PanelColumns + 2 * j] + (word >> 16) * panel[p * 2 * PanelColumns + 2 * j + 1];
                }
                c[row * ldc + col] = sum;
            }
        }
    }

    static void MultiplyAvx512(ReadOnlySpan<int> packedA, ReadOnlySpan<short> packedB, Span<int> c, int ldc, int m, int n, int pairs)
    {
        int panelLength = pairs * 2 * PanelColumns;
        ref int a0 = ref MemoryMarshal.GetReference(packedA);
        ref short b0 = ref MemoryMarshal.GetReference(packedB);
        Span<int> tail = stackalloc int[PanelColumns];
        for (int n0 = 0; n0 < n; n0 += PanelColumns)
        {
            ref short panel = ref Unsafe.Add(ref b0, n0 / PanelColumns * panelLength);
            int width = Math.Min(PanelColumns, n - n0);
            int row = 0;
            for (; row + 4 <= m; row += 4)
            {
                ref int a = ref Unsafe.Add(ref a0, row * pairs);
                Vector512<int> c0 = default, c1 = default, c2 = default, c3 = default;
                for (int p = 0; p < pairs; p++)
                {
                    var bv = Vector512.LoadUnsafe(ref panel, (nuint)(p * 2 * PanelColumns));
                    c0 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(Unsafe.Add(ref a, p)).AsInt16(), bv);
                    c1 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(Unsafe.Add(ref a, pairs + p)).AsInt16(), bv);
                    c2 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(Unsafe.Add(ref a, 2 * pairs + p)).AsInt16(), bv);
                    c3 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(Unsafe.Add(ref a, 3 * pairs + p)).AsInt16(), bv);
                }
                Store(c0, c, row * ldc + n0, width, tail);
                Store(c1, c, (row + 1) * ldc + n0, width, tail);
                Store(c2, c, (row + 2) * ldc + n0, width, tail);
                Store(c3, c, (row + 3) * ldc + n0, width, tail);
            }
            for (; row < m; row++)
            {
                ref int a = ref Unsafe.Add(ref a0, row * pairs);
                Vector512<int> c0 = default;
                for (int p = 0; p < pairs; p++)
                    c0 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(Unsafe.Add(ref a, p)).AsInt16(), Vector512.LoadUnsafe(ref panel, (nuint)(p * 2 * PanelColumns)));
                Store(c0, c, row * ldc + n0, width, tail);
            }
        }
    }

    static void MultiplyAvx2(ReadOnlySpan<int> packedA, ReadOnlySpan<short> packedB, Span<int> c, int ldc, int m, int n, int pairs)
    {
        int panelLength = pairs * 2 * PanelColumns;
        ref int a0 = ref MemoryMarshal.GetReference(packedA);
        ref short b0 = ref MemoryMarshal.GetReference(packedB);
        Span<int> tail = stackalloc int[PanelColumns];
        for (int n0 = 0; n0 < n; n0 += PanelColumns)
        {
            ref short panel = ref Unsafe.Add(ref b0, n0 / PanelColumns * panelLength);
            int width = Math.Min(PanelColumns, n - n0);
            int row = 0;
            for (; row + 4 <= m; row += 4)
            {
                ref int a = ref Unsafe.Add(ref a0, row * pairs);
                Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
                for (int p = 0; p < pairs; p++)
                {
                    var bLow = Vector256.LoadUnsafe(ref panel, (nuint)(p * 2 * PanelColumns));
                    var bHigh = Vector256.LoadUnsafe(ref panel, (nuint)(p * 2 * PanelColumns + 16));
                    var x0 = Vector256.Create(Unsafe.Add(ref a, p)).AsInt16();
                    c00 += Avx2.MultiplyAddAdjacent(x0, bLow); c01 += Avx2.MultiplyAddAdjacent(x0, bHigh);
                    var x1 = Vector256.Create(Unsafe.Add(ref a, pairs + p)).AsInt16();
                    c10 += Avx2.MultiplyAddAdjacent(x1, bLow); c11 += Avx2.MultiplyAddAdjacent(x1, bHigh);
                    var x2 = Vector256.Create(Unsafe.Add(ref a, 2 * pairs + p)).AsInt16();
                    c20 += Avx2.MultiplyAddAdjacent(x2, bLow); c21 += Avx2.MultiplyAddAdjacent(x2, bHigh);
                    var x3 = Vector256.Create(Unsafe.Add(ref a, 3 * pairs + p)).AsInt16();
                    c30 += Avx2.MultiplyAddAdjacent(x3, bLow); c31 += Avx2.MultiplyAddAdjacent(x3, bHigh);
                }
                Store(c00, c01, c, row * ldc + n0, width, tail);
                Store(c10, c11, c, (row + 1) * ldc + n0, width, tail);
                Store(c20, c21, c, (row + 2) * ldc + n0, width, tail);
                Store(c30, c31, c, (row + 3) * ldc + n0, width, tail);
            }
            for (; row < m; row++)
            {
                ref int a = ref Unsafe.Add(ref a0, row * pairs);
                Vector256<int> c00 = default, c01 = default;
                for (int p = 0; p < pairs; p++)
                {
                    var x0 = Vector256.Create(Unsafe.Add(ref a, p)).AsInt16();
                    c00 += Avx2.MultiplyAddAdjacent(x0, Vector256.LoadUnsafe(ref panel, (nuint)(p * 2 * PanelColumns)));
                    c01 += Avx2.MultiplyAddAdjacent(x0, Vector256.LoadUnsafe(ref panel, (nuint)(p * 2 * PanelColumns + 16)));
                }
                Store(c00, c01, c, row * ldc + n0, width, tail);
            }
        }
    }

    static void MultiplySse2(ReadOnlySpan<int> packedA, ReadOnlySpan<short> packedB, Span<int> c, int ldc, int m, int n, int pairs)
    {
        int panelLength = pairs * 2 * PanelColumns;
        ref int a0 = ref MemoryMarshal.GetReference(packedA);
        ref short b0 = ref MemoryMarshal.GetReference(packedB);
        Span<int> tail = stackalloc int[PanelColumns];
        for (int n0 = 0; n0 < n; n0 += PanelColumns)
        {
            ref short panel = ref Unsafe.Add(ref b0, n0 / PanelColumns * panelLength);
            int width = Math.Min(PanelColumns, n - n0);
            for (int row = 0; row < m; row++)
            {
                ref int a = ref Unsafe.Add(ref a0, row * pairs);
                Vector128<int> c0 = default, c1 = default, c2 = default, c3 = default;
                for (int p = 0; p < pairs; p++)
                {
                    var x = Vector128.Create(Unsafe.Add(ref a, p)).AsInt16();
                    nuint at = (nuint)(p * 2 * PanelColumns);
                    c0 += Sse2.MultiplyAddAdjacent(x, Vector128.LoadUnsafe(ref panel, at));
                    c1 += Sse2.MultiplyAddAdjacent(x, Vector128.LoadUnsafe(ref panel, at + 8));
                    c2 += Sse2.MultiplyAddAdjacent(x, Vector128.LoadUnsafe(ref panel, at + 16));
                    c3 += Sse2.MultiplyAddAdjacent(x, Vector128.LoadUnsafe(ref panel, at + 24));
                }
                Span<int> destination = width == PanelColumns ? c.Slice(row * ldc + n0, PanelColumns) : tail;
                c0.CopyTo(destination); c1.CopyTo(destination.Slice(4)); c2.CopyTo(destination.Slice(8)); c3.CopyTo(destination.Slice(12));
                if (width != PanelColumns) tail.Slice(0, width).CopyTo(c.Slice(row * ldc + n0, width));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector512<int> value, Span<int> c, int offset, int width, Span<int> tail)
    {
        if (width == PanelColumns) { value.CopyTo(c.Slice(offset, PanelColumns)); return; }
        value.CopyTo(tail);
        tail.Slice(0, width).CopyTo(c.Slice(offset, width));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector256<int> low, Vector256<int> high, Span<int> c, int offset, int width, Span<int> tail)
    {
        if (width == PanelColumns)
        {
            Span<int> destination = c.Slice(offset, PanelColumns);
            low.CopyTo(destination);
            high.CopyTo(destination.Slice(8));
            return;
        }
        low.CopyTo(tail);
        high.CopyTo(tail.Slice(8));
        tail.Slice(0, width).CopyTo(c.Slice(offset, width));
    }
}
