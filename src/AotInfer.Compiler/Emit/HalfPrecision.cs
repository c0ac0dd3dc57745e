namespace AotInfer.Compiler.Emit;

/// <summary>
/// Which float32 values a float16 (IEEE 754 binary16) holds exactly, and their 16 bits. The compiler targets
/// netstandard2.0, which has no <c>System.Half</c>; the runtime widens the bits back with <c>(float)Half</c>, which is
/// exact for every finite and infinite half.
/// </summary>
public static class HalfPrecision
{
    /// <summary>
    /// True when the float with bits <paramref name="singleBits"/> equals a half exactly (zeros, infinities, normal
    /// and subnormal halves); <paramref name="halfBits"/> then holds that half. NaN is never exact: widening a half
    /// NaN need not give back the same payload, and decoding must be bit for bit.
    /// </summary>
    public static bool TryToHalf(uint singleBits, out ushort halfBits)
    {
        uint sign = (singleBits >> 16) & 0x8000;
        int exponent = (int)((singleBits >> 23) & 0xff);
        uint mantissa = singleBits & 0x7fffff;
        halfBits = 0;
        if (exponent == 0xff)
        {
            if (mantissa != 0) return false;
            halfBits = (ushort)(sign | 0x7c00);
            return true;
        }
        if (exponent == 0)
        {
            // Float subnormals are far below the smallest half subnormal (2^-24): only the zeros fit.
            if (mantissa != 0) return false;
            halfBits = (ushort)sign;
            return true;
        }
        int power = exponent - 127;
        if (power > 15 || power < -24) return false;
        if (power >= -14)
        {
            // Normal half: 10 mantissa bits, so the low 13 of the float's 23 must be zero.
            if ((mantissa & 0x1fff) != 0) return false;
            halfBits = (ushort)(sign | (uint)(power + 15) << 10 | mantissa >> 13);
            return true;
        }
        // Subnormal half: value = m · 2^-24 with m < 1024; value = significand · 2^(power - 23), so m = significand · 2^(power + 1).
        uint significand = mantissa | 0x800000;
        int shift = -power - 1;
        if ((significand & ((1u << shift) - 1)) != 0) return false;
        halfBits = (ushort)(sign | significand >> shift);
        return true;
    }
}
