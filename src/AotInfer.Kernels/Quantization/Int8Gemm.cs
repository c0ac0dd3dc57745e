using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The fast 8-bit GEMM: constant weights (<see cref="Int8PackedWeights"/>, packed once) times run-time u8 or s8
/// activations, on <c>vpmaddubsw</c> (64 byte products per 512-bit instruction) + <c>vpmaddwd</c> (int16 pairs → int32),
/// exact: <see cref="Int8ProductScheme"/> keeps every int16 pair sum within range. Results are int32:
/// Σ_k (a − za)·(w − zw) + bias, the activation zero point folded into one offset per weight row
/// (bias − za·Σ_k (w − zw)), so the inner loop never touches zero points.
/// </summary>
/// <remarks>
/// Two loop shapes share the tiers of <see cref="IInt8Isa{TBytes, TInts}"/> (chosen by <see cref="QuantizedMatrixMultiply.Tier"/>):
/// <list type="bullet">
/// <item><see cref="MultiplyRows"/> (MatMul, QGemm: C[m, n] = Σ_k a[m, k]·w[n, k]): each activation row against
/// four weight rows at a time, k along the vector, lanes summed at the end — right for the small M of batch-1 dense
/// layers.</item>
/// <item><see cref="MultiplyColumns"/> (convolution: C[r, p] = Σ_k w[r, k]·col[k, p]): the im2col columns packed in
/// panels of one vector of output positions (four k per int32 lane, <see cref="PackColumns{T}"/>), four weight rows
/// broadcast at a time; the result is already channel-major (NCHW). On the AVX2 and AVX-512 tiers of a CPU with
/// AVX-VNNI it runs 256-bit <c>vpdpbusd</c> (<see cref="Int8AvxVnni"/>, see <see cref="AllowVnni"/>).</item>
/// </list>
/// Activations enter in the scheme's domain: unsigned for <see cref="Int8ProductScheme.SevenBitWeights"/>, signed
/// for <see cref="Int8ProductScheme.SignTransfer"/>; converting between u8 and s8 is flipping the top bit, and the
/// zero point moves with it (<see cref="DomainZeroPoint{T}"/>).
/// </remarks>
public static class Int8Gemm
{
    /// <summary>Length (bytes) of <see cref="PackRows{T}"/> output: rows of K rounded up to 64.</summary>
    public static int PackedRowsLength(int m, int k) => m * ((k + 63) / 64 * 64);

    /// <summary>Length (bytes) of <see cref="PackColumns{T}"/> output, enough for every tier: N rounded up to 16, K to 4.</summary>
    public static int PackedColumnsLength(int k, int n) => (n + 15) / 16 * 16 * ((k + 3) / 4 * 4);

    /// <summary>Whether activations of type <typeparamref name="T"/> flip their top bit to enter <paramref name="scheme"/>'s domain.</summary>
    public static bool Flips<T>(Int8ProductScheme scheme) => (typeof(T) == typeof(byte)) == (scheme == Int8ProductScheme.SignTransfer);

    /// <summary>The activation zero point (empty: 0) as a value of <paramref name="scheme"/>'s domain.</summary>
    public static int DomainZeroPoint<T>(ReadOnlySpan<T> zeroPoint, Int8ProductScheme scheme) where T : IBinaryInteger<T>
    {
        int raw = zeroPoint.IsEmpty ? 0 : int.CreateTruncating(zeroPoint[0]);
        if (!Flips<T>(scheme)) return raw;
        return typeof(T) == typeof(byte) ? raw - 128 : raw + 128;
    }

    /// <summary>
    /// Copies A (<paramref name="m"/> × <paramref name="k"/>, u8 or s8) into rows of K rounded up to 64 bytes, in
    /// <paramref name="scheme"/>'s domain, padding with zeros (their weights are zero).
    /// </summary>
    public static void PackRows<T>(ReadOnlySpan<T> a, int m, int k, Int8ProductScheme scheme, Span<sbyte> packed) where T : unmanaged
    {
        ReadOnlySpan<sbyte> source = Bytes(a);
        int stride = (k + 63) / 64 * 64;
        sbyte flip = Flips<T>(scheme) ? sbyte.MinValue : (sbyte)0;
        for (int row = 0; row < m; row++)
        {
            Span<sbyte> destination = packed.Slice(row * stride, stride);
            Xor(source.Slice(row * k, k), flip, destination);
            destination.Slice(k).Clear();
        }
    }

