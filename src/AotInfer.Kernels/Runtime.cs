using System;
using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels;

/// <summary>Implemented by every generated model class: an array-based entry point for tools (no reflection needed).</summary>
public interface IGeneratedModel
{
    /// <summary>Inputs, outputs and provenance.</summary>
    ModelInfo Info { get; }

    /// <summary>Runs the model on typed arrays (one per input and output, of the declared element type and length).</summary>
    void Run(Array[] inputs, Array[] outputs);
}

/// <summary>Name, ONNX element type and shape of one model input or output.</summary>
/// <param name="Name">The ONNX name.</param>
/// <param name="ElementType">The ONNX element type name (e.g. <c>Float</c>).</param>
/// <param name="Shape">The static shape (of one sample when <paramref name="Batched"/>).</param>
/// <param name="Batched">True when the first dimension is a batch size chosen at run time: <c>Run</c> takes any whole number of samples.</param>
/// <param name="RawBits">
/// For float8, float4e2m1 and 4-bit / 2-bit integer tensors, which <c>Run</c> takes as bytes in ONNX's raw layout
/// (one byte per float8 element; 4-bit and 2-bit elements packed low bits first): the bits per element. 0 otherwise.
/// </param>
public sealed record TensorInfo(string Name, string ElementType, int[] Shape, bool Batched = false, int RawBits = 0)
{
    /// <summary>Length of the span <c>Run</c> takes: <see cref="Length"/> elements, or the bytes they pack into when <see cref="RawBits"/> is set.</summary>
    public int BufferLength => RawBits == 0 ? Length : (int)(((long)Length * RawBits + 7) / 8);

    /// <summary>Number of elements (of one sample when <see cref="Batched"/>).</summary>
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }
}

/// <summary>Metadata of a generated model.</summary>
/// <param name="ModelFile">File name of the source model.</param>
/// <param name="Sha256">SHA-256 of the model file.</param>
/// <param name="Producer">The tool that wrote the model.</param>
/// <param name="Opsets">Imported opsets.</param>
/// <param name="Inputs">The inputs, in <c>Run</c> order.</param>
/// <param name="Outputs">The outputs, in <c>Run</c> order.</param>
public sealed record ModelInfo(string ModelFile, string Sha256, string Producer, string Opsets, TensorInfo[] Inputs, TensorInfo[] Outputs)
{
    /// <summary>Throws when the number of arrays does not match the model.</summary>
    public static void CheckCounts(ModelInfo info, Array[] inputs, Array[] outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputs.Length != info.Inputs.Length) throw new ArgumentException($"the model takes {info.Inputs.Length} inputs but {inputs.Length} were given", nameof(inputs));
        if (outputs.Length != info.Outputs.Length) throw new ArgumentException($"the model has {info.Outputs.Length} outputs but {outputs.Length} arrays were given", nameof(outputs));
        // Element types are checked here so that a wrong array is an ArgumentException naming the tensor, not an
        // InvalidCastException from the typed call (lengths are checked by the typed Run).
        for (int i = 0; i < inputs.Length; i++) CheckElementType(info.Inputs[i], inputs[i], "input", nameof(inputs));
        for (int i = 0; i < outputs.Length; i++) CheckElementType(info.Outputs[i], outputs[i], "output", nameof(outputs));
    }

    static void CheckElementType(TensorInfo tensor, Array? array, string role, string parameter)
    {
        Type? expected = tensor.RawBits != 0 ? typeof(byte[]) : tensor.ElementType switch
        {
            "Float" => typeof(float[]), "Double" => typeof(double[]), "Float16" => typeof(Half[]),
            "Int8" => typeof(sbyte[]), "UInt8" => typeof(byte[]), "Int16" => typeof(short[]), "UInt16" => typeof(ushort[]),
            "Int32" => typeof(int[]), "UInt32" => typeof(uint[]), "Int64" => typeof(long[]), "UInt64" => typeof(ulong[]),
            "Bool" => typeof(bool[]),
            _ => null,
        };
        if (array is null) throw new ArgumentNullException(parameter, $"{role} '{tensor.Name}' is null");
        if (expected is not null && array.GetType() != expected)
            throw new ArgumentException($"{role} '{tensor.Name}' must be a {expected.Name} of {tensor.BufferLength} elements (shape [{string.Join(",", tensor.Shape)}], {tensor.ElementType}) but is a {array.GetType().Name}", parameter);
    }
}

/// <summary>Typed views of the byte arena where generated code keeps intermediate tensors.</summary>
public static class Arena
{
    /// <summary>A span of <paramref name="count"/> elements at <paramref name="byteOffset"/>.</summary>
    public static Span<T> Slice<T>(Span<byte> arena, int byteOffset, int count) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(arena.Slice(byteOffset, count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
}

/// <summary>
/// Zeroed, pinned bytes whose span starts on a 64-byte boundary: generated code keeps its arena and scratch here, so
/// that tensors at the planner's 64-byte aligned offsets are cache-line aligned and a 64-byte vector load or store
/// never straddles two lines (a plain byte array starts 16 bytes into an object placed anywhere).
/// </summary>
public sealed unsafe class AlignedBytes
{
    readonly byte[] _data;
    readonly int _offset, _length;

    /// <summary>Allocates <paramref name="length"/> usable bytes (63 more, pinned so that the aligned start stays put).</summary>
    public AlignedBytes(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _data = GC.AllocateArray<byte>(length + 63, pinned: true);
        nuint address = (nuint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));
        _offset = (int)(((address + 63) & ~(nuint)63) - address);
        _length = length;
    }

    /// <summary>The <c>length</c> usable bytes, starting on a 64-byte boundary.</summary>
    public Span<byte> Span => _data.AsSpan(_offset, _length);
}

/// <summary>Decodes the constant tensors that generated code stores as base64 UTF-8 literals.</summary>
public static class WeightData
{
    /// <summary>Decodes <paramref name="count"/> little-endian elements.</summary>
    public static T[] Decode<T>(ReadOnlySpan<byte> base64Utf8, int count) where T : unmanaged
    {
        var result = new T[count];
        Span<byte> bytes = MemoryMarshal.AsBytes(result.AsSpan());
        var status = Base64.DecodeFromUtf8(base64Utf8, bytes, out _, out int written);
        if (status != OperationStatus.Done || written != bytes.Length)
            throw new InvalidOperationException($"corrupt weight data: {status}, {written} of {bytes.Length} bytes");
        if (typeof(T) == typeof(bool))
        {
            // Normalise to 0/1 so that bool comparisons behave.
            foreach (ref byte b in bytes) b = b != 0 ? (byte)1 : (byte)0;
        }
        return result;
    }

