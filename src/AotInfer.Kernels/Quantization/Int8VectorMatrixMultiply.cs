using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The batch-1 fully-connected int8 product (GEMV): c[r] = Σ_k (a[k] − za)·(w[r, k] − zw[r]) + bias[r] for one
/// run-time activation row and constant weights packed in panels (<see cref="Int8GemvWeights"/>). Each step
/// broadcasts four activations and multiplies them with 16 outputs × 4 k of weights (<c>vpmaddubsw</c> u8 × s8 →
/// int16 pairs, <c>vpmaddwd</c> by ones → int32), so every int32 lane accumulates one output and no horizontal sum is
/// needed, unlike <see cref="Int8Gemm.MultiplyRows"/> which sums k along the vector.
/// </summary>
/// <remarks>
/// Exact, never saturating, by <see cref="Int8ProductScheme"/>: with 7-bit weights (|w − zw| ≤ 64) the activations
/// stay unsigned, a pair sum is at most 2·255·64 = 32640; otherwise they move to the signed domain (a − 128 for u8)
/// and the product is |a| · (w with a's sign), |a| ≤ 128 and |w| ≤ 127, a pair sum at most 2·128·127 = 32512.
/// The activation zero point folds into one offset per output (bias − za·Σ_k w), weights of ±128 are fixed up after.
/// Tiers follow <see cref="QuantizedMatrixMultiply.Tier"/>. On the 512-bit tier sign-transfer weights are negated
/// under the activations' sign mask (<see cref="Int8GemvAvx512"/>): 784×300 s8 weights take 1.65 µs of CPU time there
/// against 2.58 µs on the 256-bit tier with <c>vpsignb</c> (Zen 4).
/// </remarks>
public static class Int8VectorMatrixMultiply
{
    /// <summary>Bytes of the activation scratch <see cref="Multiply{T}"/> needs: K rounded up to 64.</summary>
    public static int PackedActivationsLength(int k) => Int8Gemm.PackedRowsLength(1, k);

