using System;

namespace AotInfer.Onnx;

/// <summary>
/// The byte layout ONNX gives tensors of float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz, e8m0), float4e2m1 and the 4-bit and
/// 2-bit integers. Generated code holds run-time tensors of these types exactly like this ("raw" tensors): one byte
/// per float8 element; 4-bit and 2-bit elements packed two or four to a byte, element 0 in the lowest bits, the
/// unused high bits of the last byte zero. Compile-time <see cref="Tensor"/> values keep one code per CLR element
/// instead (sign-extended for the signed integers), so these helpers convert between the two.
/// </summary>
public static class RawEncoding
{
    /// <summary>True for the types generated code holds as raw bytes.</summary>
    public static bool IsRaw(DataType type) => BitsPerElement(type) != 0;

    /// <summary>Bits of one element in the raw layout: 8, 4 or 2; 0 for types that are not raw.</summary>
    public static int BitsPerElement(DataType type) => type switch
    {
        DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ or DataType.Float8E5M2 or DataType.Float8E5M2FNUZ or DataType.Float8E8M0 => 8,
        DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1 => 4,
        DataType.Int2 or DataType.UInt2 => 2,
        _ => 0,
    };

    /// <summary>Bytes that <paramref name="count"/> elements of a raw type occupy.</summary>
    public static long ByteLength(DataType type, long count) => (count * BitsPerElement(type) + 7) / 8;

    /// <summary>The raw bytes of a compile-time tensor of a raw type.</summary>
    public static byte[] Pack(Tensor tensor)
    {
        int bits = BitsPerElement(tensor.Type);
        if (bits == 0) throw new ArgumentException($"{tensor.Type} is not a raw element type", nameof(tensor));
        var raw = new byte[ByteLength(tensor.Type, tensor.Length)];
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        for (int i = 0; i < tensor.Length; i++)
        {
            int code = Convert.ToInt32(tensor.Data.GetValue(i)) & mask;
            raw[i / perByte] |= (byte)(code << (bits * (i % perByte)));
        }
        return raw;
    }

    /// <summary>
    /// A compile-time tensor from raw bytes (which must hold at least <see cref="ByteLength"/> bytes): one code per
    /// element, 4-bit and 2-bit signed integers sign-extended.
    /// </summary>
    public static Tensor Unpack(DataType type, int[] shape, byte[] raw)
    {
        int bits = BitsPerElement(type);
        if (bits == 0) throw new ArgumentException($"{type} is not a raw element type", nameof(type));
        int count = ShapeMath.ElementCount(shape);
        if (raw.Length < ByteLength(type, count)) throw new ArgumentException($"{raw.Length} bytes are too few for {count} {type} elements", nameof(raw));
        int perByte = 8 / bits, mask = (1 << bits) - 1;
        bool signed = type is DataType.Int4 or DataType.Int2;
        Array data = Array.CreateInstance(DataTypes.ClrType(type)!, count);
        for (int i = 0; i < count; i++)
        {
            int code = (raw[i / perByte] >> (bits * (i % perByte))) & mask;
            if (signed) data.SetValue((sbyte)(code >= 1 << (bits - 1) ? code - (1 << bits) : code), i);
            else data.SetValue((byte)code, i);
        }
        return new Tensor(type, shape, data);
    }
}
