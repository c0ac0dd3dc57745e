using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// One instruction-set tier of <see cref="Int8WinogradF2x3"/>: a vector of int32 lanes, one Winograd tile per lane.
/// The input transform and the multiply treat each lane as two int16 values, the two channels of a channel pair (the
/// multiply: <c>vpmaddwd</c>'s contract (exact: |U'| ≤ 2295 and |V| ≤ 1020, so a pair
/// sums to at most 4.7 million, far from int16 × int16 saturation); the output transform treats it as one int32.
/// </summary>
internal interface IWinogradLanes<TV> where TV : struct
{
    /// <summary>int32 lanes (tiles) per vector.</summary>
    static abstract int Lanes { get; }

    static abstract TV Load(ref int source);

    static abstract void Store(TV value, ref int destination);

    static abstract TV Broadcast(int value);

    static abstract TV Add(TV a, TV b);

    static abstract TV Subtract(TV a, TV b);

    /// <summary>a + b in each int16 half of each lane (two channels of a pair at once).</summary>
    static abstract TV Add16(TV a, TV b);

    /// <summary>a − b in each int16 half of each lane.</summary>
    static abstract TV Subtract16(TV a, TV b);

    /// <summary>Each lane divided by 4, exactly (an arithmetic shift: the values are multiples of 4).</summary>
    static abstract TV Quarter(TV value);

    /// <summary>acc + per lane the two int16 products of <paramref name="a"/> and <paramref name="b"/>, summed.</summary>
    static abstract TV PairDot(TV acc, TV a, TV b);

    /// <summary>a0 b0 a1 b1 …: the first <see cref="Lanes"/> into <paramref name="first"/>, the rest into <paramref name="second"/>.</summary>
    static abstract void Interleave(TV a, TV b, out TV first, out TV second);
}

/// <summary>512-bit lanes: <c>vpmaddwd</c> on AVX-512BW.</summary>
internal readonly struct WinogradLanes512 : IWinogradLanes<Vector512<int>>
{
    public static int Lanes => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Load(ref int source) => Vector512.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<int> value, ref int destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Broadcast(int value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Add(Vector512<int> a, Vector512<int> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Subtract(Vector512<int> a, Vector512<int> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Add16(Vector512<int> a, Vector512<int> b) => (a.AsInt16() + b.AsInt16()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Subtract16(Vector512<int> a, Vector512<int> b) => (a.AsInt16() - b.AsInt16()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Quarter(Vector512<int> value) => Vector512.ShiftRightArithmetic(value, 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> PairDot(Vector512<int> acc, Vector512<int> a, Vector512<int> b) => acc + Avx512BW.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector512<int> a, Vector512<int> b, out Vector512<int> first, out Vector512<int> second)
    {
        // vpermt2d: index i < 16 picks a[i], 16 + i picks b[i].
        first = Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
        second = Avx512F.PermuteVar16x32x2(a, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b);
    }
}

/// <summary>256-bit lanes: <c>vpmaddwd</c> on AVX2.</summary>
internal readonly struct WinogradLanes256 : IWinogradLanes<Vector256<int>>
{
    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Load(ref int source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<int> value, ref int destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Broadcast(int value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> a, Vector256<int> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Subtract(Vector256<int> a, Vector256<int> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add16(Vector256<int> a, Vector256<int> b) => (a.AsInt16() + b.AsInt16()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Subtract16(Vector256<int> a, Vector256<int> b) => (a.AsInt16() - b.AsInt16()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Quarter(Vector256<int> value) => Vector256.ShiftRightArithmetic(value, 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> PairDot(Vector256<int> acc, Vector256<int> a, Vector256<int> b) => acc + Avx2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector256<int> a, Vector256<int> b, out Vector256<int> first, out Vector256<int> second)
    {
        // vpunpckl/hdq interleave within each 128-bit half; vperm2i128 puts the halves in order.
        Vector256<int> low = Avx2.UnpackLow(a, b), high = Avx2.UnpackHigh(a, b);
        first = Avx2.Permute2x128(low, high, 0x20);
        second = Avx2.Permute2x128(low, high, 0x31);
    }
}

/// <summary><see cref="WinogradLanes256"/> with AVX-VNNI's <c>vpdpwssd</c>: the pair products added in one instruction.</summary>
internal readonly struct WinogradLanes256Vnni : IWinogradLanes<Vector256<int>>
{
    public static int Lanes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Load(ref int source) => WinogradLanes256.Load(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<int> value, ref int destination) => WinogradLanes256.Store(value, ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Broadcast(int value) => WinogradLanes256.Broadcast(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add(Vector256<int> a, Vector256<int> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Subtract(Vector256<int> a, Vector256<int> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Add16(Vector256<int> a, Vector256<int> b) => WinogradLanes256.Add16(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Subtract16(Vector256<int> a, Vector256<int> b) => WinogradLanes256.Subtract16(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Quarter(Vector256<int> value) => WinogradLanes256.Quarter(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> PairDot(Vector256<int> acc, Vector256<int> a, Vector256<int> b) => AvxVnni.MultiplyWideningAndAdd(acc, a.AsInt16(), b.AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector256<int> a, Vector256<int> b, out Vector256<int> first, out Vector256<int> second) =>
        WinogradLanes256.Interleave(a, b, out first, out second);
}

/// <summary>128-bit lanes: <c>pmaddwd</c> on SSE2 (also the transforms of narrow images on the wider tiers).</summary>
internal readonly struct WinogradLanes128 : IWinogradLanes<Vector128<int>>
{
    public static int Lanes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Load(ref int source) => Vector128.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<int> value, ref int destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Broadcast(int value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Add(Vector128<int> a, Vector128<int> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Subtract(Vector128<int> a, Vector128<int> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Add16(Vector128<int> a, Vector128<int> b) => (a.AsInt16() + b.AsInt16()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Subtract16(Vector128<int> a, Vector128<int> b) => (a.AsInt16() - b.AsInt16()).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Quarter(Vector128<int> value) => Vector128.ShiftRightArithmetic(value, 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> PairDot(Vector128<int> acc, Vector128<int> a, Vector128<int> b) => acc + Sse2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector128<int> a, Vector128<int> b, out Vector128<int> first, out Vector128<int> second)
    {
        first = Sse2.UnpackLow(a, b);
        second = Sse2.UnpackHigh(a, b);
    }
}

/// <summary>The portable reference: one int lane, the same layouts and arithmetic as the SIMD tiers.</summary>
internal readonly struct WinogradLanesScalar : IWinogradLanes<int>
{
    public static int Lanes => 1;

    public static int Load(ref int source) => source;

    public static void Store(int value, ref int destination) => destination = value;

    public static int Broadcast(int value) => value;

    public static int Add(int a, int b) => a + b;

    public static int Subtract(int a, int b) => a - b;

    public static int Add16(int a, int b) => (ushort)(a + b) | (a >> 16) + (b >> 16) << 16;

    public static int Subtract16(int a, int b) => (ushort)(a - b) | (a >> 16) - (b >> 16) << 16;

    public static int Quarter(int value) => value >> 2;

    public static int PairDot(int acc, int a, int b) => acc + (short)a * (short)b + (a >> 16) * (b >> 16);

    public static void Interleave(int a, int b, out int first, out int second)
    {
        first = a;
        second = b;
    }
}
