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
    /// </summary>
    public static string Initializer(Tensor t)
    {
        string type = DataTypes.CSharpName(t.Type);
        if (RawEncoding.IsRaw(t.Type))
            return $"{EmitContext.Kernels}.WeightData.Decode<byte>(\"{Base64(t)}\"u8, {RawEncoding.ByteLength(t.Type, t.Length)})";
        if (PaletteEncoder.TryEncode(t) is { } palette)
            return $"{EmitContext.Kernels}.WeightData.DecodePalette(\"{Convert.ToBase64String(palette.Bytes)}\"u8, {t.Length}, {palette.Bits}, {palette.Groups}, {palette.PaletteSize})";
        return $"{EmitContext.Kernels}.WeightData.Decode<{type}>(\"{Base64(t)}\"u8, {t.Length})";
    }
}
