using System;
using AotInfer.Onnx;
using Xunit;

namespace AotInfer.Tests.Onnx;

/// <summary>
/// <see cref="RawEncoding"/>: the byte layout of ONNX's raw_data for packed types (ONNX IR "4 bit integer types":
/// element 0 in the low bits of byte 0), against bytes written out by hand.
/// </summary>
public class RawEncodingTests
{
    [Fact]
    public void Int4PacksLowNibbleFirstAndUnpacksSignExtended()
    {
        var t = new Tensor(DataType.Int4, new[] { 3 }, new sbyte[] { -1, 7, -8 });
        Assert.Equal(new byte[] { 0x7F, 0x08 }, RawEncoding.Pack(t));
        Assert.Equal(new sbyte[] { -1, 7, -8 }, RawEncoding.Unpack(DataType.Int4, new[] { 3 }, new byte[] { 0x7F, 0x08 }).As<sbyte>());
    }

    [Fact]
    public void TwoBitTypesPackFourToAByte()
    {
        var t = new Tensor(DataType.Int2, new[] { 5 }, new sbyte[] { -2, -1, 0, 1, -2 });
        // Codes 2, 3, 0, 1 | 2: 0b01_00_11_10 = 0x4E, then 0x02.
        Assert.Equal(new byte[] { 0x4E, 0x02 }, RawEncoding.Pack(t));
        Assert.Equal(new byte[] { 3, 0, 1 }, RawEncoding.Unpack(DataType.UInt2, new[] { 3 }, new byte[] { 0x13 }).As<byte>());
    }

    [Fact]
    public void Float8AndFloat4KeepTheirCodes()
    {
        Assert.Equal(new byte[] { 0x7E, 0x80 }, RawEncoding.Pack(new Tensor(DataType.Float8E4M3FN, new[] { 2 }, new byte[] { 0x7E, 0x80 })));
        Assert.Equal(new byte[] { 0xF7 }, RawEncoding.Pack(new Tensor(DataType.Float4E2M1, new[] { 2 }, new byte[] { 0x7, 0xF })));
    }

    [Theory]
    [InlineData(DataType.Float8E5M2, 5, 5)]
    [InlineData(DataType.UInt4, 5, 3)]
    [InlineData(DataType.Float4E2M1, 4, 2)]
    [InlineData(DataType.Int2, 5, 2)]
    [InlineData(DataType.UInt2, 0, 0)]
    public void ByteLengthRoundsUpToWholeBytes(DataType type, long count, long bytes) =>
        Assert.Equal(bytes, RawEncoding.ByteLength(type, count));

    [Fact]
    public void TooFewBytesAreRejected() =>
        Assert.Throws<ArgumentException>(() => RawEncoding.Unpack(DataType.Int4, new[] { 5 }, new byte[2]));
}
