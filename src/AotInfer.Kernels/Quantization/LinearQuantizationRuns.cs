using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The vector paths of <see cref="LinearQuantization"/>: float ↔ u8/s8 over a run of elements sharing one scale and
/// zero point (a whole per-tensor tensor, or one channel's plane). Bit-exact with the scalar code: the same float
/// division or multiplication, round half to even, NaN to the type's minimum, saturation. A run's last vector
/// overlaps the one before instead of leaving a scalar tail; runs shorter than a vector are left to the caller.
/// </summary>
internal static class LinearQuantizationRuns
{
    const int Lanes = 16;

    /// <summary>y[i] = saturate(round_half_even(x[i] / scale) + zero) for the whole run; false (nothing done) when it is too short or no tier applies.</summary>
    public static bool Quantize(ReadOnlySpan<float> x, float scale, int zero, Span<byte> y, bool signed)
    {
        int count = x.Length;
        var tier = QuantizedMatrixMultiply.Tier;
        if (count < Lanes || tier < QuantizedGemmTier.Vector128 || !Vector128.IsHardwareAccelerated) return false;
        // Clamping the quotient to [min − zero, max − zero] (integral) before rounding equals clamping after it, and
        // keeps the float-to-int conversion in range.
        float low = (signed ? -128 : 0) - zero, high = (signed ? 127 : 255) - zero;
        ref float source = ref MemoryMarshal.GetReference(x);
        ref byte destination = ref MemoryMarshal.GetReference(y);
        if (tier >= QuantizedGemmTier.Avx512BW && Avx512F.IsSupported)
        {
            var divisor = Vector512.Create(scale);
            var lowest = Vector512.Create(low);
            var highest = Vector512.Create(high);
            var offset = Vector512.Create(zero);
            for (int i = 0; ; i += Lanes)
            {
                if (i > count - Lanes) i = count - Lanes;
                // vmaxps returns its second operand when either is NaN, so a NaN quotient becomes the minimum.
                var clamped = Avx512F.Min(Avx512F.Max(Vector512.LoadUnsafe(ref source, (nuint)i) / divisor, lowest), highest);
                var values = Avx512F.ConvertToVector512Int32(clamped) + offset; // vcvtps2dq: round half to even
                (signed ? Avx512F.ConvertToVector128SByte(values).AsByte() : Avx512F.ConvertToVector128Byte(values)).StoreUnsafe(ref destination, (nuint)i);
                if (i == count - Lanes) break;
            }
            return true;
        }
        var divisor128 = Vector128.Create(scale);
        var low128 = Vector128.Create(low);
        var high128 = Vector128.Create(high);
        var zero128 = Vector128.Create(zero);
        for (int i = 0; ; i += Lanes)
        {
            if (i > count - Lanes) i = count - Lanes;
            var words0 = Vector128.Narrow(Quantize128(ref source, i, divisor128, low128, high128, zero128), Quantize128(ref source, i + 4, divisor128, low128, high128, zero128));
            var words1 = Vector128.Narrow(Quantize128(ref source, i + 8, divisor128, low128, high128, zero128), Quantize128(ref source, i + 12, divisor128, low128, high128, zero128));
            (signed ? Vector128.Narrow(words0, words1).AsByte() : Vector128.Narrow(words0.AsUInt16(), words1.AsUInt16())).StoreUnsafe(ref destination, (nuint)i);
            if (i == count - Lanes) break;
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<int> Quantize128(ref float source, int at, Vector128<float> divisor, Vector128<float> low, Vector128<float> high, Vector128<int> zero)
    {
        var quotient = Vector128.LoadUnsafe(ref source, (nuint)at) / divisor;
        quotient = Vector128.ConditionalSelect(Vector128.Equals(quotient, quotient), quotient, low);
        return Vector128.ConvertToInt32(Vector128.Round(Vector128.Clamp(quotient, low, high))) + zero;
    }

    /// <summary>y[i] = (x[i] − zero) · scale for the whole run; false (nothing done) when it is too short or no tier applies.</summary>
    public static bool Dequantize(ReadOnlySpan<byte> x, bool signed, int zero, float scale, Span<float> y)
    {
        int count = x.Length;
        var tier = QuantizedMatrixMultiply.Tier;
        if (count < Lanes || tier < QuantizedGemmTier.Vector128 || !Vector128.IsHardwareAccelerated) return false;
        ref byte source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(y);
        if (tier >= QuantizedGemmTier.Avx512BW && Avx512F.IsSupported)
        {
            var factor = Vector512.Create(scale);
            var offset = Vector512.Create(zero);
            for (int i = 0; ; i += Lanes)
            {
                if (i > count - Lanes) i = count - Lanes;
                Vector128<byte> raw = Vector128.LoadUnsafe(ref source, (nuint)i);
                Vector512<int> values = signed ? Avx512F.ConvertToVector512Int32(raw.AsSByte()) : Avx512F.ConvertToVector512Int32(raw);
                (Vector512.ConvertToSingle(values - offset) * factor).StoreUnsafe(ref destination, (nuint)i);
                if (i == count - Lanes) break;
            }
            return true;
        }
        var factor128 = Vector128.Create(scale);
        var zero128 = Vector128.Create(zero);
        for (int i = 0; ; i += Lanes)
        {
            if (i > count - Lanes) i = count - Lanes;
            Vector128<byte> raw = Vector128.LoadUnsafe(ref source, (nuint)i);
            var (a, b, c, d) = Widen(raw, signed);
            (Vector128.ConvertToSingle(a - zero128) * factor128).StoreUnsafe(ref destination, (nuint)i);
            (Vector128.ConvertToSingle(b - zero128) * factor128).StoreUnsafe(ref destination, (nuint)i + 4);
            (Vector128.ConvertToSingle(c - zero128) * factor128).StoreUnsafe(ref destination, (nuint)i + 8);
            (Vector128.ConvertToSingle(d - zero128) * factor128).StoreUnsafe(ref destination, (nuint)i + 12);
            if (i == count - Lanes) break;
        }
        return true;
    }

    /// <summary>Sixteen u8 or s8 values widened to four vectors of int32, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<int>, Vector128<int>, Vector128<int>, Vector128<int>) Widen(Vector128<byte> raw, bool signed)
    {
        if (signed)
        {
            Vector128<short> low = Vector128.WidenLower(raw.AsSByte()), high = Vector128.WidenUpper(raw.AsSByte());
            return (Vector128.WidenLower(low), Vector128.WidenUpper(low), Vector128.WidenLower(high), Vector128.WidenUpper(high));
        }
        Vector128<ushort> lowWords = Vector128.WidenLower(raw), highWords = Vector128.WidenUpper(raw);
        return (Vector128.WidenLower(lowWords).AsInt32(), Vector128.WidenUpper(lowWords).AsInt32(), Vector128.WidenLower(highWords).AsInt32(), Vector128.WidenUpper(highWords).AsInt32());
    }
}
