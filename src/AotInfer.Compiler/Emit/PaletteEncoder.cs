using System;
using System.Collections.Generic;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Emit;

/// <summary>
/// Palette (weight-sharing) storage for float constants that take few distinct values, as clustered models have:
/// the generated class stores one palette per group plus a 4-bit (≤ 16 values) or 8-bit (≤ 256 values) index
/// per element instead of 32-bit floats, and decodes them once, so the assembly really shrinks.
/// </summary>
/// <remarks>
/// Candidates: one palette for the whole tensor when it has at most 256 distinct values; one 16-entry palette per slice
/// along axis 0 (an output channel of Conv weights or of Gemm transB=1 weights) when every slice has at most 16,
/// which is what per-channel clustering writes. Palette entries take 2 bytes when every one of them is exactly a
/// float16 (what <c>cluster --codebook fp16</c> writes), else 4; the smallest candidate wins. Values are compared by
/// their bits, so decoding is exact (signed zeros and NaN payloads included).
/// Weights re-laid out for the batch-1 fully-connected kernel (GEMV) keep one palette per output column through
/// <see cref="TryEncodeColumns"/>. Int8/uint8 weights of quantised models (the integer kernels pack them at type
/// initialisation from their ONNX layout) take <see cref="TryEncodeBytes"/>: a clustered model quantised per channel
/// has at most 16 integers per output channel, so 4-bit indices halve them.
/// Layout of the encoded bytes: every palette (groups × palette size entries, little-endian float32 or float16), then
/// the indices packed low nibble first.
/// </remarks>
public static class PaletteEncoder
{
    /// <summary>Smallest tensor worth a palette (below it the palette itself dominates).</summary>
    public const int MinimumElements = 64;

    /// <summary>A tensor encoded as palette and indices.</summary>
    /// <param name="Bytes">Palettes then packed indices.</param>
    /// <param name="Bits">Bits per index: 4 or 8.</param>
    /// <param name="Groups">Number of palettes (consecutive equal slices of the elements).</param>
    /// <param name="PaletteSize">Entries per palette (16 or 256).</param>
    /// <param name="EntryBytes">Bytes per palette entry: 4 (float32), 2 (float16, every entry exactly a half) or 1 (int8/uint8).</param>
    public sealed record Encoded(byte[] Bytes, int Bits, int Groups, int PaletteSize, int EntryBytes);

    /// <summary>The palette encoding of <paramref name="t"/>, or null when it would not halve the raw floats.</summary>
    public static Encoded? TryEncode(Tensor t)
    {
        if (t.Type != DataType.Float || t.Length < MinimumElements) return null;
        return Smallest(WholeAndSliceCandidates(Bits(t), t.Shape, 256, entryBytes: null), 2L * t.Length);
    }

    /// <summary>
    /// 4-bit palettes for a matrix stored in a blocked layout (the GEMV layout, where one output neuron's weights are not
    /// contiguous): one 16-entry palette for the whole matrix, or one per column (per-neuron clustering), whichever is
    /// smaller. <paramref name="columnOf"/> gives each element's column, or -1 for padding, which must be +0 and gets no
    /// index (the decoder knows the layout and writes the zeros), so padding does not count as a 17th value. Null when
    /// a column has more than 16 values or the encoding would not halve the raw floats.
    /// </summary>
    public static Encoded? TryEncodeColumns(Tensor t, int[] columnOf, int columns)
    {
        if (t.Type != DataType.Float || t.Length < MinimumElements || columnOf.Length != t.Length) return null;
        var bits = Bits(t);
        var matrixOf = new int[bits.Length];
        for (int i = 0; i < bits.Length; i++)
        {
            if (columnOf[i] < 0 && bits[i] != 0) return null;
            matrixOf[i] = columnOf[i] < 0 ? -1 : 0;
        }
        var candidates = new List<Encoded>();
        if (Palettes(bits, matrixOf, 1, 16) is { } whole) candidates.Add(Encode(bits, matrixOf, whole, 4));
        else if (Palettes(bits, columnOf, columns, 16) is { } perColumn) candidates.Add(Encode(bits, columnOf, perColumn, 4));
        return Smallest(candidates, 2L * t.Length);
    }

    /// <summary>
    /// 4-bit palettes of a one-byte integer tensor: one 16-entry palette of bytes for the whole tensor, or one per slice
    /// along axis 0 (an output channel), whichever is smaller; null when a slice has more than 16 values or the
    /// encoding would not save a quarter of the raw bytes.
    /// </summary>
    public static Encoded? TryEncodeBytes(Tensor t)
    {
        if (t.Type is not (DataType.Int8 or DataType.UInt8) || t.Length < MinimumElements) return null;
        return Smallest(WholeAndSliceCandidates(Bits(t), t.Shape, 16, entryBytes: 1), 3L * t.Length / 4);
    }

