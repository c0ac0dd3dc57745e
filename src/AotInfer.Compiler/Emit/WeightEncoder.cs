using System;
using AotInfer.Compiler.Ops.Linear;
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
    /// <paramref name="gemv"/> says that <paramref name="t"/> is a K×N matrix in the GEMV layout (<see cref="GemvLayout"/>),
    /// which may then keep one palette per column. <paramref name="storedBytes"/> is what the literal holds before
    /// base64: the size of the constant in the compiled assembly.
    /// </summary>
    public static string Initializer(Tensor t, (int K, int N)? gemv, out long storedBytes)
    {
        var (palette, columns) = Palette(t, gemv);
        storedBytes = palette?.Bytes.Length ?? (long)t.Length * DataTypes.SizeOf(t.Type);
        if (palette is null) return $"{EmitContext.Kernels}.WeightData.Decode<{DataTypes.CSharpName(t.Type)}>(\"{Base64(t)}\"u8, {t.Length})";
        string data = $"\"{Convert.ToBase64String(palette.Bytes)}\"u8";
        return columns
            ? $"{EmitContext.Kernels}.Linear.GemvWeights.DecodePalette({data}, {gemv!.Value.K}, {gemv.Value.N}, {palette.Groups}, {palette.EntryBytes})"
            : $"{EmitContext.Kernels}.WeightData.DecodePalette({data}, {t.Length}, {palette.Bits}, {palette.Groups}, {palette.PaletteSize}, {palette.EntryBytes})";
    }

    /// <summary>The smaller palette encoding (of the GEMV layout's columns or as <see cref="PaletteEncoder.TryEncode"/>), if any; Columns tells which.</summary>
    static (PaletteEncoder.Encoded? Encoded, bool Columns) Palette(Tensor t, (int K, int N)? gemv)
    {
        var plain = PaletteEncoder.TryEncode(t);
        var columns = gemv is { } m && t.Type == DataType.Float && t.Length >= PaletteEncoder.MinimumElements
            ? PaletteEncoder.TryEncodeColumns(t, GemvLayout.ColumnOf(m.K, m.N), m.N)
            : null;
        return columns is not null && (plain is null || columns.Bytes.Length < plain.Bytes.Length) ? (columns, true) : (plain, false);
    }
}
