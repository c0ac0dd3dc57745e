using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>Pixel vectors per tile, as a type: a tile's loop is unrolled for it (the JIT drops the unused accumulators).</summary>
interface IVectorCount
{
    static abstract int Count { get; }
}

readonly struct OneVector : IVectorCount { public static int Count => 1; }

readonly struct TwoVectors : IVectorCount { public static int Count => 2; }

readonly struct ThreeVectors : IVectorCount { public static int Count => 3; }

readonly struct FourVectors : IVectorCount { public static int Count => 4; }

/// <summary>
/// The end of a tile of the vpdpbusd kernels that keep output channels × vectors of pixels in registers
/// (<see cref="Int8PointwiseConvolution"/>, <see cref="Int8SingleChannelConvolution"/>): one channel's vectors of
/// int32 sums to bytes, requantised in registers or stored for the scalar requantisation.
/// </summary>
static class Int8ChannelTiles
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> As256<TV>(TV value) where TV : struct => Unsafe.As<TV, Vector256<int>>(ref value);

    /// <summary>
    /// Requantises one channel's <typeparamref name="TCount"/> vectors of sums (offset included) into consecutive bytes
    /// at y: pairs of vectors as one 512-bit vector on the AVX-512 tier (<paramref name="wide"/>), four vectors clamped by
    /// saturating packs; one at a time on AVX2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Requantize<TCount>(Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, Vector256<int> s3, float scale, bool wide, bool signed,
        in Int8ByteRequantization.Bounds bounds, ref byte y)
        where TCount : IVectorCount
    {
        if (TCount.Count > 1 && wide && Avx512F.IsSupported)
        {
            var multiplier512 = Vector512.Create(scale);
            if (TCount.Count > 3 && Avx512DQ.IsSupported)
            {
                Int8ByteRequantization.Vector(s0, s1, s2, s3, multiplier512, bounds, signed, ref y);
                return;
            }
            Int8ByteRequantization.Vector(s0, s1, multiplier512, bounds, ref y);
            if (TCount.Count > 3) Int8ByteRequantization.Vector(s2, s3, multiplier512, bounds, ref Unsafe.Add(ref y, 16));
            else if (TCount.Count > 2) Int8ByteRequantization.Vector(s2, Vector256.Create(scale), bounds, ref Unsafe.Add(ref y, 16));
            return;
        }
        var multiplier = Vector256.Create(scale);
        Int8ByteRequantization.Vector(s0, multiplier, bounds, ref y);
        if (TCount.Count > 1) Int8ByteRequantization.Vector(s1, multiplier, bounds, ref Unsafe.Add(ref y, 8));
        if (TCount.Count > 2) Int8ByteRequantization.Vector(s2, multiplier, bounds, ref Unsafe.Add(ref y, 16));
        if (TCount.Count > 3) Int8ByteRequantization.Vector(s3, multiplier, bounds, ref Unsafe.Add(ref y, 24));
    }

    /// <summary>Stores one channel's vectors of sums side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Spill<TIsa, TV, TCount>(TV s0, TV s1, TV s2, TV s3, ref int destination) where TIsa : IInt8QuadDot<TV> where TV : struct where TCount : IVectorCount
    {
        TIsa.Store(s0, ref destination);
        if (TCount.Count > 1) TIsa.Store(s1, ref Unsafe.Add(ref destination, TIsa.Lanes));
        if (TCount.Count > 2) TIsa.Store(s2, ref Unsafe.Add(ref destination, 2 * TIsa.Lanes));
        if (TCount.Count > 3) TIsa.Store(s3, ref Unsafe.Add(ref destination, 3 * TIsa.Lanes));
    }
}
