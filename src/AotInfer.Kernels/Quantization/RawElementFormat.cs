using System;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The element types generated code holds as raw ONNX bytes; the values are ONNX's <c>TensorProto.DataType</c> numbers.
/// </summary>
public enum RawElementType
{
    /// <summary>float8: 4 exponent bits (bias 7), 3 mantissa bits, no infinity, NaN = S.1111.111.</summary>
    Float8E4M3FN = 17,
    /// <summary>float8: 4 exponent bits (bias 8), 3 mantissa bits, no infinity, no negative zero, NaN = 0x80.</summary>
    Float8E4M3FNUZ = 18,
    /// <summary>float8: 5 exponent bits (bias 15), 2 mantissa bits, IEEE-like infinities and NaNs.</summary>
    Float8E5M2 = 19,
    /// <summary>float8: 5 exponent bits (bias 16), 2 mantissa bits, no infinity, no negative zero, NaN = 0x80.</summary>
    Float8E5M2FNUZ = 20,
    /// <summary>Unsigned 4-bit integer, two per byte.</summary>
    UInt4 = 21,
    /// <summary>Signed 4-bit integer (two's complement), two per byte.</summary>
    Int4 = 22,
    /// <summary>float4: 2 exponent bits (bias 1), 1 mantissa bit, no infinity, no NaN; two per byte.</summary>
    Float4E2M1 = 23,
    /// <summary>float8: 8 exponent bits (bias 127), no sign, no mantissa: 2^-127 … 2^127; 0xFF is NaN.</summary>
    Float8E8M0 = 24,
    /// <summary>Unsigned 2-bit integer, four per byte.</summary>
    UInt2 = 25,
    /// <summary>Signed 2-bit integer (two's complement), four per byte.</summary>
    Int2 = 26,
}

/// <summary>
/// Reading, writing, decoding and encoding single elements of raw tensors. Layout: one byte per float8 element;
/// 4-bit and 2-bit elements packed low bits first (element 0 in bits 0..3 or 0..1). Encoding follows the ONNX
/// specification (Cast, QuantizeLinear): round to nearest, ties to even; with <c>saturate</c> values beyond the
/// largest finite value (infinities too) become ±max, without it they become infinity (e5m2) or NaN (the other
/// float8 types); float4e2m1 always saturates and, like the ONNX reference, writes NaN as 0x8. float8e8m0 (powers of
/// two only) has its own rounding modes, see <see cref="EncodeE8M0"/>.
/// </summary>
public static class RawElementFormat
{
    /// <summary>Bits per element: 8, 4 or 2.</summary>
    public static int BitsPerElement(RawElementType type) => type switch
    {
        RawElementType.UInt4 or RawElementType.Int4 or RawElementType.Float4E2M1 => 4,
        RawElementType.UInt2 or RawElementType.Int2 => 2,
        _ => 8,
    };

    /// <summary>Bytes <paramref name="count"/> elements occupy.</summary>
    public static int ByteLength(RawElementType type, int count) => (int)(((long)count * BitsPerElement(type) + 7) / 8);

    /// <summary>True for the integer types (4-bit and 2-bit).</summary>
    public static bool IsInteger(RawElementType type) =>
        type is RawElementType.UInt4 or RawElementType.Int4 or RawElementType.UInt2 or RawElementType.Int2;

