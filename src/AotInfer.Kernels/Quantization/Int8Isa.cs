using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>The product scheme as a type, so the drivers of <see cref="Int8Gemm"/> specialise on it at JIT time.</summary>
internal interface IInt8Scheme
{
    /// <summary>True: activations are signed and multiplied as |a|·sign(w, a); false: unsigned times 7-bit weights.</summary>
    static abstract bool SignTransfer { get; }
}

internal readonly struct SevenBitWeightsScheme : IInt8Scheme
{
    public static bool SignTransfer => false;
}

internal readonly struct SignTransferScheme : IInt8Scheme
{
    public static bool SignTransfer => true;
}

/// <summary>
/// One instruction-set tier of <see cref="Int8Gemm"/> (the MLAS pattern: one driver per loop shape, parameterised by
/// a traits type). A vector holds <see cref="Bytes"/> bytes = Bytes/4 int32 lanes; each lane accumulates the dot
/// product of four consecutive k.
/// </summary>
internal interface IInt8Isa<TBytes, TInts> where TBytes : struct where TInts : struct
{
    /// <summary>Bytes per vector; int32 lanes are a quarter of it.</summary>
    static abstract int Bytes { get; }

    static abstract TBytes Load(ref sbyte source);

    /// <summary>The four bytes at <paramref name="source"/> repeated across the vector.</summary>
    static abstract TBytes BroadcastQuad(ref sbyte source);

    /// <summary>
    /// acc + Σ over each lane's four bytes of activation·weight, exact under <typeparamref name="TScheme"/>'s bounds.
    /// <paramref name="negatedWeights"/> is −<paramref name="weights"/> (used where the tier has no byte sign instruction).
    /// </summary>
    static abstract TInts Dot<TScheme>(TInts acc, TBytes activations, TBytes weights, TBytes negatedWeights) where TScheme : IInt8Scheme;

    /// <summary>The sum of all lanes.</summary>
    static abstract int Sum(TInts value);

    /// <summary>Stores value + offset into Bytes/4 ints at <paramref name="destination"/>.</summary>
    static abstract void Store(TInts value, int offset, ref int destination);

    /// <summary>
    /// What <see cref="Dot{TScheme}"/> adds to a weight row's results beyond Σ a·w, given the row's sum of weights, so
    /// the caller can subtract it once per row: nothing, except for tiers that move the activations to another domain.
    /// </summary>
    static virtual int RowExcess<TScheme>(int rowSum) where TScheme : IInt8Scheme => 0;
}

/// <summary>512-bit tier: <c>vpmaddubsw</c> + <c>vpmaddwd</c> (AVX-512BW); the sign transfer is a masked select.</summary>
internal readonly struct Int8Avx512 : IInt8Isa<Vector512<sbyte>, Vector512<int>>
{
    public static int Bytes => 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> Load(ref sbyte source) => Vector512.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<sbyte> BroadcastQuad(ref sbyte source) => Vector512.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref source))).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Dot<TScheme>(Vector512<int> acc, Vector512<sbyte> activations, Vector512<sbyte> weights, Vector512<sbyte> negatedWeights) where TScheme : IInt8Scheme
    {
        Vector512<short> pairs = TScheme.SignTransfer
            ? Avx512BW.MultiplyAddAdjacent(Vector512.Abs(activations).AsByte(), Vector512.ConditionalSelect(Vector512.LessThan(activations, Vector512<sbyte>.Zero), negatedWeights, weights))
            : Avx512BW.MultiplyAddAdjacent(activations.AsByte(), weights);
        return acc + Avx512BW.MultiplyAddAdjacent(pairs, Vector512<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector512<int> value) => Vector512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<int> value, int offset, ref int destination) => (value + Vector512.Create(offset)).StoreUnsafe(ref destination);
}

/// <summary>256-bit tier: <c>vpsignb</c> + <c>vpmaddubsw</c> + <c>vpmaddwd</c> (AVX2).</summary>
internal readonly struct Int8Avx2 : IInt8Isa<Vector256<sbyte>, Vector256<int>>
{
    public static int Bytes => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Load(ref sbyte source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> BroadcastQuad(ref sbyte source) => Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref source))).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot<TScheme>(Vector256<int> acc, Vector256<sbyte> activations, Vector256<sbyte> weights, Vector256<sbyte> negatedWeights) where TScheme : IInt8Scheme
    {
        Vector256<short> pairs = TScheme.SignTransfer
            ? Avx2.MultiplyAddAdjacent(Avx2.Abs(activations), Avx2.Sign(weights, activations))
            : Avx2.MultiplyAddAdjacent(activations.AsByte(), weights);
        return acc + Avx2.MultiplyAddAdjacent(pairs, Vector256<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector256<int> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<int> value, int offset, ref int destination) => (value + Vector256.Create(offset)).StoreUnsafe(ref destination);
}

