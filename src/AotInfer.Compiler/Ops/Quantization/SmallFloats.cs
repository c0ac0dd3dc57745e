using System;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// The 8-bit and 4-bit float formats of ONNX (float8 e4m3fn/e4m3fnuz/e5m2/e5m2fnuz/e8m0, float4 e2m1), decoded and
/// encoded at compile time for constant folding. Generated code uses the kernels' <c>RawElementFormat</c> (this
/// project cannot reference the kernels); a test folds and runs the same QuantizeLinear to keep the two in step.
/// </summary>
internal static class SmallFloats
{
    /// <summary>True for the small float types handled here.</summary>
    public static bool IsSmallFloat(DataType type) => type is DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ or DataType.Float8E5M2
        or DataType.Float8E5M2FNUZ or DataType.Float8E8M0 or DataType.Float4E2M1;

    /// <summary>The value of one code (bit pattern in the low bits of <paramref name="code"/>).</summary>
    public static double Decode(DataType type, int code)
    {
        switch (type)
        {
            case DataType.Float8E4M3FN:
            {
                if ((code & 0x7F) == 0x7F) return double.NaN;
                return Compose(code >> 7, (code >> 3) & 0xF, code & 7, 3, 7);
            }
            case DataType.Float8E4M3FNUZ:
                return code == 0x80 ? double.NaN : Compose(code >> 7, (code >> 3) & 0xF, code & 7, 3, 8);
            case DataType.Float8E5M2:
            {
                int exponent = (code >> 2) & 0x1F, mantissa = code & 3;
                if (exponent == 31) return mantissa == 0 ? ((code >> 7) != 0 ? double.NegativeInfinity : double.PositiveInfinity) : double.NaN;
                return Compose(code >> 7, exponent, mantissa, 2, 15);
            }
            case DataType.Float8E5M2FNUZ:
                return code == 0x80 ? double.NaN : Compose(code >> 7, (code >> 2) & 0x1F, code & 3, 2, 16);
            case DataType.Float8E8M0:
                return code == 0xFF ? double.NaN : Math.Pow(2, code - 127);
            case DataType.Float4E2M1:
                return Compose((code >> 3) & 1, (code >> 1) & 3, code & 1, 1, 1);
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "not a small float type");
        }
    }

    static double Compose(int sign, int exponent, int mantissa, int mantissaBits, int bias)
    {
        double scale = 1 << mantissaBits;
        double magnitude = exponent == 0
            ? mantissa / scale * Math.Pow(2, 1 - bias)
            : (1 + mantissa / scale) * Math.Pow(2, exponent - bias);
        return sign != 0 ? -magnitude : magnitude;
    }

    /// <summary>
    /// The code nearest to <paramref name="value"/> (ties to the even code, as IEEE rounding does). Values that round
    /// beyond the largest finite value become ±max when <paramref name="saturate"/> (always for float4e2m1), else
    /// infinity (e5m2) or NaN; negative values keep the sign, also when they round to zero (except in the fnuz types).
    /// </summary>
    public static int Encode(DataType type, double value, bool saturate)
    {
        int codes = type == DataType.Float4E2M1 ? 16 : 256;
        // e8m0 has no sign bit: its 255 codes are all positive powers of two (and NaN).
        int signBit = type == DataType.Float8E8M0 ? 0 : codes / 2, positiveCodes = signBit == 0 ? codes : signBit;
        if (double.IsNaN(value)) return NaNCode(type, codes);
        // The magnitude is rounded among the non-negative codes and the sign bit set afterwards.
        bool negative = signBit != 0 && (value < 0 || (value == 0 && 1 / value < 0));
        double magnitude = Math.Abs(value);
        // A value overflows when it rounds past the largest finite magnitude: beyond it by half the top binade's
        // spacing, or exactly half when the largest code is odd (the tie goes to the next, unrepresentable, code).
        double max = 0, belowMax = 0;
        int maxCode = 0;
        for (int code = 0; code < positiveCodes; code++)
        {
            double v = Decode(type, code);
            if (double.IsNaN(v) || double.IsInfinity(v)) continue;
            if (v > max) { belowMax = max; max = v; maxCode = code; }
            else if (v > belowMax) belowMax = v;
        }
        double limit = max + (max - belowMax) / 2;
        if (magnitude > limit || (magnitude == limit && (maxCode & 1) == 1))
        {
            if (saturate || type == DataType.Float4E2M1) return negative ? maxCode | signBit : maxCode;
            if (type == DataType.Float8E5M2) return negative ? 0xFC : 0x7C;
            return type == DataType.Float8E4M3FN && negative ? 0xFF : NaNCode(type, codes);
        }
        int best = 0;
        double bestDistance = double.PositiveInfinity;
        for (int code = 0; code < positiveCodes; code++)
        {
            double v = Decode(type, code);
            if (double.IsNaN(v) || double.IsInfinity(v)) continue;
            double distance = Math.Abs(v - magnitude);
            if (distance < bestDistance || (distance == bestDistance && (code & 1) == 0))
            {
                best = code;
                bestDistance = distance;
            }
        }
        // The fnuz types have no negative zero (their 0x80 is NaN).
        bool hasNegativeZero = signBit != 0 && !double.IsNaN(Decode(type, signBit));
        return negative && (best != 0 || hasNegativeZero) ? best | signBit : best;
    }

    /// <summary>The code NaN encodes to, as the ONNX reference writes it (float4e2m1 has no NaN: 0x8, negative zero).</summary>
    static int NaNCode(DataType type, int codes) => type switch
    {
        DataType.Float8E4M3FN => 0x7F,
        DataType.Float8E5M2 => 0x7E,
        DataType.Float8E8M0 => 0xFF,
        DataType.Float4E2M1 => 0x8,
        _ => codes / 2,
    };
}