    /// <summary>
    /// The candidates <see cref="TryEncode"/> and <see cref="TryEncodeBytes"/> choose from: one palette for the whole
    /// tensor (at most <paramref name="wholeMax"/> values; 8-bit indices beyond 16), and one 16-entry palette per slice
    /// along axis 0.
    /// </summary>
    static List<Encoded> WholeAndSliceCandidates(uint[] bits, int[] shape, int wholeMax, int? entryBytes)
    {
        var candidates = new List<Encoded>();
        var wholeOf = new int[bits.Length];
        if (Palettes(bits, wholeOf, 1, wholeMax) is { } whole) candidates.Add(Encode(bits, wholeOf, whole, whole[0].Count > 16 ? 8 : 4, entryBytes));
        int slices = shape.Length > 1 ? shape[0] : 1;
        if (slices > 1 && bits.Length % slices == 0)
        {
            var sliceOf = SliceOf(bits.Length, slices);
            if (Palettes(bits, sliceOf, slices, 16) is { } perSlice) candidates.Add(Encode(bits, sliceOf, perSlice, 4, entryBytes));
        }
        return candidates;
    }

    /// <summary>Each element's slice along axis 0: <paramref name="slices"/> consecutive equal runs.</summary>
    static int[] SliceOf(int length, int slices)
    {
        var sliceOf = new int[length];
        int size = length / slices;
        for (int i = 0; i < length; i++) sliceOf[i] = i / size;
        return sliceOf;
    }

    /// <summary>Each element's bit pattern: a float's 32 bits, or a one-byte integer's byte.</summary>
    static uint[] Bits(Tensor t)
    {
        var bits = new uint[t.Length];
        if (t.Type == DataType.Float) Buffer.BlockCopy(t.As<float>(), 0, bits, 0, t.Length * 4);
        else
        {
            var raw = WeightEncoder.Bytes(t);
            for (int i = 0; i < bits.Length; i++) bits[i] = raw[i];
        }
        return bits;
    }

    /// <summary>The smallest candidate, when it stores at most <paramref name="limitBytes"/> (else the raw data is as good).</summary>
    static Encoded? Smallest(List<Encoded> candidates, long limitBytes)
    {
        Encoded? best = null;
        foreach (var c in candidates)
            if (best is null || c.Bytes.Length < best.Bytes.Length) best = c;
        return best is not null && best.Bytes.Length <= limitBytes ? best : null;
    }

    /// <summary>
    /// The distinct bit patterns of each group's elements (group -1: none) in first-seen order, or null when a group has
    /// more than <paramref name="max"/>.
    /// </summary>
    static List<uint>[]? Palettes(uint[] bits, int[] groupOf, int groups, int max)
    {
        var seen = new HashSet<uint>[groups];
        var palettes = new List<uint>[groups];
        for (int g = 0; g < groups; g++) { seen[g] = new HashSet<uint>(); palettes[g] = new List<uint>(); }
        for (int i = 0; i < bits.Length; i++)
        {
            int g = groupOf[i];
            if (g < 0 || !seen[g].Add(bits[i])) continue;
            if (palettes[g].Count == max) return null;
            palettes[g].Add(bits[i]);
        }
        return palettes;
    }

    static bool AllHalves(List<uint>[] palettes)
    {
        foreach (var palette in palettes)
            foreach (uint entry in palette)
                if (!HalfPrecision.TryToHalf(entry, out _)) return false;
        return true;
    }

    /// <summary>
    /// Palettes (float entries: 2 bytes when all are halves, else 4; or the given <paramref name="entryBytes"/>), then
    /// one index per element of a group, in storage order.
    /// </summary>
    static Encoded Encode(uint[] bits, int[] groupOf, List<uint>[] palettes, int indexBits, int? entryBytes = null)
    {
        int width = entryBytes ?? (AllHalves(palettes) ? 2 : 4);
        int paletteSize = indexBits == 4 ? 16 : 256, groups = palettes.Length, indexed = 0;
        foreach (int g in groupOf) if (g >= 0) indexed++;
        int paletteBytes = groups * paletteSize * width;
        var bytes = new byte[paletteBytes + (indexed * indexBits + 7) / 8];
        var lookups = new Dictionary<uint, int>[groups];
        for (int g = 0; g < groups; g++)
        {
            lookups[g] = new Dictionary<uint, int>();
            for (int e = 0; e < palettes[g].Count; e++)
            {
                lookups[g][palettes[g][e]] = e;
                int offset = (g * paletteSize + e) * width;
                if (width == 4) BitConverter.GetBytes(palettes[g][e]).CopyTo(bytes, offset);
                else if (width == 1) bytes[offset] = (byte)palettes[g][e];
                else
                {
                    HalfPrecision.TryToHalf(palettes[g][e], out ushort half);
                    BitConverter.GetBytes(half).CopyTo(bytes, offset);
                }
            }
        }
        for (int i = 0, position = 0; i < bits.Length; i++)
        {
            if (groupOf[i] < 0) continue;
            int index = lookups[groupOf[i]][bits[i]];
            if (indexBits == 8) bytes[paletteBytes + position] = (byte)index;
            else bytes[paletteBytes + position / 2] |= (byte)(position % 2 == 0 ? index : index << 4);
            position++;
        }
        return new Encoded(bytes, indexBits, groups, paletteSize, width);
    }
}
