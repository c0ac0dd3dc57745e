using System;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Emit;

/// <summary>Encodes constant tensors as little-endian bytes in base64, the payload of the generated <c>u8</c> literals.</summary>
public static class WeightEncoder
{
    /// <summary>Raw little-endian bytes of the tensor as generated code lays it out.</summary>
    public static byte[] Bytes(Tensor t)
    {
        if (t.Type == DataType.String) throw new UnsupportedModelException("string constants cannot be used at run time", DiagnosticIds.UnsupportedType);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("AotInfer emits little-endian weight data");
        if (RawEncoding.IsRaw(t.Type)) return RawEncoding.Pack(t);
        int size = DataTypes.SizeOf(t.Type);
        var bytes = new byte[t.Length * size];
        if (t.Data is bool[] b)
            for (int i = 0; i < b.Length; i++) bytes[i] = b[i] ? (byte)1 : (byte)0;
        else
            Buffer.BlockCopy(t.Data, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>Base64 of <see cref="Bytes"/>.</summary>
    public static string Base64(Tensor t) => Convert.ToBase64String(Bytes(t));

    /// <summary>
    /// The C# expression that decodes <paramref name="t"/> from a base64 <c>u8</c> literal into a new array: a palette
    /// and packed indices when <see cref="PaletteEncoder"/> finds few distinct values, else the raw bytes.
    /// <paramref name="columns"/> says how <paramref name="t"/>, a weight matrix in a kernel's layout, maps to the
    /// matrix's columns, which may then keep one palette each. <paramref name="storedBytes"/> is what the literal holds
    /// before base64: the size of the constant in the compiled assembly.
    /// </summary>
    public static string Initializer(Tensor t, ColumnLayout? columns, out long storedBytes)
    {
        if (RawEncoding.IsRaw(t.Type))
        {
            storedBytes = RawEncoding.ByteLength(t.Type, t.Length);
            return $"{EmitContext.Kernels}.WeightData.Decode<byte>(\"{Base64(t)}\"u8, {storedBytes})";
        }
        if (PaletteEncoder.TryEncodeBytes(t) is { } bytePalette)
        {
            storedBytes = bytePalette.Bytes.Length;
            return $"{EmitContext.Kernels}.WeightData.DecodeBytePalette<{DataTypes.CSharpName(t.Type)}>(\"{Convert.ToBase64String(bytePalette.Bytes)}\"u8, {t.Length}, {bytePalette.Groups})";
        }
        var (palette, byColumn) = Palette(t, columns);
        storedBytes = palette?.Bytes.Length ?? (long)t.Length * DataTypes.SizeOf(t.Type);
        if (palette is null) return $"{EmitContext.Kernels}.WeightData.Decode<{DataTypes.CSharpName(t.Type)}>(\"{Base64(t)}\"u8, {t.Length})";
        string data = $"\"{Convert.ToBase64String(palette.Bytes)}\"u8";
        return byColumn
            ? columns!.DecodeExpression(data, palette.Groups, palette.EntryBytes)
            : $"{EmitContext.Kernels}.WeightData.DecodePalette({data}, {t.Length}, {palette.Bits}, {palette.Groups}, {palette.PaletteSize}, {palette.EntryBytes})";
    }

    /// <summary>The smaller palette encoding (by the layout's columns or as <see cref="PaletteEncoder.TryEncode"/>), if any; ByColumn tells which.</summary>
    static (PaletteEncoder.Encoded? Encoded, bool ByColumn) Palette(Tensor t, ColumnLayout? columns)
    {
        var plain = PaletteEncoder.TryEncode(t);
        var byColumn = columns is not null && t.Type == DataType.Float && t.Length >= PaletteEncoder.MinimumElements
            ? PaletteEncoder.TryEncodeColumns(t, columns.ColumnOf(), columns.Columns)
            : null;
        return byColumn is not null && (plain is null || byColumn.Bytes.Length < plain.Bytes.Length) ? (byColumn, true) : (plain, false);
    }
}
