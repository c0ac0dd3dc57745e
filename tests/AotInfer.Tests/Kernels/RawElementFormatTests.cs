using System;
using AotInfer.Kernels.Quantization;
using AotInfer.Onnx;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="RawElementFormat"/> against values worked out by hand from the ONNX specification's type tables (ONNX
/// docs "Float stored in 8 bits" and "4 bit floating point types", Cast's saturate table): each bit pattern below is
/// sign | exponent field | mantissa field with the format's bias, and every rounding case is a tie or a boundary.
/// </summary>
public class RawElementFormatTests
{
    const double Nan = double.NaN, Inf = double.PositiveInfinity;

    [Theory]
    // e4m3fn, bias 7: 0.0000.001 = 2^-6 · 1/8 = 2^-9 (smallest subnormal); 0.0001.000 = 2^-6; 0.0111.000 = 1;
    // 0.0111.100 = 1.5; 0.1111.110 = 2^8 · 1.75 = 448 (largest); S.1111.111 is NaN (no infinity).
    [InlineData(RawElementType.Float8E4M3FN, 0x00, 0.0)]
    [InlineData(RawElementType.Float8E4M3FN, 0x01, 0.001953125)]
    [InlineData(RawElementType.Float8E4M3FN, 0x07, 0.013671875)]
    [InlineData(RawElementType.Float8E4M3FN, 0x08, 0.015625)]
    [InlineData(RawElementType.Float8E4M3FN, 0x38, 1.0)]
    [InlineData(RawElementType.Float8E4M3FN, 0x3C, 1.5)]
    [InlineData(RawElementType.Float8E4M3FN, 0x7E, 448.0)]
    [InlineData(RawElementType.Float8E4M3FN, 0xFE, -448.0)]
    [InlineData(RawElementType.Float8E4M3FN, 0x7F, Nan)]
    [InlineData(RawElementType.Float8E4M3FN, 0xFF, Nan)]
    // e4m3fnuz, bias 8: 0.1000.000 = 1; 0.1111.111 = 2^7 · 1.875 = 240 (largest); 1.0000.000 is the only NaN.
    [InlineData(RawElementType.Float8E4M3FNUZ, 0x01, 0.0009765625)]
    [InlineData(RawElementType.Float8E4M3FNUZ, 0x40, 1.0)]
    [InlineData(RawElementType.Float8E4M3FNUZ, 0x7F, 240.0)]
    [InlineData(RawElementType.Float8E4M3FNUZ, 0xFF, -240.0)]
    [InlineData(RawElementType.Float8E4M3FNUZ, 0x80, Nan)]
    // e5m2, bias 15: 0.01111.00 = 1; 0.11110.11 = 2^15 · 1.75 = 57344; 0.11111.00 = +inf; 0.11111.01..11 NaN.
    [InlineData(RawElementType.Float8E5M2, 0x01, 0.0000152587890625)]
    [InlineData(RawElementType.Float8E5M2, 0x3C, 1.0)]
    [InlineData(RawElementType.Float8E5M2, 0x7B, 57344.0)]
    [InlineData(RawElementType.Float8E5M2, 0x7C, Inf)]
    [InlineData(RawElementType.Float8E5M2, 0xFC, -Inf)]
    [InlineData(RawElementType.Float8E5M2, 0x7D, Nan)]
    [InlineData(RawElementType.Float8E5M2, 0xFF, Nan)]
    // e5m2fnuz, bias 16: 0.10000.00 = 1; 0.11111.11 = 57344; 0x80 is the only NaN.
    [InlineData(RawElementType.Float8E5M2FNUZ, 0x01, 0.00000762939453125)]
    [InlineData(RawElementType.Float8E5M2FNUZ, 0x40, 1.0)]
    [InlineData(RawElementType.Float8E5M2FNUZ, 0x7F, 57344.0)]
    [InlineData(RawElementType.Float8E5M2FNUZ, 0x80, Nan)]
    // e2m1, bias 1: 0.00.1 = 0.5 (subnormal), 0.01.0 = 1, 0.10.1 = 3, 0.11.1 = 6; 1.11.1 = -6; no NaN, no infinity.
    [InlineData(RawElementType.Float4E2M1, 0x1, 0.5)]
    [InlineData(RawElementType.Float4E2M1, 0x2, 1.0)]
    [InlineData(RawElementType.Float4E2M1, 0x3, 1.5)]
    [InlineData(RawElementType.Float4E2M1, 0x4, 2.0)]
    [InlineData(RawElementType.Float4E2M1, 0x5, 3.0)]
    [InlineData(RawElementType.Float4E2M1, 0x6, 4.0)]
    [InlineData(RawElementType.Float4E2M1, 0x7, 6.0)]
    [InlineData(RawElementType.Float4E2M1, 0xF, -6.0)]
    // Two's complement in 4 and 2 bits.
    [InlineData(RawElementType.Int4, 0x7, 7.0)]
    [InlineData(RawElementType.Int4, 0x8, -8.0)]
    [InlineData(RawElementType.Int4, 0xF, -1.0)]
    [InlineData(RawElementType.UInt4, 0xF, 15.0)]
    [InlineData(RawElementType.Int2, 0x2, -2.0)]
    [InlineData(RawElementType.Int2, 0x1, 1.0)]
    [InlineData(RawElementType.UInt2, 0x3, 3.0)]
    // e8m0: 2^(code − 127), 0xFF NaN.
    [InlineData(RawElementType.Float8E8M0, 0x00, 5.877471754111438e-39)]
    [InlineData(RawElementType.Float8E8M0, 0x7F, 1.0)]
    [InlineData(RawElementType.Float8E8M0, 0x7C, 0.125)]
    [InlineData(RawElementType.Float8E8M0, 0xFE, 1.7014118346046923e38)]
    [InlineData(RawElementType.Float8E8M0, 0xFF, Nan)]
    public void DecodeMatchesTheSpecificationTable(RawElementType type, int code, double expected)
    {
        double actual = RawElementFormat.Decode(type, code);
        if (double.IsNaN(expected)) Assert.True(double.IsNaN(actual), $"{type} 0x{code:X2} decodes to {actual}, not NaN");
        else Assert.Equal(expected, actual);
    }