    /// <summary>
    /// Packs the column matrix (<paramref name="k"/> × <paramref name="n"/>, row-major, u8 or s8) into panels of one
    /// vector of columns for the tier in use: byte ((panel·quads + q)·lanes + j)·4 + i holds col[4q + i, panel·lanes + j]
    /// in <paramref name="scheme"/>'s domain (unsigned when <see cref="MultiplyColumns"/> runs VNNI); padding rows and
    /// columns are zero.
    /// </summary>
    public static void PackColumns<T>(ReadOnlySpan<T> columns, int k, int n, Int8ProductScheme scheme, Span<sbyte> packed) where T : unmanaged
    {
        ReadOnlySpan<byte> source = MemoryMarshal.AsBytes(Bytes(columns));
        Span<byte> destination = MemoryMarshal.AsBytes(packed);
        int lanes = Lanes(QuantizedMatrixMultiply.Tier), quads = (k + 3) / 4;
        int lanesShift = BitOperations.Log2((uint)lanes);
        // The VNNI kernels take unsigned activations under either scheme (they correct for it per row).
        byte flip = Flips<T>(UsesVnni(QuantizedMatrixMultiply.Tier) ? Int8ProductScheme.SevenBitWeights : scheme) ? (byte)0x80 : (byte)0;
        int vectorColumns = lanes >= 4 && Sse2.IsSupported ? n / 16 * 16 : 0;
        var mask = Vector128.Create(flip);
        ref byte s0 = ref MemoryMarshal.GetReference(source);
        ref byte d0 = ref MemoryMarshal.GetReference(destination);
        for (int q = 0; q < quads; q++)
        {
            // 16 columns × 4 k at a time: interleave four rows of bytes into 16 column quads (4 columns per 128 bits),
            // each group of 4 columns stored at its lane of its panel (lanes is a power of two: shifts, no division).
            int rows = Math.Min(4, k - 4 * q);
            for (int n0 = 0; n0 < vectorColumns; n0 += 16)
            {
                ref byte r = ref Unsafe.Add(ref s0, 4 * q * n + n0);
                Vector128<byte> r0 = Vector128.LoadUnsafe(ref r) ^ mask;
                Vector128<byte> r1 = rows > 1 ? Vector128.LoadUnsafe(ref Unsafe.Add(ref r, n)) ^ mask : Vector128<byte>.Zero;
                Vector128<byte> r2 = rows > 2 ? Vector128.LoadUnsafe(ref Unsafe.Add(ref r, 2 * n)) ^ mask : Vector128<byte>.Zero;
                Vector128<byte> r3 = rows > 3 ? Vector128.LoadUnsafe(ref Unsafe.Add(ref r, 3 * n)) ^ mask : Vector128<byte>.Zero;
                Vector128<short> t0 = Sse2.UnpackLow(r0, r1).AsInt16(), t1 = Sse2.UnpackHigh(r0, r1).AsInt16();
                Vector128<short> t2 = Sse2.UnpackLow(r2, r3).AsInt16(), t3 = Sse2.UnpackHigh(r2, r3).AsInt16();
                Sse2.UnpackLow(t0, t2).AsByte().StoreUnsafe(ref d0, (nuint)QuadOffset(n0, q, quads, lanes, lanesShift));
                Sse2.UnpackHigh(t0, t2).AsByte().StoreUnsafe(ref d0, (nuint)QuadOffset(n0 + 4, q, quads, lanes, lanesShift));
                Sse2.UnpackLow(t1, t3).AsByte().StoreUnsafe(ref d0, (nuint)QuadOffset(n0 + 8, q, quads, lanes, lanesShift));
                Sse2.UnpackHigh(t1, t3).AsByte().StoreUnsafe(ref d0, (nuint)QuadOffset(n0 + 12, q, quads, lanes, lanesShift));
            }
            int paddedColumns = (n + lanes - 1) / lanes * lanes;
            for (int column = vectorColumns; column < paddedColumns; column++)
            {
                int at = QuadOffset(column, q, quads, lanes, lanesShift);
                for (int i = 0; i < 4; i++)
                {
                    int kk = 4 * q + i;
                    destination[at + i] = kk < k && column < n ? (byte)(source[kk * n + column] ^ flip) : (byte)0;
                }
            }
        }
    }

