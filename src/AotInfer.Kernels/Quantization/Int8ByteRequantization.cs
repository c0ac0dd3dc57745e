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
    /// False when a multiplier is infinite or NaN (a zero output scale): the vector clamp treats NaN unlike the
    /// scalar reference, so those layers requantise one value at a time.
    /// </summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float value in values)
            if (!float.IsFinite(value)) return false;
        return true;
    }
}