    [Fact]
    public void NegativeZeroDecodesWithItsSignWhereTheFormatHasOne()
    {
        Assert.True(double.IsNegative(RawElementFormat.Decode(RawElementType.Float8E4M3FN, 0x80)));
        Assert.True(double.IsNegative(RawElementFormat.Decode(RawElementType.Float8E5M2, 0x80)));
        Assert.True(double.IsNegative(RawElementFormat.Decode(RawElementType.Float4E2M1, 0x8)));
    }

    [Theory]
    // Ties go to the even code: on [1, 2) e4m3fn steps by 1/8, so 1 + 1/16 lies between 0x38 (even) and 0x39.
    [InlineData(RawElementType.Float8E4M3FN, 1.0625, true, 0x38)]
    [InlineData(RawElementType.Float8E4M3FN, 1.1875, true, 0x3A)]
    [InlineData(RawElementType.Float8E4M3FN, 1.07, true, 0x39)]
    // Subnormal ties: 2^-10 is half the smallest subnormal (to 0), 3·2^-10 between 0x01 and 0x02 (to 0x02).
    [InlineData(RawElementType.Float8E4M3FN, 0.0009765625, true, 0x00)]
    [InlineData(RawElementType.Float8E4M3FN, 0.0029296875, true, 0x02)]
    [InlineData(RawElementType.Float8E4M3FN, -1e-7, true, 0x80)]
    // 464 is the tie between 448 (0x7E, even) and 480 (not a number in e4m3fn): it stays 448, saturate or not.
    [InlineData(RawElementType.Float8E4M3FN, 464.0, false, 0x7E)]
    [InlineData(RawElementType.Float8E4M3FN, 465.0, true, 0x7E)]
    [InlineData(RawElementType.Float8E4M3FN, 465.0, false, 0x7F)]
    [InlineData(RawElementType.Float8E4M3FN, -1e6, false, 0xFF)]
    [InlineData(RawElementType.Float8E4M3FN, Inf, true, 0x7E)]
    [InlineData(RawElementType.Float8E4M3FN, -Inf, true, 0xFE)]
    [InlineData(RawElementType.Float8E4M3FN, Inf, false, 0x7F)]
    [InlineData(RawElementType.Float8E4M3FN, Nan, true, 0x7F)]
    // fnuz types: no negative zero (−0 and tiny negatives are 0x00), every overflow without saturation is 0x80.
    [InlineData(RawElementType.Float8E4M3FNUZ, -0.0, true, 0x00)]
    [InlineData(RawElementType.Float8E4M3FNUZ, -1e-7, true, 0x00)]
    [InlineData(RawElementType.Float8E4M3FNUZ, 1.0, true, 0x40)]
    [InlineData(RawElementType.Float8E4M3FNUZ, 1000.0, true, 0x7F)]
    [InlineData(RawElementType.Float8E4M3FNUZ, -1000.0, true, 0xFF)]
    [InlineData(RawElementType.Float8E4M3FNUZ, 1000.0, false, 0x80)]
    [InlineData(RawElementType.Float8E4M3FNUZ, -Inf, false, 0x80)]
    [InlineData(RawElementType.Float8E4M3FNUZ, Nan, true, 0x80)]
    // e5m2: 61440 is the tie between 57344 (0x7B, odd mantissa) and 65536 (the infinity pattern 0x7C, even).
    [InlineData(RawElementType.Float8E5M2, 60000.0, false, 0x7B)]
    [InlineData(RawElementType.Float8E5M2, 61440.0, false, 0x7C)]
    [InlineData(RawElementType.Float8E5M2, 61440.0, true, 0x7B)]
    [InlineData(RawElementType.Float8E5M2, 1e6, true, 0x7B)]
    [InlineData(RawElementType.Float8E5M2, -1e6, false, 0xFC)]
    [InlineData(RawElementType.Float8E5M2, Inf, false, 0x7C)]
    [InlineData(RawElementType.Float8E5M2, -Inf, true, 0xFB)]
    [InlineData(RawElementType.Float8E5M2, 1.0, true, 0x3C)]
    [InlineData(RawElementType.Float8E5M2FNUZ, 1.0, true, 0x40)]
    [InlineData(RawElementType.Float8E5M2FNUZ, 1e6, true, 0x7F)]
    [InlineData(RawElementType.Float8E5M2FNUZ, 1e6, false, 0x80)]
    // e2m1 always saturates (no infinity, no NaN): ties 0.25 → 0, 0.75 → 1.0, 2.5 → 2, 5 → 4.
    [InlineData(RawElementType.Float4E2M1, 0.25, true, 0x0)]
    [InlineData(RawElementType.Float4E2M1, 0.75, true, 0x2)]
    [InlineData(RawElementType.Float4E2M1, 2.5, true, 0x4)]
    [InlineData(RawElementType.Float4E2M1, 5.0, true, 0x6)]
    [InlineData(RawElementType.Float4E2M1, 5.5, true, 0x7)]
    [InlineData(RawElementType.Float4E2M1, 100.0, false, 0x7)]
    [InlineData(RawElementType.Float4E2M1, -Inf, true, 0xF)]
    [InlineData(RawElementType.Float4E2M1, -3.5, true, 0xE)]
    public void EncodeFloatRoundsHalfToEvenAndHandlesOverflowAsTheSpecificationSays(RawElementType type, double value, bool saturate, int expected) =>
        Assert.Equal(expected, RawElementFormat.EncodeFloat(type, value, saturate));