    [ThreadStatic] static bool t_vnniOff;

    /// <summary>
    /// Whether <see cref="MultiplyColumns"/> may use AVX-VNNI (<c>vpdpbusd</c>) on the AVX2 and AVX-512 tiers when the
    /// CPU has it (default true). Per thread, like <see cref="QuantizedMatrixMultiply.Tier"/>: tests turn it off to
    /// cover the <c>vpmaddubsw</c> kernels on machines with VNNI. Packing and multiplying must see the same setting.
    /// </summary>
    public static bool AllowVnni
    {
        get => !t_vnniOff;
        set => t_vnniOff = !value;
    }

    /// <summary>
    /// Whether the column GEMM runs on <see cref="Int8AvxVnni"/> (AVX2 tier) or <see cref="Int8AvxVnniPair"/> (AVX-512
    /// tier, same panels) for <paramref name="tier"/>: 256-bit <c>vpdpbusd</c> does 32 exact byte products in one
    /// instruction where the AVX-512 tier needs five for 64 under the sign transfer.
    /// </summary>
    internal static bool UsesVnni(QuantizedGemmTier tier) => tier >= QuantizedGemmTier.Avx2 && AvxVnni.IsSupported && !t_vnniOff;

    /// <summary>Byte offset of column <paramref name="column"/>'s quad <paramref name="q"/> in the panel layout (lanes = 1 &lt;&lt; shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int QuadOffset(int column, int q, int quads, int lanes, int shift) => (((column >> shift) * quads + q) * lanes + (column & (lanes - 1))) * 4;

    /// <summary>
    /// C[i, r] (row stride <paramref name="ldc"/>) = Σ_k a[i, k]·w[r, k] + offsets[r] for the <paramref name="m"/>
    /// rows of <paramref name="packedRows"/> (<see cref="PackRows{T}"/>) and every weight row r.
    /// </summary>
    public static void MultiplyRows(ReadOnlySpan<sbyte> packedRows, int m, Int8PackedWeights weights, ReadOnlySpan<int> offsets, Span<int> c, int ldc)
    {
        if (m == 0 || weights.Rows == 0) return;
        if (packedRows.Length < m * weights.Stride || offsets.Length < weights.Rows || c.Length < (m - 1) * ldc + weights.Rows)
            throw new ArgumentException("packed rows, offsets or C are too short for the given sizes");
        bool sign = weights.Scheme == Int8ProductScheme.SignTransfer;
        switch (QuantizedMatrixMultiply.Tier)
        {
            case QuantizedGemmTier.Avx512BW when Avx512BW.IsSupported:
                if (sign) Rows<Int8Avx512, Vector512<sbyte>, Vector512<int>, SignTransferScheme>(packedRows, m, weights, offsets, c, ldc);
                else Rows<Int8Avx512, Vector512<sbyte>, Vector512<int>, SevenBitWeightsScheme>(packedRows, m, weights, offsets, c, ldc);
                break;
            case QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Avx2.IsSupported:
                if (sign) Rows<Int8Avx2, Vector256<sbyte>, Vector256<int>, SignTransferScheme>(packedRows, m, weights, offsets, c, ldc);
                else Rows<Int8Avx2, Vector256<sbyte>, Vector256<int>, SevenBitWeightsScheme>(packedRows, m, weights, offsets, c, ldc);
                break;
            case QuantizedGemmTier.Vector128 or QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Ssse3.IsSupported:
                if (sign) Rows<Int8Ssse3, Vector128<sbyte>, Vector128<int>, SignTransferScheme>(packedRows, m, weights, offsets, c, ldc);
                else Rows<Int8Ssse3, Vector128<sbyte>, Vector128<int>, SevenBitWeightsScheme>(packedRows, m, weights, offsets, c, ldc);
                break;
            default:
                if (sign) Rows<Int8Scalar, int, int, SignTransferScheme>(packedRows, m, weights, offsets, c, ldc);
                else Rows<Int8Scalar, int, int, SevenBitWeightsScheme>(packedRows, m, weights, offsets, c, ldc);
                break;
        }
    }