    /// <summary>
    /// c[r] = Σ_k (a[k] − za)·(w[r, k] − zw[r]) + bias[r] for the K activations <paramref name="a"/> (u8 or s8, zero
    /// point per tensor, empty: 0) and every weight row; an empty <paramref name="bias"/> means none.
    /// <paramref name="packedA"/> is the caller's scratch (<see cref="PackedActivationsLength"/> bytes).
    /// </summary>
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> aZeroPoint, Int8GemvWeights weights, ReadOnlySpan<int> bias, Span<int> c, Span<sbyte> packedA)
        where T : unmanaged, IBinaryInteger<T>
    {
        int k = weights.Depth, n = weights.Rows;
        if (a.Length < k || c.Length < n || packedA.Length < PackedActivationsLength(k) || !bias.IsEmpty && bias.Length < n)
            throw new ArgumentException("activations, bias, C or the scratch are too short for the weights");
        if (n == 0) return;
        Int8Gemm.PackRows(a, 1, k, weights.Scheme, packedA);
        Products(packedA, weights, c);
        AddOffsets(c.Slice(0, n), weights.RowSums, Int8Gemm.DomainZeroPoint(aZeroPoint, weights.Scheme), bias);
        int zero = aZeroPoint.IsEmpty ? 0 : int.CreateTruncating(aZeroPoint[0]);
        foreach (var (row, index, delta) in weights.Fixups)
            c[row] += delta * (int.CreateTruncating(a[index]) - zero);
    }

    /// <summary>c[r] = Σ_k packedA[k]·w[r, k] in the scheme's domain, with the tier in use.</summary>
    static void Products(ReadOnlySpan<sbyte> packedA, Int8GemvWeights weights, Span<int> c)
    {
        bool sign = weights.Scheme == Int8ProductScheme.SignTransfer;
        ref sbyte a = ref MemoryMarshal.GetReference(packedA);
        switch (QuantizedMatrixMultiply.Tier)
        {
            case QuantizedGemmTier.Avx512BW when Avx512BW.IsSupported:
                if (sign) Products<Int8GemvAvx512, Vector512<sbyte>, Vector512<int>, SignTransferScheme>(ref a, weights, c);
                else Products<Int8Avx512, Vector512<sbyte>, Vector512<int>, SevenBitWeightsScheme>(ref a, weights, c);
                break;
            case QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Avx2.IsSupported:
                if (sign) Products<Int8Avx2, Vector256<sbyte>, Vector256<int>, SignTransferScheme>(ref a, weights, c);
                else Products<Int8Avx2, Vector256<sbyte>, Vector256<int>, SevenBitWeightsScheme>(ref a, weights, c);
                break;
            case QuantizedGemmTier.Vector128 or QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Ssse3.IsSupported:
                if (sign) Products<Int8Ssse3, Vector128<sbyte>, Vector128<int>, SignTransferScheme>(ref a, weights, c);
                else Products<Int8Ssse3, Vector128<sbyte>, Vector128<int>, SevenBitWeightsScheme>(ref a, weights, c);
                break;
            default:
                if (sign) Products<Int8Scalar, int, int, SignTransferScheme>(ref a, weights, c);
                else Products<Int8Scalar, int, int, SevenBitWeightsScheme>(ref a, weights, c);
                break;
        }
    }

    /// <summary>
    /// The driver: a panel is <see cref="Int8GemvWeights.PanelBytes"/> / Bytes vectors wide; vector column v covers
    /// outputs v·lanes…, and its weights for quad q sit at (v / perPanel)·quads·64 + q·64 + (v % perPanel)·Bytes.
    /// Four vector columns share each broadcast of the activations; columns wholly past the last output are skipped.
    /// </summary>
    static void Products<TIsa, TB, TI, TScheme>(ref sbyte a, Int8GemvWeights weights, Span<int> c)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        int quads = weights.Quads, n = weights.Rows, lanes = TIsa.Bytes / 4, perPanel = Int8GemvWeights.PanelBytes / TIsa.Bytes;
        int columns = (n + lanes - 1) / lanes;
        ref sbyte w = ref weights.Values[0];
        Span<int> tail = stackalloc int[Int8GemvWeights.PanelRows];
        int v = 0;
        for (; v + 4 <= columns; v += 4)
        {
            Tile4<TIsa, TB, TI, TScheme>(ref a, ref Column<TIsa, TB, TI>(ref w, v, quads, perPanel), ref Column<TIsa, TB, TI>(ref w, v + 1, quads, perPanel),
                ref Column<TIsa, TB, TI>(ref w, v + 2, quads, perPanel), ref Column<TIsa, TB, TI>(ref w, v + 3, quads, perPanel), quads,
                out TI c0, out TI c1, out TI c2, out TI c3);
            Store<TIsa, TB, TI>(c0, c, v * lanes, n, tail);
            Store<TIsa, TB, TI>(c1, c, (v + 1) * lanes, n, tail);
            Store<TIsa, TB, TI>(c2, c, (v + 2) * lanes, n, tail);
            Store<TIsa, TB, TI>(c3, c, (v + 3) * lanes, n, tail);
        }
        for (; v < columns; v++)
        {
            ref sbyte column = ref Column<TIsa, TB, TI>(ref w, v, quads, perPanel);
            TI acc = default;
            for (int q = 0; q < quads; q++)
                acc = TIsa.Dot<TScheme>(acc, TIsa.BroadcastQuad(ref Unsafe.Add(ref a, 4 * q)), TIsa.Load(ref Unsafe.Add(ref column, q * Int8GemvWeights.PanelBytes)), default);
            Store<TIsa, TB, TI>(acc, c, v * lanes, n, tail);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ref sbyte Column<TIsa, TB, TI>(ref sbyte weights, int v, int quads, int perPanel)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct =>
        ref Unsafe.Add(ref weights, v / perPanel * quads * Int8GemvWeights.PanelBytes + v % perPanel * TIsa.Bytes);

    /// <summary>Four vector columns × every quad (its own method so the JIT keeps the accumulators in registers).</summary>
    static void Tile4<TIsa, TB, TI, TScheme>(ref sbyte a, ref sbyte w0, ref sbyte w1, ref sbyte w2, ref sbyte w3, int quads, out TI c0, out TI c1, out TI c2, out TI c3)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        // The negated weights are only read by the 512-bit sign transfer, which this kernel never runs: pass default.
        TI s0 = default, s1 = default, s2 = default, s3 = default;
        for (int q = 0, at = 0; q < quads; q++, at += Int8GemvWeights.PanelBytes)
        {
            TB x = TIsa.BroadcastQuad(ref Unsafe.Add(ref a, 4 * q));
            s0 = TIsa.Dot<TScheme>(s0, x, TIsa.Load(ref Unsafe.Add(ref w0, at)), default);
            s1 = TIsa.Dot<TScheme>(s1, x, TIsa.Load(ref Unsafe.Add(ref w1, at)), default);
            s2 = TIsa.Dot<TScheme>(s2, x, TIsa.Load(ref Unsafe.Add(ref w2, at)), default);
            s3 = TIsa.Dot<TScheme>(s3, x, TIsa.Load(ref Unsafe.Add(ref w3, at)), default);
        }
        c0 = s0; c1 = s1; c2 = s2; c3 = s3;
    }

    /// <summary>Stores one vector of outputs first… into c, through <paramref name="tail"/> when it runs past output n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<TIsa, TB, TI>(TI value, Span<int> c, int first, int n, Span<int> tail)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct
    {
        int lanes = TIsa.Bytes / 4;
        if (first + lanes <= n)
        {
            TIsa.Store(value, 0, ref c[first]);
            return;
        }
        TIsa.Store(value, 0, ref tail[0]);
        tail.Slice(0, n - first).CopyTo(c.Slice(first));
    }

    /// <summary>c[r] += bias[r] − zero·rowSums[r] (an empty bias adds nothing).</summary>
    static void AddOffsets(Span<int> c, ReadOnlySpan<int> rowSums, int zero, ReadOnlySpan<int> bias)
    {
        int r = 0;
        ref int c0 = ref MemoryMarshal.GetReference(c);
        ref int s0 = ref MemoryMarshal.GetReference(rowSums);
        var z = Vector256.Create(zero);
        for (; r + 8 <= c.Length; r += 8)
        {
            var offset = (bias.IsEmpty ? Vector256<int>.Zero : Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(bias), (nuint)r)) - z * Vector256.LoadUnsafe(ref s0, (nuint)r);
            (Vector256.LoadUnsafe(ref c0, (nuint)r) + offset).StoreUnsafe(ref c0, (nuint)r);
        }
        for (; r < c.Length; r++) c[r] += (bias.IsEmpty ? 0 : bias[r]) - zero * rowSums[r];
    }
}