    [Theory]
    [InlineData(RawElementType.Float8E4M3FN)]
    [InlineData(RawElementType.Float8E4M3FNUZ)]
    [InlineData(RawElementType.Float8E5M2)]
    [InlineData(RawElementType.Float8E5M2FNUZ)]
    [InlineData(RawElementType.Float4E2M1)]
    public void EveryFiniteCodeEncodesBackToItself(RawElementType type)
    {
        int codes = type == RawElementType.Float4E2M1 ? 16 : 256;
        for (int code = 0; code < codes; code++)
        {
            double value = RawElementFormat.Decode(type, code);
            if (!double.IsFinite(value)) continue;
            Assert.Equal(code, RawElementFormat.EncodeFloat(type, value, saturate: false));
        }
    }

    [Theory]
    // QuantizeLinear: round half to even, then clamp to the type's range; NaN gives the lower bound.
    [InlineData(RawElementType.Int4, 2.5, 0x2)]
    [InlineData(RawElementType.Int4, 3.5, 0x4)]
    [InlineData(RawElementType.Int4, -8.5, 0x8)]
    [InlineData(RawElementType.Int4, 7.5, 0x7)]
    [InlineData(RawElementType.Int4, -100.0, 0x8)]
    [InlineData(RawElementType.UInt4, -3.0, 0x0)]
    [InlineData(RawElementType.UInt4, 15.4, 0xF)]
    [InlineData(RawElementType.Int2, -3.0, 0x2)]
    [InlineData(RawElementType.Int2, 0.5, 0x0)]
    [InlineData(RawElementType.UInt2, 2.5, 0x2)]
    [InlineData(RawElementType.UInt2, Nan, 0x0)]
    [InlineData(RawElementType.Int4, Nan, 0x8)]
    [InlineData(RawElementType.UInt4, Inf, 0xF)]
    [InlineData(RawElementType.Int4, -Inf, 0x8)]
    public void EncodeSaturatedIntegerRoundsHalfToEvenAndClamps(RawElementType type, double value, int expected) =>
        Assert.Equal(expected, RawElementFormat.EncodeSaturatedInteger(type, value));