    /// <summary>
    /// C[r, j] (row stride <paramref name="ldc"/>) = Σ_k w[firstRow + r, k]·col[k, j] + offsets[r] for
    /// <paramref name="rows"/> weight rows and the <paramref name="n"/> columns of <paramref name="packedColumns"/>
    /// (<see cref="PackColumns{T}"/>, packed under the same tier).
    /// </summary>
    public static void MultiplyColumns(Int8PackedWeights weights, int firstRow, int rows, ReadOnlySpan<sbyte> packedColumns, int n, ReadOnlySpan<int> offsets, Span<int> c, int ldc)
    {
        if (rows == 0 || n == 0) return;
        int lanes = Lanes(QuantizedMatrixMultiply.Tier);
        if (firstRow < 0 || firstRow + rows > weights.Rows || packedColumns.Length < (n + lanes - 1) / lanes * lanes * weights.Quads * 4
            || offsets.Length < rows || c.Length < (rows - 1) * ldc + n)
            throw new ArgumentException("weight rows, packed columns, offsets or C do not fit the given sizes");
        bool sign = weights.Scheme == Int8ProductScheme.SignTransfer;
        if (UsesVnni(QuantizedMatrixMultiply.Tier) && Lanes(QuantizedMatrixMultiply.Tier) == 16)
        {
            if (sign) Columns<Int8AvxVnniPair, Vector256Pair<sbyte>, Vector256Pair<int>, SignTransferScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
            else Columns<Int8AvxVnniPair, Vector256Pair<sbyte>, Vector256Pair<int>, SevenBitWeightsScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
            return;
        }
        if (UsesVnni(QuantizedMatrixMultiply.Tier))
        {
            if (sign) Columns<Int8AvxVnni, Vector256<sbyte>, Vector256<int>, SignTransferScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
            else Columns<Int8AvxVnni, Vector256<sbyte>, Vector256<int>, SevenBitWeightsScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
            return;
        }
        switch (QuantizedMatrixMultiply.Tier)
        {
            case QuantizedGemmTier.Avx512BW when Avx512BW.IsSupported:
                if (sign) Columns<Int8Avx512, Vector512<sbyte>, Vector512<int>, SignTransferScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                else Columns<Int8Avx512, Vector512<sbyte>, Vector512<int>, SevenBitWeightsScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                break;
            case QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Avx2.IsSupported:
                if (sign) Columns<Int8Avx2, Vector256<sbyte>, Vector256<int>, SignTransferScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                else Columns<Int8Avx2, Vector256<sbyte>, Vector256<int>, SevenBitWeightsScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                break;
            case QuantizedGemmTier.Vector128 or QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Ssse3.IsSupported:
                if (sign) Columns<Int8Ssse3, Vector128<sbyte>, Vector128<int>, SignTransferScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                else Columns<Int8Ssse3, Vector128<sbyte>, Vector128<int>, SevenBitWeightsScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                break;
            default:
                if (sign) Columns<Int8Scalar, int, int, SignTransferScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                else Columns<Int8Scalar, int, int, SevenBitWeightsScheme>(weights, firstRow, rows, packedColumns, n, offsets, c, ldc);
                break;
        }
    }

