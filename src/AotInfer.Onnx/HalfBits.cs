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
}
