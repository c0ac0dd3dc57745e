using System;

namespace AotInfer.Onnx;

/// <summary>Conversions between 16-bit float bit patterns and float (netstandard2.0 has no System.Half).</summary>
public static class HalfBits
{
    /// <summary>IEEE binary16 bits to float.</summary>
    public static float ToSingle(ushort bits)
    {
        int sign = (bits >> 15) & 1, exp = (bits >> 10) & 0x1F, mant = bits & 0x3FF;
        float value;
        if (exp == 0) value = mant * (1f / 16777216f);
        else if (exp == 31) value = mant == 0 ? float.PositiveInfinity : float.NaN;
        else value = (float)((1 + mant / 1024.0) * Math.Pow(2, exp - 15));
        return sign == 1 ? -value : value;
    }

    /// <summary>bfloat16 bits to float.</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.ToSingle(BitConverter.GetBytes(bits << 16), 0);

    /// <summary>
    /// Rounds a double to the nearest IEEE binary16 (ties to even, one rounding step, as a direct hardware
    /// conversion does), returning its bits.
    /// </summary>
    public static ushort FromDouble(double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        int sign = (int)((bits >> 48) & 0x8000);
        if (double.IsNaN(value)) return (ushort)(sign | 0x7E00);
        double magnitude = Math.Abs(value);
        // 65520 is half-way between the largest half (65504) and 2^16: it and everything above round to infinity.
        if (magnitude >= 65520.0) return (ushort)(sign | 0x7C00);
        int exponent = (int)((bits >> 52) & 0x7FF) - 1023;
        if (exponent < -14)
        {
            // Subnormal: count units of 2^-24 (scaling by a power of two is exact, so only the final round rounds).
            int units = (int)Math.Round(magnitude * 16777216.0, MidpointRounding.ToEven);
            return (ushort)(sign | units);
        }
        // 11 significant bits; a carry out of the mantissa correctly bumps the exponent field.
        int significand = (int)Math.Round(magnitude * Math.Pow(2, 10 - exponent), MidpointRounding.ToEven);
        return (ushort)(sign | (((exponent + 15) << 10) + (significand - 1024)));
    }
}