    /// <summary>
    /// C[i, r] = Σ_k (a[i, k] − za)·(w[r, k] − zw[r]) + bias[r] for a run-time A (<paramref name="m"/> × K, per-tensor
    /// zero point, empty: 0) and packed weights; <paramref name="packedA"/> (<see cref="PackedRowsLength"/> bytes) and
    /// <paramref name="offsets"/> (one int per weight row) are the caller's scratch. An empty bias means none.
    /// </summary>
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> aZeroPoint, Int8PackedWeights weights, ReadOnlySpan<int> bias, Span<int> c, int m,
        Span<sbyte> packedA, Span<int> offsets) where T : unmanaged, IBinaryInteger<T>
    {
        PackRows(a, m, weights.Depth, weights.Scheme, packedA);
        weights.Offsets(DomainZeroPoint(aZeroPoint, weights.Scheme), bias, 0, offsets.Slice(0, weights.Rows));
        MultiplyRows(packedA, m, weights, offsets, c, weights.Rows);
        int zero = aZeroPoint.IsEmpty ? 0 : int.CreateTruncating(aZeroPoint[0]);
        foreach (var (row, index, delta) in weights.Fixups)
            for (int i = 0; i < m; i++)
                c[i * weights.Rows + row] += delta * (int.CreateTruncating(a[i * weights.Depth + index]) - zero);
    }

    /// <summary>
    /// The ±1·(col[k, j] − za) that weights stored one short of ±128 (<see cref="Int8PackedWeights"/>) leave out of
    /// <see cref="MultiplyColumns"/> for rows <paramref name="firstRow"/>…+<paramref name="rows"/>: adds them to C
    /// (row stride <paramref name="ldc"/>) from the unpacked column matrix (K × <paramref name="n"/>, raw values).
    /// </summary>
    public static void AddFixups<T>(Int8PackedWeights weights, int firstRow, int rows, ReadOnlySpan<T> columns, int n, ReadOnlySpan<T> zeroPoint, Span<int> c, int ldc)
        where T : unmanaged, IBinaryInteger<T> => AddFixups(weights, firstRow, rows, columns, n, 0, n, zeroPoint, c, ldc);

    /// <summary>
    /// <see cref="AddFixups{T}(Int8PackedWeights, int, int, ReadOnlySpan{T}, int, ReadOnlySpan{T}, Span{int}, int)"/> for the
    /// <paramref name="width"/> columns from <paramref name="firstColumn"/> of the K × <paramref name="n"/> column matrix;
    /// C holds only those columns (column <paramref name="firstColumn"/> at C's column 0).
    /// </summary>
    public static void AddFixups<T>(Int8PackedWeights weights, int firstRow, int rows, ReadOnlySpan<T> columns, int n, int firstColumn, int width,
        ReadOnlySpan<T> zeroPoint, Span<int> c, int ldc) where T : unmanaged, IBinaryInteger<T>
    {
        int zero = zeroPoint.IsEmpty ? 0 : int.CreateTruncating(zeroPoint[0]);
        foreach (var (row, index, delta) in weights.Fixups)
        {
            if (row < firstRow || row >= firstRow + rows) continue;
            ReadOnlySpan<T> source = columns.Slice(index * n + firstColumn, width);
            Span<int> destination = c.Slice((row - firstRow) * ldc, width);
            for (int j = 0; j < width; j++) destination[j] += delta * (int.CreateTruncating(source[j]) - zero);
        }
    }

    /// <summary>int32 lanes per vector of a tier: the panel width of <see cref="PackColumns{T}"/>.</summary>
    public static int Lanes(QuantizedGemmTier tier) => tier switch
    {
        QuantizedGemmTier.Avx512BW when Avx512BW.IsSupported => 16,
        QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Avx2.IsSupported => 8,
        QuantizedGemmTier.Vector128 or QuantizedGemmTier.Avx2 or QuantizedGemmTier.Avx512BW when Ssse3.IsSupported => 4,
        _ => 1,
    };

    // The drivers walk tiles; each tile is its own method so the register allocator sees only its accumulators
    // (inlined into one big loop nest, the JIT spilled them every iteration).

    static void Rows<TIsa, TB, TI, TScheme>(ReadOnlySpan<sbyte> packedRows, int m, Int8PackedWeights weights, ReadOnlySpan<int> offsets, Span<int> c, int ldc)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        int stride = weights.Stride, blocks = (weights.Depth + TIsa.Bytes - 1) / TIsa.Bytes, rows = weights.Rows;
        ref sbyte a0 = ref MemoryMarshal.GetReference(packedRows);
        ref int c0 = ref MemoryMarshal.GetReference(c);
        ref int o0 = ref MemoryMarshal.GetReference(offsets);
        int i = 0;
        // Two activation rows share every weight load (a dense layer streams its weights once per pair of rows).
        for (; i + 2 <= m; i += 2)
        {
            int r = 0;
            for (; r + 4 <= rows; r += 4)
                RowTile2x4<TIsa, TB, TI, TScheme>(ref Unsafe.Add(ref a0, i * stride), stride, ref weights.Values[r * stride], ref weights.Negated[r * stride], blocks,
                    ref Unsafe.Add(ref o0, r), ref Unsafe.Add(ref c0, i * ldc + r), ldc);
            for (; r < rows; r++)
            {
                RowTile1x1<TIsa, TB, TI, TScheme>(ref Unsafe.Add(ref a0, i * stride), ref weights.Values[r * stride], ref weights.Negated[r * stride], blocks, offsets[r], ref Unsafe.Add(ref c0, i * ldc + r));
                RowTile1x1<TIsa, TB, TI, TScheme>(ref Unsafe.Add(ref a0, (i + 1) * stride), ref weights.Values[r * stride], ref weights.Negated[r * stride], blocks, offsets[r], ref Unsafe.Add(ref c0, (i + 1) * ldc + r));
            }
        }
        for (; i < m; i++)
        {
            int r = 0;
            for (; r + 4 <= rows; r += 4)
                RowTile1x4<TIsa, TB, TI, TScheme>(ref Unsafe.Add(ref a0, i * stride), stride, ref weights.Values[r * stride], ref weights.Negated[r * stride], blocks,
                    ref Unsafe.Add(ref o0, r), ref Unsafe.Add(ref c0, i * ldc + r));
            for (; r < rows; r++)
                RowTile1x1<TIsa, TB, TI, TScheme>(ref Unsafe.Add(ref a0, i * stride), ref weights.Values[r * stride], ref weights.Negated[r * stride], blocks, offsets[r], ref Unsafe.Add(ref c0, i * ldc + r));
        }
    }

    /// <summary>c[0..1, 0..3] (row stride ldc) = two activation rows · four weight rows (stride apart) + offsets.</summary>
    static void RowTile2x4<TIsa, TB, TI, TScheme>(ref sbyte a, int stride, ref sbyte w, ref sbyte nw, int blocks, ref int offsets, ref int c, int ldc)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        TI c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        for (int b = 0; b < blocks; b++)
        {
            TB x0 = TIsa.Load(ref a), x1 = TIsa.Load(ref Unsafe.Add(ref a, stride));
            TB w0 = TIsa.Load(ref w), n0 = TIsa.Load(ref nw);
            c00 = TIsa.Dot<TScheme>(c00, x0, w0, n0); c10 = TIsa.Dot<TScheme>(c10, x1, w0, n0);
            TB w1 = TIsa.Load(ref Unsafe.Add(ref w, stride)), n1 = TIsa.Load(ref Unsafe.Add(ref nw, stride));
            c01 = TIsa.Dot<TScheme>(c01, x0, w1, n1); c11 = TIsa.Dot<TScheme>(c11, x1, w1, n1);
            TB w2 = TIsa.Load(ref Unsafe.Add(ref w, 2 * stride)), n2 = TIsa.Load(ref Unsafe.Add(ref nw, 2 * stride));
            c02 = TIsa.Dot<TScheme>(c02, x0, w2, n2); c12 = TIsa.Dot<TScheme>(c12, x1, w2, n2);
            TB w3 = TIsa.Load(ref Unsafe.Add(ref w, 3 * stride)), n3 = TIsa.Load(ref Unsafe.Add(ref nw, 3 * stride));
            c03 = TIsa.Dot<TScheme>(c03, x0, w3, n3); c13 = TIsa.Dot<TScheme>(c13, x1, w3, n3);
            a = ref Unsafe.Add(ref a, TIsa.Bytes);
            w = ref Unsafe.Add(ref w, TIsa.Bytes);
            nw = ref Unsafe.Add(ref nw, TIsa.Bytes);
        }
        c = TIsa.Sum(c00) + offsets; Unsafe.Add(ref c, 1) = TIsa.Sum(c01) + Unsafe.Add(ref offsets, 1);
        Unsafe.Add(ref c, 2) = TIsa.Sum(c02) + Unsafe.Add(ref offsets, 2); Unsafe.Add(ref c, 3) = TIsa.Sum(c03) + Unsafe.Add(ref offsets, 3);
        ref int d = ref Unsafe.Add(ref c, ldc);
        d = TIsa.Sum(c10) + offsets; Unsafe.Add(ref d, 1) = TIsa.Sum(c11) + Unsafe.Add(ref offsets, 1);
        Unsafe.Add(ref d, 2) = TIsa.Sum(c12) + Unsafe.Add(ref offsets, 2); Unsafe.Add(ref d, 3) = TIsa.Sum(c13) + Unsafe.Add(ref offsets, 3);
    }

    /// <summary>c[0..3] = one activation row · four weight rows (stride apart) + offsets.</summary>
    static void RowTile1x4<TIsa, TB, TI, TScheme>(ref sbyte a, int stride, ref sbyte w, ref sbyte nw, int blocks, ref int offsets, ref int c)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        TI c0 = default, c1 = default, c2 = default, c3 = default;
        for (int b = 0; b < blocks; b++)
        {
            TB x = TIsa.Load(ref a);
            c0 = TIsa.Dot<TScheme>(c0, x, TIsa.Load(ref w), TIsa.Load(ref nw));
            c1 = TIsa.Dot<TScheme>(c1, x, TIsa.Load(ref Unsafe.Add(ref w, stride)), TIsa.Load(ref Unsafe.Add(ref nw, stride)));
            c2 = TIsa.Dot<TScheme>(c2, x, TIsa.Load(ref Unsafe.Add(ref w, 2 * stride)), TIsa.Load(ref Unsafe.Add(ref nw, 2 * stride)));
            c3 = TIsa.Dot<TScheme>(c3, x, TIsa.Load(ref Unsafe.Add(ref w, 3 * stride)), TIsa.Load(ref Unsafe.Add(ref nw, 3 * stride)));
            a = ref Unsafe.Add(ref a, TIsa.Bytes);
            w = ref Unsafe.Add(ref w, TIsa.Bytes);
            nw = ref Unsafe.Add(ref nw, TIsa.Bytes);
        }
        c = TIsa.Sum(c0) + offsets; Unsafe.Add(ref c, 1) = TIsa.Sum(c1) + Unsafe.Add(ref offsets, 1);
        Unsafe.Add(ref c, 2) = TIsa.Sum(c2) + Unsafe.Add(ref offsets, 2); Unsafe.Add(ref c, 3) = TIsa.Sum(c3) + Unsafe.Add(ref offsets, 3);
    }

    static void RowTile1x1<TIsa, TB, TI, TScheme>(ref sbyte a, ref sbyte w, ref sbyte nw, int blocks, int offset, ref int c)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        TI c0 = default;
        for (int b = 0; b < blocks; b++)
            c0 = TIsa.Dot<TScheme>(c0, TIsa.Load(ref Unsafe.Add(ref a, b * TIsa.Bytes)), TIsa.Load(ref Unsafe.Add(ref w, b * TIsa.Bytes)), TIsa.Load(ref Unsafe.Add(ref nw, b * TIsa.Bytes)));
        c = TIsa.Sum(c0) + offset;
    }

    static void Columns<TIsa, TB, TI, TScheme>(Int8PackedWeights weights, int firstRow, int rows, ReadOnlySpan<sbyte> packedColumns, int n, ReadOnlySpan<int> offsets, Span<int> c, int ldc)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        int stride = weights.Stride, quads = weights.Quads, lanes = TIsa.Bytes / 4;
        ref int c0 = ref MemoryMarshal.GetReference(c);
        Span<int> tail = stackalloc int[16];
        for (int column = 0, panel = 0; column < n; column += lanes, panel++)
        {
            ref sbyte p = ref Unsafe.AsRef(in packedColumns[panel * quads * TIsa.Bytes]);
            int width = Math.Min(lanes, n - column);
            // A partial last panel goes through the tail buffer, one row at a time.
            int r = 0;
            for (; width == lanes && r + 4 <= rows; r += 4)
                ColumnTile4<TIsa, TB, TI, TScheme>(ref p, ref weights.Values[(firstRow + r) * stride], ref weights.Negated[(firstRow + r) * stride], stride, quads,
                    offsets.Slice(r, 4), weights.RowSums.AsSpan(firstRow + r, 4), ref Unsafe.Add(ref c0, r * ldc + column), ldc);
            for (; r < rows; r++)
            {
                ColumnTile1<TIsa, TB, TI, TScheme>(ref p, ref weights.Values[(firstRow + r) * stride], ref weights.Negated[(firstRow + r) * stride], quads,
                    offsets[r] - TIsa.RowExcess<TScheme>(weights.RowSums[firstRow + r]), ref tail[0]);
                tail.Slice(0, width).CopyTo(c.Slice(r * ldc + column, width));
            }
        }
    }

    /// <summary>Four weight rows (stride apart, broadcast four k at a time) × one panel of columns + offsets, stored at c (row stride ldc).</summary>
    static void ColumnTile4<TIsa, TB, TI, TScheme>(ref sbyte panel, ref sbyte w, ref sbyte nw, int stride, int quads, ReadOnlySpan<int> offsets, ReadOnlySpan<int> rowSums, ref int c, int ldc)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        TI c0 = default, c1 = default, c2 = default, c3 = default;
        for (int q = 0; q < quads; q++)
        {
            TB x = TIsa.Load(ref panel);
            c0 = TIsa.Dot<TScheme>(c0, x, TIsa.BroadcastQuad(ref w), TIsa.BroadcastQuad(ref nw));
            c1 = TIsa.Dot<TScheme>(c1, x, TIsa.BroadcastQuad(ref Unsafe.Add(ref w, stride)), TIsa.BroadcastQuad(ref Unsafe.Add(ref nw, stride)));
            c2 = TIsa.Dot<TScheme>(c2, x, TIsa.BroadcastQuad(ref Unsafe.Add(ref w, 2 * stride)), TIsa.BroadcastQuad(ref Unsafe.Add(ref nw, 2 * stride)));
            c3 = TIsa.Dot<TScheme>(c3, x, TIsa.BroadcastQuad(ref Unsafe.Add(ref w, 3 * stride)), TIsa.BroadcastQuad(ref Unsafe.Add(ref nw, 3 * stride)));
            panel = ref Unsafe.Add(ref panel, TIsa.Bytes);
            w = ref Unsafe.Add(ref w, 4);
            nw = ref Unsafe.Add(ref nw, 4);
        }
        TIsa.Store(c0, offsets[0] - TIsa.RowExcess<TScheme>(rowSums[0]), ref c);
        TIsa.Store(c1, offsets[1] - TIsa.RowExcess<TScheme>(rowSums[1]), ref Unsafe.Add(ref c, ldc));
        TIsa.Store(c2, offsets[2] - TIsa.RowExcess<TScheme>(rowSums[2]), ref Unsafe.Add(ref c, 2 * ldc));
        TIsa.Store(c3, offsets[3] - TIsa.RowExcess<TScheme>(rowSums[3]), ref Unsafe.Add(ref c, 3 * ldc));
    }

    static void ColumnTile1<TIsa, TB, TI, TScheme>(ref sbyte panel, ref sbyte w, ref sbyte nw, int quads, int offset, ref int c)
        where TIsa : IInt8Isa<TB, TI> where TB : struct where TI : struct where TScheme : IInt8Scheme
    {
        TI c0 = default;
        for (int q = 0; q < quads; q++)
            c0 = TIsa.Dot<TScheme>(c0, TIsa.Load(ref Unsafe.Add(ref panel, q * TIsa.Bytes)), TIsa.BroadcastQuad(ref Unsafe.Add(ref w, 4 * q)), TIsa.BroadcastQuad(ref Unsafe.Add(ref nw, 4 * q)));
        TIsa.Store(c0, offset, ref c);
    }

    static ReadOnlySpan<sbyte> Bytes<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != 1) throw new ArgumentException($"the int8 GEMM takes byte or sbyte activations, not {typeof(T).Name}");
        return MemoryMarshal.Cast<T, sbyte>(values);
    }

    /// <summary>destination = source ^ flip (byte-wise) for the first source.Length bytes.</summary>
    static void Xor(ReadOnlySpan<sbyte> source, sbyte flip, Span<sbyte> destination)
    {
        if (flip == 0) { source.CopyTo(destination); return; }
        int i = 0;
        var mask = Vector128.Create(flip);
        for (; i + 16 <= source.Length; i += 16)
            (Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i) ^ mask).StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)i);
        for (; i < source.Length; i++) destination[i] = (sbyte)(source[i] ^ flip);
    }
}