/// <summary>
/// The 512-bit tier of <see cref="Int8VectorMatrixMultiply"/> for sign-transfer weights: AVX-512 has no byte sign
/// instruction, and the GEMV has no stored negated weights, so the weights are negated under a mask of the broadcast
/// activations' signs (one merge-masked <c>vpsubb</c>; the mask is computed once per broadcast).
/// </summary>
internal readonly struct Int8GemvAvx512 : IInt8Isa<Vector512<sbyte>, Vector512<int>>
{
    public static int Bytes => 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> Load(ref sbyte source) => Int8Avx512.Load(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> BroadcastQuad(ref sbyte source) => Int8Avx512.BroadcastQuad(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot<TScheme>(Vector512<int> acc, Vector512<sbyte> activations, Vector512<sbyte> weights, Vector512<sbyte> negatedWeights) where TScheme : IInt8Scheme
    {
        if (!TScheme.SignTransfer) return Int8Avx512.Dot<TScheme>(acc, activations, weights, negatedWeights);
        var signed = Vector512.ConditionalSelect(Vector512.LessThan(activations, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - weights, weights);
        return acc + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Vector512.Abs(activations).AsByte(), signed), Vector512<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector512<int> value) => Int8Avx512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<int> value, int offset, ref int destination) => Int8Avx512.Store(value, offset, ref destination);
}
