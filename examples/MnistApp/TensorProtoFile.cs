using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace MnistApp;

/// <summary>
/// Reads the float data of a serialized ONNX <c>TensorProto</c> (the format of the model zoo's test sets).
/// Only the few fields these files use are decoded, so that the app needs no protobuf library at run time:
/// the generated model itself never reads a file.
/// </summary>
internal static class TensorProtoFile
{
    const int DimsField = 1, DataTypeField = 2, FloatDataField = 4, RawDataField = 9;
    const int FloatDataType = 1;

    /// <summary>The tensor's elements; throws <see cref="InvalidDataException"/> for anything but a float tensor.</summary>
    public static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var dims = new List<long>();
        var floats = new List<float>();
        int dataType = 0;
        int position = 0;
        while (position < bytes.Length)
        {
            ulong key = ReadVarint(bytes, ref position);
            int field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0: // varint
                    ulong value = ReadVarint(bytes, ref position);
                    if (field == DimsField) dims.Add((long)value);
                    else if (field == DataTypeField) dataType = (int)value;
                    break;
                case 1: // 64-bit
                    position += 8;
                    break;
                case 5: // 32-bit
                    if (field == FloatDataField) floats.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(position, 4)));
                    position += 4;
                    break;
                case 2: // length-delimited
                    int length = checked((int)ReadVarint(bytes, ref position));
                    var payload = bytes.AsSpan(position, length);
                    if (field == RawDataField || field == FloatDataField)
                        for (int i = 0; i + 4 <= payload.Length; i += 4) floats.Add(BinaryPrimitives.ReadSingleLittleEndian(payload.Slice(i, 4)));
                    else if (field == DimsField)
                        for (int p = 0; p < payload.Length;) dims.Add((long)ReadVarint(payload, ref p));
                    position += length;
                    break;
                default:
                    throw new InvalidDataException($"{path}: unsupported protobuf wire type {key & 7}");
            }
        }
        if (dataType != FloatDataType) throw new InvalidDataException($"{path}: expected a float tensor, got data type {dataType}");
        long count = 1;
        foreach (long d in dims) count *= d;
        if (count != floats.Count) throw new InvalidDataException($"{path}: shape [{string.Join(",", dims)}] needs {count} floats, found {floats.Count}");
        return floats.ToArray();
    }

    static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= bytes.Length) throw new InvalidDataException("truncated protobuf varint");
            byte b = bytes[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new InvalidDataException("protobuf varint longer than 64 bits");
    }
}