    /// <summary>
    /// Decodes <paramref name="count"/> floats stored as palettes and indices (see the compiler's PaletteEncoder):
    /// <paramref name="groups"/> palettes of <paramref name="paletteSize"/> little-endian entries of
    /// <paramref name="entryBytes"/> bytes (4: float32, 2: float16), then one <paramref name="bits"/>-bit index per
    /// element (4 bits: low nibble first); element i uses the palette of group i / (count / groups). Exact: each
    /// element gets the palette entry's value (float16 entries widen exactly).
    /// </summary>
    public static float[] DecodePalette(ReadOnlySpan<byte> base64Utf8, int count, int bits, int groups, int paletteSize, int entryBytes)
    {
        if (bits is not (4 or 8) || groups <= 0 || count % groups != 0 || paletteSize != 1 << bits || entryBytes is not (2 or 4))
            throw new InvalidOperationException($"corrupt palette weight data: {bits}-bit indices, {groups} palettes of {paletteSize} {entryBytes}-byte entries for {count} values");
        int paletteEntries = groups * paletteSize, paletteBytes = paletteEntries * entryBytes, indexBytes = (count * bits + 7) / 8;
        var bytes = DecodeBase64(base64Utf8, paletteBytes + indexBytes);
        var palettes = ReadPalettes(bytes, paletteEntries, entryBytes);
        ReadOnlySpan<byte> indices = bytes.AsSpan(paletteBytes);
        var result = new float[count];
        int groupSize = count / groups;
        for (int i = 0; i < count; i++)
        {
            int index = bits == 8 ? indices[i] : Nibble(indices, i);
            result[i] = palettes[i / groupSize * paletteSize + index];
        }
        return result;
    }

    /// <summary>
    /// Decodes <paramref name="count"/> one-byte integers (<c>sbyte</c> or <c>byte</c>: the int8/uint8 weights of
    /// quantised models) stored as <paramref name="groups"/> palettes of 16 one-byte entries, then one 4-bit index per
    /// element (low nibble first); element i uses the palette of group i / (count / groups).
    /// </summary>
    public static T[] DecodeBytePalette<T>(ReadOnlySpan<byte> base64Utf8, int count, int groups) where T : unmanaged
    {
        if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != 1 || groups <= 0 || count % groups != 0)
            throw new InvalidOperationException($"corrupt palette weight data: {groups} byte palettes for {count} values of {typeof(T).Name}");
        int paletteBytes = groups * 16;
        var bytes = DecodeBase64(base64Utf8, paletteBytes + (count + 1) / 2);
        ReadOnlySpan<byte> indices = bytes.AsSpan(paletteBytes);
        var result = new T[count];
        Span<byte> values = MemoryMarshal.AsBytes(result.AsSpan());
        int groupSize = count / groups;
        for (int i = 0; i < count; i++) values[i] = bytes[i / groupSize * 16 + Nibble(indices, i)];
        return result;
    }

    /// <summary>4-bit index <paramref name="position"/> of packed indices (low nibble first).</summary>
    internal static int Nibble(ReadOnlySpan<byte> indices, int position) => (indices[position >> 1] >> ((position & 1) * 4)) & 15;

    /// <summary>Exactly <paramref name="length"/> bytes decoded from base64; anything else is corrupt data.</summary>
    internal static byte[] DecodeBase64(ReadOnlySpan<byte> base64Utf8, int length)
    {
        var bytes = new byte[length];
        var status = Base64.DecodeFromUtf8(base64Utf8, bytes, out _, out int written);
        if (status != OperationStatus.Done || written != bytes.Length)
            throw new InvalidOperationException($"corrupt weight data: {status}, {written} of {bytes.Length} bytes");
        return bytes;
    }

    /// <summary>The first <paramref name="entries"/> palette entries of <paramref name="bytes"/>, float32 (4 bytes) or float16 (2 bytes), as floats.</summary>
    internal static float[] ReadPalettes(byte[] bytes, int entries, int entryBytes)
    {
        var palettes = new float[entries];
        if (entryBytes == 4) MemoryMarshal.Cast<byte, float>(bytes.AsSpan(0, entries * 4)).CopyTo(palettes);
        else
        {
            ReadOnlySpan<Half> halves = MemoryMarshal.Cast<byte, Half>(bytes.AsSpan(0, entries * 2));
            for (int e = 0; e < entries; e++) palettes[e] = (float)halves[e];
        }
        return palettes;
    }
}
