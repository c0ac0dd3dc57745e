using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The requantisation of the direct int8 convolutions (<see cref="Int8DirectConvolution"/>,
/// <see cref="Int8PointwiseConvolution"/>) from int32 sums in registers to u8/s8: <see cref="Requantization.ToInteger{TOut}"/>'s
/// arithmetic, value for value — sum · multiplier, clamped to the output range less the zero point, rounded half to
/// even, plus the zero point.
/// </summary>
internal static class Int8ByteRequantization
{
    /// <summary>The constants as vectors: the output range less the zero point (float), and the zero point.</summary>
    public readonly struct Bounds(int zeroPoint, bool signed)
    {
        public readonly Vector256<float> Low = Vector256.Create((float)((signed ? -128 : 0) - zeroPoint));
        public readonly Vector256<float> High = Vector256.Create((float)((signed ? 127 : 255) - zeroPoint));
        public readonly Vector256<int> Zero = Vector256.Create(zeroPoint);
        public readonly Vector512<float> Low512 = Vector512.Create((float)((signed ? -128 : 0) - zeroPoint));
        public readonly Vector512<float> High512 = Vector512.Create((float)((signed ? 127 : 255) - zeroPoint));
        public readonly Vector512<int> Zero512 = Vector512.Create(zeroPoint);
    }

    /// <summary>One value (the sum already includes its offset).</summary>
    public static byte Scalar(int sum, float multiplier, int zeroPoint, bool signed)
    {
        float value = Math.Clamp(sum * multiplier, (signed ? -128 : 0) - zeroPoint, (signed ? 127 : 255) - zeroPoint);
        return (byte)((int)MathF.Round(value, MidpointRounding.ToEven) + zeroPoint);
    }

    /// <summary><see cref="Vector(Vector256{int}, Vector256{float}, in Bounds, ref byte)"/> of sums + offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector(Vector256<int> sums, Vector256<int> offset, Vector256<float> multiplier, in Bounds bounds, ref byte destination) =>
        Vector(sums + offset, multiplier, bounds, ref destination);

    /// <summary>
    /// <see cref="Scalar"/> for eight values, stored as eight bytes: the bounds are integers, so clamping before
    /// rounding equals clamping after, and the clamped values narrow to bytes without saturation (signed or not, the
    /// low byte is right).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector(Vector256<int> sums, Vector256<float> multiplier, in Bounds bounds, ref byte destination)
    {
        Vector256<float> value = Vector256.ConvertToSingle(sums) * multiplier;
        value = Vector256.MinNative(Vector256.MaxNative(value, bounds.Low), bounds.High);
        // vcvtps2dq rounds half to even in the default rounding mode: no separate round.
        Vector256<int> rounded = (Avx.IsSupported ? Avx.ConvertToVector256Int32(value) : Vector256.ConvertToInt32Native(Vector256.Round(value))) + bounds.Zero;
        if (Avx512F.VL.IsSupported)
        {
            // vpmovdb: one instruction keeps each lane's low byte.
            Unsafe.WriteUnaligned(ref destination, Avx512F.VL.ConvertToVector128Byte(rounded).AsUInt64().ToScalar());
            return;
        }
        Vector128<ushort> words = Vector128.Narrow(rounded.GetLower(), rounded.GetUpper()).AsUInt16();
        Unsafe.WriteUnaligned(ref destination, Vector128.Narrow(words, words).AsUInt64().ToScalar());
    }

    /// <summary>
    /// <see cref="Vector(Vector256{int}, Vector256{float}, in Bounds, ref byte)"/> for two vectors of eight sums at once
    /// (<paramref name="low"/>'s bytes first), on AVX-512: half the instructions. (One vinserti64x4 joins the halves:
    /// Vector512.Create(low, high) compiles to three instructions.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector(Vector256<int> low, Vector256<int> high, Vector512<float> multiplier, in Bounds bounds, ref byte destination)
    {
        Vector512<float> value = Avx512F.ConvertToVector512Single(Avx512F.InsertVector256(low.ToVector512Unsafe(), high, 1)) * multiplier;
        value = Avx512F.Min(Avx512F.Max(value, bounds.Low512), bounds.High512);
        Vector512<int> rounded = Avx512F.ConvertToVector512Int32(value) + bounds.Zero512;
        Avx512F.ConvertToVector128Byte(rounded).StoreUnsafe(ref destination);
    }

    /// <summary>
    /// <see cref="Vector(Vector256{int}, Vector256{int}, Vector512{float}, in Bounds, ref byte)"/> for four vectors of
    /// eight sums (32 bytes, <paramref name="s0"/>'s first) with the clamp done by saturating packs instead of a float
    /// min and max and a <c>vpmovdb</c> per pair: 16 instructions for 32 values instead of 20. Clamping after rounding
    /// equals clamping before (the bounds are integers); <c>vrangeps</c> first caps |value| at 2³⁰ keeping its sign, so
    /// the conversion cannot overflow (it would give int.MinValue for a large positive value) and neither can adding the
    /// zero point, and a capped value saturates to the same bound as the value itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Vector(Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, Vector256<int> s3, Vector512<float> multiplier, in Bounds bounds, bool signed,
        ref byte destination)
    {
        Vector512<short> words = Avx512BW.PackSignedSaturate(Unclamped(s0, s1, multiplier, bounds), Unclamped(s2, s3, multiplier, bounds));
        Vector512<byte> bytes = signed ? Avx512BW.PackSignedSaturate(words, words).AsByte() : Avx512BW.PackUnsignedSaturate(words, words);
        // Each 128-bit lane k now holds four values of each of the two sources in its first two ints (s0/s1's pixels
        // 4k…4k+3, then s2/s3's), twice: gather the ints in pixel order into the lower 256 bits.
        Avx512F.PermuteVar16x32(bytes.AsInt32(), Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)).GetLower().AsByte().StoreUnsafe(ref destination);
    }

    /// <summary>
    /// <see cref="Vector(Vector256{int}, Vector256{int}, Vector256{int}, Vector256{int}, Vector512{float}, in Bounds, bool, ref byte)"/>
    /// for eight vectors of sums of a block of 64 pixels in lane order (<see cref="Convolution.QuadInterleavedImage.InterleaveLaneOrder"/>:
    /// s<i>v</i>'s lane i is the pixel at int 8v + i of the block, that is pixel 16k + 4j + i' for int 16j + 4k + i'), stored as
    /// the block's 64 bytes in pixel order. The packs join their two sources 128-bit lane by lane: int 4L + m of the
    /// packed bytes comes from the pair of vectors m, lane L, which in lane order holds pixels 16L + 4m … 16L + 4m + 3,
    /// the pixels of int 4L + m itself. So the packs that clamp the values also put them in order, with no permute.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LaneOrderBlock(Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, Vector256<int> s3, Vector256<int> s4, Vector256<int> s5,
        Vector256<int> s6, Vector256<int> s7, Vector512<float> multiplier, in Bounds bounds, bool signed, ref byte destination)
    {
        Vector512<short> low = Avx512BW.PackSignedSaturate(Unclamped(s0, s1, multiplier, bounds), Unclamped(s2, s3, multiplier, bounds));
        Vector512<short> high = Avx512BW.PackSignedSaturate(Unclamped(s4, s5, multiplier, bounds), Unclamped(s6, s7, multiplier, bounds));
        Vector512<byte> bytes = signed ? Avx512BW.PackSignedSaturate(low, high).AsByte() : Avx512BW.PackUnsignedSaturate(low, high);
        bytes.StoreUnsafe(ref destination);
    }

    /// <summary>round_half_even(sums · multiplier) + zero point for 16 sums, |sums · multiplier| capped at 2³⁰ first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Unclamped(Vector256<int> low, Vector256<int> high, Vector512<float> multiplier, in Bounds bounds)
    {
        Vector512<float> value = Avx512F.ConvertToVector512Single(Avx512F.InsertVector256(low.ToVector512Unsafe(), high, 1)) * multiplier;
        // vrangeps imm 0b0010: the operand of smaller magnitude, with the sign of the first.
        value = Avx512DQ.Range(value, Vector512.Create(1073741824f), 0b0010);
        return Avx512F.ConvertToVector512Int32(value) + bounds.Zero512;
    }

    /// <summary>
    /// False when a multiplier is infinite or NaN (a zero output scale): the vector clamp treats NaN unlike the
    /// scalar reference, so those layers requantise one value at a time.
    /// </summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // v − v is 0 for a finite v and NaN for ±∞ and NaN, which compares unequal to 0: eight at a time, since every
            // call of a layer checks its multipliers.
            ref float v0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(values);
            for (; i + 8 <= values.Length; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref v0, (nuint)i);
                if (!Vector256.EqualsAll(v - v, Vector256<float>.Zero)) return false;
            }
        }
        for (; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return false;
        return true;
    }
}
