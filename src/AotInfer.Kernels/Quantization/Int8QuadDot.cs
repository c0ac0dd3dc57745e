using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// One instruction-set tier of <see cref="Int8DirectConvolution"/>: a vector of int32 lanes, each lane the dot product
/// of four unsigned activation bytes with four signed weight bytes (the <c>vpdpbusd</c> contract), exact for every
/// u8 × s8 value — unlike <see cref="IInt8Isa{TBytes, TInts}"/>, whose <c>vpmaddubsw</c> saturates int16 pairs.
/// </summary>
internal interface IInt8QuadDot<TV> where TV : struct
{
    /// <summary>int32 lanes per vector (output pixels per vector).</summary>
    static abstract int Lanes { get; }

    /// <summary><see cref="Lanes"/> quads of activation bytes.</summary>
    static abstract TV Load(ref int source);

    /// <summary>Lanes/2 quads from <paramref name="low"/> in the lower half, Lanes/2 from <paramref name="high"/> in the upper.</summary>
    static abstract TV LoadHalves(ref int low, ref int high);

    /// <summary>The weight quad (four sbytes) at <paramref name="source"/> in every lane.</summary>
    static abstract TV Broadcast(ref int source);

    /// <summary>acc + per lane Σ_i activations.byte[i] (unsigned) · weights.byte[i] (signed).</summary>
    static abstract TV Dot(TV acc, TV activations, TV weights);

    static abstract void Store(TV value, ref int destination);
}

/// <summary>AVX-VNNI: one 256-bit <c>vpdpbusd</c> per eight lanes.</summary>
internal readonly struct QuadDotAvxVnni : IInt8QuadDot<Vector256<int>>
{
    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Load(ref int source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> LoadHalves(ref int low, ref int high) => Vector256.Create(Vector128.LoadUnsafe(ref low), Vector128.LoadUnsafe(ref high));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Broadcast(ref int source) => Vector256.Create(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<int> activations, Vector256<int> weights) =>
        AvxVnni.MultiplyWideningAndAdd(acc, activations.AsByte(), weights.AsSByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<int> value, ref int destination) => value.StoreUnsafe(ref destination);
}

/// <summary>
/// AVX2 without VNNI: the bytes widened to int16 in place (even bytes masked or sign-extended by shifts, odd bytes
/// shifted down), then two <c>vpmaddwd</c>: exact, since 255·128·2 fits int32 easily.
/// </summary>
internal readonly struct QuadDotAvx2 : IInt8QuadDot<Vector256<int>>
{
    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Load(ref int source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> LoadHalves(ref int low, ref int high) => Vector256.Create(Vector128.LoadUnsafe(ref low), Vector128.LoadUnsafe(ref high));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Broadcast(ref int source) => Vector256.Create(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<int> activations, Vector256<int> weights)
    {
        Vector256<short> a = activations.AsInt16(), w = weights.AsInt16();
        Vector256<short> evenA = a & Vector256.Create((short)0xFF), oddA = Avx2.ShiftRightLogical(a, 8);
        Vector256<short> evenW = Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(w, 8), 8), oddW = Avx2.ShiftRightArithmetic(w, 8);
        return acc + Avx2.MultiplyAddAdjacent(evenA, evenW) + Avx2.MultiplyAddAdjacent(oddA, oddW);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<int> value, ref int destination) => value.StoreUnsafe(ref destination);
}

/// <summary>SSE2: <see cref="QuadDotAvx2"/> on 128-bit vectors.</summary>
internal readonly struct QuadDotSse2 : IInt8QuadDot<Vector128<int>>
{
    public static int Lanes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Load(ref int source) => Vector128.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> LoadHalves(ref int low, ref int high) => Vector128.Create(Vector64.LoadUnsafe(ref low), Vector64.LoadUnsafe(ref high));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Broadcast(ref int source) => Vector128.Create(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Dot(Vector128<int> acc, Vector128<int> activations, Vector128<int> weights)
    {
        Vector128<short> a = activations.AsInt16(), w = weights.AsInt16();
        Vector128<short> evenA = a & Vector128.Create((short)0xFF), oddA = Sse2.ShiftRightLogical(a, 8);
        Vector128<short> evenW = Sse2.ShiftRightArithmetic(Sse2.ShiftLeftLogical(w, 8), 8), oddW = Sse2.ShiftRightArithmetic(w, 8);
        return acc + Sse2.MultiplyAddAdjacent(evenA, evenW) + Sse2.MultiplyAddAdjacent(oddA, oddW);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<int> value, ref int destination) => value.StoreUnsafe(ref destination);
}

/// <summary>The portable reference: one lane, four byte products in plain integer arithmetic.</summary>
internal readonly struct QuadDotScalar : IInt8QuadDot<int>
{
    public static int Lanes => 1;

    public static int Load(ref int source) => source;

    /// <summary>One lane has no halves: never called (row pairs need two lanes or more).</summary>
    public static int LoadHalves(ref int low, ref int high) => low;

    public static int Broadcast(ref int source) => source;

    public static int Dot(int acc, int activations, int weights)
    {
        for (int shift = 0; shift < 32; shift += 8) acc += (byte)(activations >> shift) * (sbyte)(weights >> shift);
        return acc;
    }

    public static void Store(int value, ref int destination) => destination = value;
}