    /// <summary>Smallest and largest value of an integer type.</summary>
    public static (int Min, int Max) IntegerRange(RawElementType type) => type switch
    {
        RawElementType.Int4 => (-8, 7),
        RawElementType.UInt4 => (0, 15),
        RawElementType.Int2 => (-2, 1),
        RawElementType.UInt2 => (0, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an integer type"),
    };

    /// <summary>The code (bit pattern) of element <paramref name="index"/>.</summary>
    public static int Read(RawElementType type, ReadOnlySpan<byte> raw, int index)
    {
        int bits = BitsPerElement(type);
        if (bits == 8) return raw[index];
        int perByte = 8 / bits, shift = bits * (index % perByte);
        return (raw[index / perByte] >> shift) & ((1 << bits) - 1);
    }

    /// <summary>Stores <paramref name="code"/> as element <paramref name="index"/>, leaving its byte's other elements.</summary>
    public static void Write(RawElementType type, Span<byte> raw, int index, int code)
    {
        int bits = BitsPerElement(type);
        if (bits == 8) { raw[index] = (byte)code; return; }
        int perByte = 8 / bits, shift = bits * (index % perByte), mask = (1 << bits) - 1;
        ref byte b = ref raw[index / perByte];
        b = (byte)((b & ~(mask << shift)) | ((code & mask) << shift));
    }

    /// <summary>The value a code stands for (integers sign-extended where signed).</summary>
    public static double Decode(RawElementType type, int code)
    {
        switch (type)
        {
            case RawElementType.UInt4 or RawElementType.UInt2:
                return code;
            case RawElementType.Int4 or RawElementType.Int2:
            {
                int bits = BitsPerElement(type);
                return code >= 1 << (bits - 1) ? code - (1 << bits) : code;
            }
            case RawElementType.Float8E4M3FN when (code & 0x7F) == 0x7F:
                return double.NaN;
            case RawElementType.Float8E5M2 when (code & 0x7C) == 0x7C:
                return (code & 3) != 0 ? double.NaN : (code & 0x80) != 0 ? double.NegativeInfinity : double.PositiveInfinity;
            case RawElementType.Float8E4M3FNUZ or RawElementType.Float8E5M2FNUZ when code == 0x80:
                return double.NaN;
            case RawElementType.Float8E8M0:
                return code == 0xFF ? double.NaN : Math.ScaleB(1.0, code - 127);
        }
        var f = SmallFloat.Of(type);
        int sign = (code >> (f.ExponentBits + f.MantissaBits)) & 1;
        int exponent = (code >> f.MantissaBits) & ((1 << f.ExponentBits) - 1), mantissa = code & ((1 << f.MantissaBits) - 1);
        // Exponent field 0 holds the subnormals: no implicit leading one, exponent 1 − bias.
        double magnitude = exponent == 0
            ? Math.ScaleB(mantissa, 1 - f.Bias - f.MantissaBits)
            : Math.ScaleB(mantissa + (1 << f.MantissaBits), exponent - f.Bias - f.MantissaBits);
        return sign != 0 ? -magnitude : magnitude;
    }

    /// <summary>
    /// The code of an integer type for <paramref name="value"/>: rounded half to even and clamped to the type's range
    /// (NaN gives the smallest value), as QuantizeLinear saturates.
    /// </summary>
    public static int EncodeSaturatedInteger(RawElementType type, double value)
    {
        var (min, max) = IntegerRange(type);
        double clamped = double.IsNaN(value) ? min : Math.Clamp(Math.Round(value, MidpointRounding.ToEven), min, max);
        return (int)clamped & ((1 << BitsPerElement(type)) - 1);
    }

    /// <summary>
    /// The code of an integer type for <paramref name="value"/> as Cast converts: truncated toward zero and wrapped
    /// modulo 2^bits like any narrowing integer conversion (NaN and infinities give 0).
    /// </summary>
    public static int EncodeWrappedInteger(RawElementType type, double value)
    {
        long whole = double.IsFinite(value) ? (long)Math.Clamp(Math.Truncate(value), long.MinValue, long.MaxValue) : 0;
        return (int)(whole & ((1 << BitsPerElement(type)) - 1));
    }

    /// <summary>
    /// The code of a float8 or float4 type nearest to <paramref name="value"/> (ties to even); float8e8m0 rounds up
    /// (<see cref="EncodeE8M0"/>).
    /// </summary>
    public static int EncodeFloat(RawElementType type, double value, bool saturate)
    {
        if (type == RawElementType.Float8E8M0) return EncodeE8M0(value, saturate, E8M0Rounding.Up);
        var f = SmallFloat.Of(type);
        if (double.IsNaN(value)) return f.NaN;
        int signBit = double.IsNegative(value) ? 1 << (f.ExponentBits + f.MantissaBits) : 0;
        double magnitude = Math.Abs(value);
        // Round on the grid of the binade holding the value (the subnormal spacing below the smallest normal); the
        // binade is not bounded above, so a value that rounds past the largest finite one is seen as overflowing.
        int minExponent = 1 - f.Bias;
        int exponent = magnitude == 0 || double.IsInfinity(magnitude) ? minExponent : Math.Max(Math.ILogB(magnitude), minExponent);
        double step = Math.ScaleB(1.0, exponent - f.MantissaBits);
        double rounded = double.IsInfinity(magnitude) ? magnitude : Math.Round(magnitude / step, MidpointRounding.ToEven) * step;
        if (rounded > f.MaxFinite)
        {
            if (saturate || type == RawElementType.Float4E2M1) return signBit | f.MaxFiniteCode;
            // e5m2 overflows to infinity; e4m3fn to its NaN with the sign kept; the fnuz types to their only NaN.
            return type switch { RawElementType.Float8E5M2 => signBit | 0x7C, RawElementType.Float8E4M3FN => signBit | 0x7F, _ => f.NaN };
        }
        int code;
        if (rounded < Math.ScaleB(1.0, minExponent)) code = (int)Math.ScaleB(rounded, f.MantissaBits - minExponent);
        else
        {
            int e = Math.ILogB(rounded);
            code = ((e + f.Bias) << f.MantissaBits) | ((int)Math.ScaleB(rounded, f.MantissaBits - e) - (1 << f.MantissaBits));
        }
        // The fnuz types have no negative zero: 0x80 is their NaN.
        if (code == 0 && f.NaN == 0x80) return 0;
        return signBit | code;
    }

    /// <summary>
    /// The float8e8m0 code of <paramref name="value"/>, a power of two chosen by <paramref name="rounding"/>. Values
    /// outside [2^-127, 2^127] (zero, negative values, infinities) become the nearest end with
    /// <paramref name="saturate"/> and NaN without, as the ONNX Cast table says (it leaves negative values open).
    /// </summary>
    public static int EncodeE8M0(double value, bool saturate, E8M0Rounding rounding)
    {
        const int Nan = 0xFF, MaxCode = 0xFE;
        if (double.IsNaN(value)) return Nan;
        double min = Math.ScaleB(1.0, -127), max = Math.ScaleB(1.0, 127);
        if (value < min) return saturate ? 0 : Nan;
        if (value > max) return saturate ? MaxCode : Nan;
        int exponent = Math.ILogB(value);
        double fraction = Math.ScaleB(value, -exponent); // in [1, 2)
        bool roundUp = rounding switch
        {
            E8M0Rounding.Up => fraction > 1,
            E8M0Rounding.Nearest => fraction >= 1.5,
            _ => false,
        };
        return exponent + 127 + (roundUp ? 1 : 0);
    }

    /// <summary>The parameters of one small float format.</summary>
    readonly record struct SmallFloat(int ExponentBits, int MantissaBits, int Bias, double MaxFinite, int MaxFiniteCode, int NaN)
    {
        public static SmallFloat Of(RawElementType type) => type switch
        {
            RawElementType.Float8E4M3FN => new(4, 3, 7, 448, 0x7E, 0x7F),
            RawElementType.Float8E4M3FNUZ => new(4, 3, 8, 240, 0x7F, 0x80),
            RawElementType.Float8E5M2 => new(5, 2, 15, 57344, 0x7B, 0x7E),
            RawElementType.Float8E5M2FNUZ => new(5, 2, 16, 57344, 0x7F, 0x80),
            RawElementType.Float4E2M1 => new(2, 1, 1, 6, 0x7, 0x8),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a float8 or float4 type"),
        };
    }
}

/// <summary>How Cast rounds to float8e8m0 (its <c>round_mode</c> attribute).</summary>
public enum E8M0Rounding
{
    /// <summary>To the power of two above (away from zero); the ONNX default.</summary>
    Up,
    /// <summary>To the power of two below (towards zero).</summary>
    Down,
    /// <summary>To the nearer power of two, ties (1.5 · 2^e) up.</summary>
    Nearest,
}