/// <summary>
/// 256-bit tier with AVX-VNNI: <c>vpdpbusd</c> adds the four u8 × s8 products of each lane straight into int32, with
/// no int16 pair sum to saturate, so one instruction replaces <c>vpmaddubsw</c> + <c>vpmaddwd</c> + add (and the sign
/// transfer) whatever the weights. Activations are always packed unsigned for it (<see cref="Int8Gemm.PackColumns{T}"/>),
/// so under the sign-transfer scheme, whose offsets assume signed activations, every result carries an extra 128·Σw,
/// taken off once per row (<see cref="RowExcess{TScheme}"/>).
/// </summary>
internal readonly struct Int8AvxVnni : IInt8Isa<Vector256<sbyte>, Vector256<int>>
{
    public static int Bytes => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Load(ref sbyte source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> BroadcastQuad(ref sbyte source) => Int8Avx2.BroadcastQuad(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot<TScheme>(Vector256<int> acc, Vector256<sbyte> activations, Vector256<sbyte> weights, Vector256<sbyte> negatedWeights) where TScheme : IInt8Scheme
        => AvxVnni.MultiplyWideningAndAdd(acc, activations.AsByte(), weights);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector256<int> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<int> value, int offset, ref int destination) => (value + Vector256.Create(offset)).StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RowExcess<TScheme>(int rowSum) where TScheme : IInt8Scheme => TScheme.SignTransfer ? 128 * rowSum : 0;
}

/// <summary>Two 256-bit vectors handled as one: the 64-byte panels of the AVX-512 tier on <see cref="Int8AvxVnniPair"/>.</summary>
internal readonly struct Vector256Pair<T>(Vector256<T> low, Vector256<T> high) where T : struct
{
    public Vector256<T> Low { get; } = low;

    public Vector256<T> High { get; } = high;
}

/// <summary>
/// <see cref="Int8AvxVnni"/> over 64-byte vectors (two 256-bit halves), for the panels packed for the AVX-512 tier: 16
/// columns per panel give each weight broadcast two <c>vpdpbusd</c> and a four-row tile eight independent accumulators,
/// enough to cover the instruction's latency.
/// </summary>
internal readonly struct Int8AvxVnniPair : IInt8Isa<Vector256Pair<sbyte>, Vector256Pair<int>>
{
    public static int Bytes => 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Pair<sbyte> Load(ref sbyte source) => new(Vector256.LoadUnsafe(ref source), Vector256.LoadUnsafe(ref source, 32));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Pair<sbyte> BroadcastQuad(ref sbyte source)
    {
        Vector256<sbyte> quad = Int8Avx2.BroadcastQuad(ref source);
        return new(quad, quad);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Pair<int> Dot<TScheme>(Vector256Pair<int> acc, Vector256Pair<sbyte> activations, Vector256Pair<sbyte> weights, Vector256Pair<sbyte> negatedWeights)
        where TScheme : IInt8Scheme =>
        new(Int8AvxVnni.Dot<TScheme>(acc.Low, activations.Low, weights.Low, default), Int8AvxVnni.Dot<TScheme>(acc.High, activations.High, weights.High, default));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector256Pair<int> value) => Vector256.Sum(value.Low + value.High);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256Pair<int> value, int offset, ref int destination)
    {
        Int8AvxVnni.Store(value.Low, offset, ref destination);
        Int8AvxVnni.Store(value.High, offset, ref Unsafe.Add(ref destination, 8));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RowExcess<TScheme>(int rowSum) where TScheme : IInt8Scheme => Int8AvxVnni.RowExcess<TScheme>(rowSum);
}

/// <summary>128-bit tier: <c>psignb</c> + <c>pmaddubsw</c> (SSSE3) + <c>pmaddwd</c> (SSE2).</summary>
internal readonly struct Int8Ssse3 : IInt8Isa<Vector128<sbyte>, Vector128<int>>
{
    public static int Bytes => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> Load(ref sbyte source) => Vector128.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> BroadcastQuad(ref sbyte source) => Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref source))).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot<TScheme>(Vector128<int> acc, Vector128<sbyte> activations, Vector128<sbyte> weights, Vector128<sbyte> negatedWeights) where TScheme : IInt8Scheme
    {
        Vector128<short> pairs = TScheme.SignTransfer
            ? Ssse3.MultiplyAddAdjacent(Ssse3.Abs(activations), Ssse3.Sign(weights, activations))
            : Ssse3.MultiplyAddAdjacent(activations.AsByte(), weights);
        return acc + Sse2.MultiplyAddAdjacent(pairs, Vector128<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Sum(Vector128<int> value) => Vector128.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<int> value, int offset, ref int destination) => (value + Vector128.Create(offset)).StoreUnsafe(ref destination);
}

/// <summary>
/// The portable reference: a "vector" is one int holding four bytes and one int32 lane, so the drivers and packed
/// layouts are exactly those of the SIMD tiers, computed with plain integer arithmetic.
/// </summary>
internal readonly struct Int8Scalar : IInt8Isa<int, int>
{
    public static int Bytes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Load(ref sbyte source) => Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BroadcastQuad(ref sbyte source) => Load(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot<TScheme>(int acc, int activations, int weights, int negatedWeights) where TScheme : IInt8Scheme
    {
        for (int shift = 0; shift < 32; shift += 8)
        {
            int a = TScheme.SignTransfer ? (sbyte)(activations >> shift) : (byte)(activations >> shift);
            acc += a * (sbyte)(weights >> shift);
        }
        return acc;
    }

    public static int Sum(int value) => value;

    public static void Store(int value, int offset, ref int destination) => destination = value + offset;
}