    [Theory]
    // Cast: truncate toward zero, keep the low bits (−9 ≡ 7 mod 16, −3 ≡ 1 mod 4, 15 ≡ −1 in int4).
    [InlineData(RawElementType.Int4, -9.0, 0x7)]
    [InlineData(RawElementType.Int4, 15.0, 0xF)]
    [InlineData(RawElementType.Int4, -2.9, 0xE)]
    [InlineData(RawElementType.Int4, 2.9, 0x2)]
    [InlineData(RawElementType.UInt4, 17.0, 0x1)]
    [InlineData(RawElementType.UInt2, -3.0, 0x1)]
    [InlineData(RawElementType.Int2, 2.0, 0x2)]
    [InlineData(RawElementType.Int4, Nan, 0x0)]
    public void EncodeWrappedIntegerTruncatesAndWraps(RawElementType type, double value, int expected) =>
        Assert.Equal(expected, RawElementFormat.EncodeWrappedInteger(type, value));

    [Theory]
    // Cast's round_mode: up = next power of two away from zero, down = towards zero, nearest = ties (1.5 · 2^e) up.
    [InlineData(3.0, E8M0Rounding.Up, true, 0x81)]
    [InlineData(3.0, E8M0Rounding.Down, true, 0x80)]
    [InlineData(3.0, E8M0Rounding.Nearest, true, 0x81)]
    [InlineData(2.9, E8M0Rounding.Nearest, true, 0x80)]
    [InlineData(1.0, E8M0Rounding.Up, true, 0x7F)]
    [InlineData(0.124, E8M0Rounding.Up, true, 0x7C)]
    [InlineData(0.124, E8M0Rounding.Down, true, 0x7B)]
    // The specification's table of special values: saturate + up, and no saturate + nearest.
    [InlineData(0.0, E8M0Rounding.Up, true, 0x00)]
    [InlineData(0.0, E8M0Rounding.Nearest, false, 0xFF)]
    [InlineData(Nan, E8M0Rounding.Up, true, 0xFF)]
    [InlineData(Inf, E8M0Rounding.Up, true, 0xFE)]
    [InlineData(Inf, E8M0Rounding.Nearest, false, 0xFF)]
    [InlineData(1e39, E8M0Rounding.Up, true, 0xFE)]
    [InlineData(1e39, E8M0Rounding.Nearest, false, 0xFF)]
    [InlineData(1e-39, E8M0Rounding.Up, true, 0x00)]
    [InlineData(1e-39, E8M0Rounding.Nearest, false, 0xFF)]
    public void EncodeE8M0FollowsRoundModeAndTheSaturationTable(double value, E8M0Rounding rounding, bool saturate, int expected) =>
        Assert.Equal(expected, RawElementFormat.EncodeE8M0(value, saturate, rounding));

    [Fact]
    public void FourBitElementsPackLowNibbleFirst()
    {
        var raw = new byte[2];
        for (int i = 0; i < 3; i++) RawElementFormat.Write(RawElementType.Int4, raw, i, i + 1);
        Assert.Equal(new byte[] { 0x21, 0x03 }, raw);
        Assert.Equal(3, RawElementFormat.Read(RawElementType.Int4, raw, 2));
        // Rewriting one element leaves its neighbour in the same byte.
        RawElementFormat.Write(RawElementType.Int4, raw, 0, 0xF);
        Assert.Equal(new byte[] { 0x2F, 0x03 }, raw);
    }

    [Fact]
    public void TwoBitElementsPackFourToAByteLowBitsFirst()
    {
        var raw = new byte[2];
        int[] codes = { 1, 2, 3, 0, 1 };
        for (int i = 0; i < codes.Length; i++) RawElementFormat.Write(RawElementType.UInt2, raw, i, codes[i]);
        Assert.Equal(new byte[] { 0b00_11_10_01, 0b01 }, raw);
        for (int i = 0; i < codes.Length; i++) Assert.Equal(codes[i], RawElementFormat.Read(RawElementType.UInt2, raw, i));
        Assert.Equal(2, RawElementFormat.ByteLength(RawElementType.UInt2, 5));
        Assert.Equal(3, RawElementFormat.ByteLength(RawElementType.Int4, 5));
        Assert.Equal(5, RawElementFormat.ByteLength(RawElementType.Float8E5M2, 5));
    }

    [Fact]
    public void RawElementTypesCarryTheOnnxDataTypeNumbersOfTheSameName()
    {
        // The kernels cannot reference AotInfer.Onnx; generated code names RawElementType members after DataType's.
        foreach (var type in Enum.GetValues<RawElementType>())
        {
            var onnx = Enum.Parse<DataType>(type.ToString());
            Assert.Equal((int)onnx, (int)type);
            Assert.Equal(RawEncoding.BitsPerElement(onnx), RawElementFormat.BitsPerElement(type));
        }
        Assert.All(Enum.GetValues<DataType>(), t => Assert.Equal(RawEncoding.IsRaw(t), Enum.IsDefined(typeof(RawElementType), (int)t)));
    }
}
