using System;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// The 8-bit and 4-bit float formats of ONNX (float8 e4m3fn/e4m3fnuz/e5m2/e5m2fnuz/e8m0, float4 e2m1), decoded and
/// encoded at compile time only: generated code cannot hold them, but quantised constants of these types fold.
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
    /// The code nearest to <paramref name="value"/> (ties to the even code, as IEEE rounding does). Out-of-range
    /// values become the largest finite value when <paramref name="saturate"/>, else infinity (e5m2) or NaN.
    /// </summary>
    public static int Encode(DataType type, double value, bool saturate)
    {
        int codes = type == DataType.Float4E2M1 ? 16 : 256;
        if (double.IsNaN(value)) return NaNCode(type, codes);
        int best = -1;
        double bestDistance = double.PositiveInfinity, maxFinite = 0;
        for (int code = 0; code < codes; code++)
        {
            double v = Decode(type, code);
            if (double.IsNaN(v) || double.IsInfinity(v)) continue;
            maxFinite = Math.Max(maxFinite, Math.Abs(v));
            double distance = Math.Abs(v - value);
            if (distance < bestDistance || (distance == bestDistance && (code & 1) == 0 && (best & 1) == 1))
            {
                best = code;
                bestDistance = distance;
            }
        }
        if (!saturate && Math.Abs(value) > maxFinite && Math.Abs(Decode(type, best)) == maxFinite && bestDistance > 0)
        {
            if (type == DataType.Float8E5M2) return value > 0 ? 0x7C : 0xFC;
            return NaNCode(type, codes);
        }
        return best;
    }

    static int NaNCode(DataType type, int codes)
    {
        for (int code = 0; code < codes; code++)
            if (double.IsNaN(Decode(type, code))) return code;
        return 0;
    }
}
