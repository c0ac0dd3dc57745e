using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// The vector operations of <see cref="ChannelBlockedConvolution"/> for one instruction-set tier: a vector holds
/// <see cref="Lanes"/> consecutive output channels of one pixel. The kernel is written once, generic over this
/// interface; the JIT specialises it per struct, so each tier compiles to its own straight-line code.
/// </summary>
internal unsafe interface IChannelVector<TVector> where TVector : struct
{
    /// <summary>Output channels per vector (the channel block of the packed filter).</summary>
    static abstract int Lanes { get; }

    /// <summary>
    /// Pixels per tile when two channel blocks are computed at once: 2 × pixels accumulators, two weight vectors and
    /// one broadcast must fit the register file (32 zmm with AVX-512, 16 ymm/xmm otherwise).
    /// </summary>
    static abstract int MaxPixels { get; }

    static abstract TVector Load(float* source);

    /// <summary>
    /// The first <paramref name="count"/> floats at <paramref name="source"/> (4, 8 or <see cref="Lanes"/>), the other lanes
    /// zero: a compact last channel block (<see cref="WinogradChannelFilter.TailLanes"/>) read into a full vector.
    /// </summary>
    static abstract TVector LoadLow(float* source, int count);
    static abstract TVector Broadcast(float value);
    static abstract TVector MultiplyAdd(TVector left, TVector right, TVector addend);
    static abstract TVector Add(TVector left, TVector right);
    static abstract TVector Subtract(TVector left, TVector right);
    static abstract void Store(TVector value, float* destination);

    /// <summary>The lane-wise maximum, NaN-propagating like MaxPool.</summary>
    static abstract TVector Max(TVector left, TVector right);

    /// <summary>min(max(value, low), high), a NaN in <paramref name="value"/> passed through (vmaxps/vminps take it as their second operand).</summary>
    static abstract TVector Clamp(TVector value, TVector low, TVector high);
}

/// <summary>AVX-512: 16 channels per zmm, 8 pixels × 2 blocks = 16 accumulators.</summary>
internal readonly unsafe struct ChannelVector512 : IChannelVector<Vector512<float>>
{
    public static int Lanes => 16;
    public static int MaxPixels => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* source) => Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadLow(float* source, int count) =>
        count == 4 ? Vector128.Load(source).ToVector256().ToVector512() : count == 8 ? Vector256.Load(source).ToVector512() : Vector512.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) => Vector512.FusedMultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> left, Vector512<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, float* destination) => Vector512.Store(value, destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> left, Vector512<float> right) => Vector512.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Clamp(Vector512<float> value, Vector512<float> low, Vector512<float> high) => Vector512.MinNative(high, Vector512.MaxNative(low, value));
}

/// <summary>AVX2 + FMA: 8 channels per ymm, 6 pixels × 2 blocks = 12 accumulators of the 16 registers.</summary>
internal readonly unsafe struct ChannelVector256 : IChannelVector<Vector256<float>>
{
    public static int Lanes => 8;
    public static int MaxPixels => 6;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* source) => Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadLow(float* source, int count) => count == 4 ? Vector128.Load(source).ToVector256() : Vector256.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) => Vector256.FusedMultiplyAdd(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> left, Vector256<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, float* destination) => Vector256.Store(value, destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> left, Vector256<float> right) => Vector256.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Clamp(Vector256<float> value, Vector256<float> low, Vector256<float> high) => Vector256.MinNative(high, Vector256.MaxNative(low, value));
}

/// <summary>SSE / NEON: 4 channels per vector; multiply-add fused where the CPU has it.</summary>
internal readonly unsafe struct ChannelVector128 : IChannelVector<Vector128<float>>
{
    public static int Lanes => 4;
    public static int MaxPixels => 6;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* source) => Vector128.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> LoadLow(float* source, int count) => Vector128.Load(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) => Vector128.MultiplyAddEstimate(left, right, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, float* destination) => Vector128.Store(value, destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> left, Vector128<float> right) => Vector128.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Clamp(Vector128<float> value, Vector128<float> low, Vector128<float> high) => Vector128.MinNative(high, Vector128.MaxNative(low, value));
}

/// <summary>The portable reference: one channel per "vector".</summary>
internal readonly unsafe struct ChannelScalar : IChannelVector<float>
{
    public static int Lanes => 1;
    public static int MaxPixels => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(float* source) => *source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float LoadLow(float* source, int count) => *source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float left, float right, float addend) => left * right + addend;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float left, float right) => left + right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float left, float right) => left - right;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, float* destination) => *destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float left, float right) => MathF.Max(left, right);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Clamp(float value, float low, float high) => float.IsNaN(value) ? value : Math.Min(Math.Max(value, low), high);
}
