using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AotInfer.Onnx.Proto;
using Google.Protobuf;

namespace AotInfer.Onnx;

/// <summary>Turns <see cref="TensorProto"/> messages into <see cref="Tensor"/> values, resolving external data safely.</summary>
public static class TensorProtoReader
{
    /// <summary>
    /// Reads a tensor. <paramref name="modelDirectory"/> is the folder external data must stay inside; null forbids
    /// external data.
    /// </summary>
    public static Tensor Read(TensorProto proto, string? modelDirectory)
    {
        string what = string.IsNullOrEmpty(proto.Name) ? "tensor" : $"tensor '{proto.Name}'";
        var type = (DataType)proto.DataType;
        if (DataTypes.ClrType(type) is null) throw new InvalidModelException($"{what}: element type {proto.DataType} is not supported");
        if (proto.Segment is not null) throw new InvalidModelException($"{what}: segmented tensors are not supported");
        int[] shape = ShapeMath.ToIntShape(proto.Dims, what);
        int count = ShapeMath.ElementCount(shape);

        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            return FromBytes(type, shape, count, ExternalData.Read(proto, modelDirectory, what), what);
        if (!proto.RawData.IsEmpty)
            return FromBytes(type, shape, count, proto.RawData.ToByteArray(), what);
        return FromFields(proto, type, shape, count, what);
    }

    /// <summary>Serialises a tensor to a TensorProto with raw little-endian data (strings use string_data).</summary>
    public static TensorProto Write(Tensor tensor, string name)
    {
        var proto = new TensorProto { Name = name, DataType = (int)tensor.Type };
        proto.Dims.AddRange(tensor.Shape.Select(d => (long)d));
        if (tensor.Type == DataType.String)
        {
            foreach (var s in tensor.As<string>()) proto.StringData.Add(ByteString.CopyFromUtf8(s));
            return proto;
        }
        if (RawEncoding.BitsPerElement(tensor.Type) is 4 or 2)
        {
            // Sub-byte types pack several elements per byte, low bits first.
            proto.RawData = ByteString.CopyFrom(RawEncoding.Pack(tensor));
            return proto;
        }
        int size = DataTypes.SizeOf(tensor.Type);
        var bytes = new byte[tensor.Length * size];
        if (tensor.Type == DataType.Bool)
        {
            var b = tensor.As<bool>();
            for (int i = 0; i < b.Length; i++) bytes[i] = b[i] ? (byte)1 : (byte)0;
        }
        else Buffer.BlockCopy(tensor.Data, 0, bytes, 0, bytes.Length);
        proto.RawData = ByteString.CopyFrom(bytes);
        return proto;
    }

    static Tensor FromBytes(DataType type, int[] shape, int count, byte[] raw, string what)
    {
        if (type == DataType.String) throw new InvalidModelException($"{what}: string tensors cannot use raw_data");
        // Sizes are checked before allocating: a hostile shape must fail as a diagnostic, not as an OutOfMemoryException.
        if (RawEncoding.BitsPerElement(type) is 4 or 2)
        {
            if (raw.Length < RawEncoding.ByteLength(type, count)) throw new InvalidModelException($"{what}: raw_data has {raw.Length} bytes, too few for {count} elements");
            return RawEncoding.Unpack(type, shape, raw);
        }
        int size = DataTypes.SizeOf(type);
        if ((long)raw.Length != (long)count * size)
            throw new InvalidModelException($"{what}: raw data has {raw.Length} bytes but {type}[{string.Join(",", shape)}] needs {(long)count * size}");
        Array data = Array.CreateInstance(DataTypes.ClrType(type)!, count);
        if (type == DataType.Bool)
        {
            var b = (bool[])data;
            for (int i = 0; i < count; i++) b[i] = raw[i] != 0;
        }
        else Buffer.BlockCopy(raw, 0, data, 0, raw.Length);
        return new Tensor(type, shape, data);
    }

    static object SubByte(DataType type, int v, int bits) => type switch
    {
        DataType.Int4 or DataType.Int2 => (sbyte)(v >= 1 << (bits - 1) ? v - (1 << bits) : v),
        _ => (byte)v,
    };

    static Tensor FromFields(TensorProto p, DataType type, int[] shape, int count, string what)
    {
        int available = type switch
        {
            DataType.Float => p.FloatData.Count,
            DataType.Double => p.DoubleData.Count,
            DataType.Int64 => p.Int64Data.Count,
            DataType.UInt32 or DataType.UInt64 => p.Uint64Data.Count,
            DataType.String => p.StringData.Count,
            DataType.Int4 or DataType.UInt4 or DataType.Int2 or DataType.UInt2 or DataType.Float4E2M1 => p.Int32Data.Count * 4 * (type is DataType.Int2 or DataType.UInt2 ? 4 : 2) / 4,
            _ => p.Int32Data.Count,
        };
        if (available < count) throw new InvalidModelException($"{what}: holds {available} values but shape [{string.Join(",", shape)}] needs {count}");
        Array data = Array.CreateInstance(DataTypes.ClrType(type)!, count); // only after the count is known to be backed by data
        for (int i = 0; i < count; i++)
        {
            object v = type switch
            {
                DataType.Float => p.FloatData[i],
                DataType.Double => p.DoubleData[i],
                DataType.Int64 => p.Int64Data[i],
                DataType.UInt64 => p.Uint64Data[i],
                DataType.UInt32 => (uint)p.Uint64Data[i],
                DataType.String => p.StringData[i].ToStringUtf8(),
                DataType.Bool => p.Int32Data[i] != 0,
                DataType.Int32 => p.Int32Data[i],
                DataType.Int16 => (short)p.Int32Data[i],
                DataType.UInt16 or DataType.Float16 or DataType.BFloat16 => (ushort)p.Int32Data[i],
                DataType.Int8 => (sbyte)p.Int32Data[i],
                DataType.Int4 or DataType.Int2 or DataType.UInt4 or DataType.UInt2 or DataType.Float4E2M1 => SubByteFromInt32(p, type, i),
                _ => (byte)p.Int32Data[i],
            };
            data.SetValue(v, i);
        }
        return new Tensor(type, shape, data);
    }

    static object SubByteFromInt32(TensorProto p, DataType type, int i)
    {
        int bits = type is DataType.Int2 or DataType.UInt2 ? 2 : 4;
        int perWord = 8 / bits; // int32_data holds one packed byte per entry
        int v = (p.Int32Data[i / perWord] >> (bits * (i % perWord))) & ((1 << bits) - 1);
        return SubByte(type, v, bits);
    }
}
