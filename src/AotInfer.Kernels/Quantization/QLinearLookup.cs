using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// 8-bit to 8-bit functions through a 256-entry table indexed by the input's bit pattern (QLinearSigmoid,
/// QLinearLeakyRelu, requantisation in QLinearConcat). The compiler builds the table from the constant scales and
/// zero points, as ONNX Runtime does when they are fixed.
/// </summary>
public static class QLinearLookup
{
    /// <summary>y[i] = table[bits(x[i])]; <typeparamref name="T"/> is byte or sbyte.</summary>
    public static void Apply<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> table) where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != 1) throw new ArgumentException("lookup tables map 8-bit values");
        if (table.Length != 256) throw new ArgumentException("a lookup table has 256 entries");
        if (x.Length != y.Length) throw new ArgumentException("input and output lengths differ");
        ReadOnlySpan<byte> source = MemoryMarshal.AsBytes(x);
        Span<byte> destination = MemoryMarshal.AsBytes(y);
        ReadOnlySpan<byte> entries = MemoryMarshal.AsBytes(table);
        ref byte entry = ref MemoryMarshal.GetReference(entries);
        for (int i = 0; i < source.Length; i++) destination[i] = Unsafe.Add(ref entry, source[i]);
    }

    /// <summary>
    /// Copies <paramref name="blockCount"/> blocks of <paramref name="blockLength"/> elements from a contiguous
    /// source into a strided destination, mapping each through <paramref name="table"/> (QLinearConcat of an input
    /// whose quantisation differs from the output's).
    /// </summary>
    public static void CopyBlocks<T>(ReadOnlySpan<T> source, Span<T> destination, int destinationStride, int blockCount, int blockLength, ReadOnlySpan<T> table)
        where T : unmanaged
    {
        for (int block = 0; block < blockCount; block++)
            Apply(source.Slice(block * blockLength, blockLength), destination.Slice(block * destinationStride, blockLength), table);
    }
}
