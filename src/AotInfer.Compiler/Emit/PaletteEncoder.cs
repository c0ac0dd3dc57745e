using System;
using System.Collections.Generic;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Emit;

/// <summary>
/// Palette (weight-sharing) storage for float constants that take few distinct values, as clustered models have:
/// the generated class stores one float palette per group plus a 4-bit (≤ 16 values) or 8-bit (≤ 256 values) index
/// per element instead of 32-bit floats, and decodes them once, so the assembly really shrinks.
/// </summary>
/// <remarks>
/// One palette for the whole tensor when it has at most 256 distinct values; otherwise one 16-entry palette per slice
/// along axis 0 (an output channel of Conv weights or of Gemm transB=1 weights) when every slice has at most 16,
/// which is what per-channel clustering writes. Values are compared by their bits, so decoding is exact (signed
/// zeros and NaN payloads included).
/// Layout of the encoded bytes: every palette (groups × palette size floats, little-endian), then the indices
/// packed low nibble first.
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
    public sealed record Encoded(byte[] Bytes, int Bits, int Groups, int PaletteSize);

    /// <summary>The palette encoding of <paramref name="t"/>, or null when it would not be smaller than the raw floats.</summary>
    public static Encoded? TryEncode(Tensor t)
    {
        if (t.Type != DataType.Float || t.Length < MinimumElements) return null;
        var bits = new uint[t.Length];
        Buffer.BlockCopy(t.As<float>(), 0, bits, 0, t.Length * 4);
        Encoded? result = null;
        if (Palette(bits, 0, bits.Length, 256) is { } whole) result = Encode(bits, new[] { whole }, whole.Count <= 16 ? 4 : 8);
        else if (PerSlicePalettes(t, bits) is { } slices) result = Encode(bits, slices, 4);
        // Worth it only when it at least halves the stored bytes.
        return result is not null && result.Bytes.Length * 2 <= t.Length * 4 ? result : null;
    }

    /// <summary>Per-channel clustering: one palette of at most 16 values per slice along axis 0, or null.</summary>
    static List<uint>[]? PerSlicePalettes(Tensor t, uint[] bits)
    {
        int groups = t.Shape.Length > 1 ? t.Shape[0] : 1;
        if (groups <= 1 || t.Length % groups != 0) return null;
        int size = t.Length / groups;
        var palettes = new List<uint>[groups];
        for (int g = 0; g < groups; g++)
        {
            if (Palette(bits, g * size, size, 16) is not { } palette) return null;
            palettes[g] = palette;
        }
        return palettes;
    }

    /// <summary>The distinct bit patterns of bits[start..start+count] in first-seen order, or null when there are more than <paramref name="max"/>.</summary>
    static List<uint>? Palette(uint[] bits, int start, int count, int max)
    {
        var seen = new HashSet<uint>();
        var palette = new List<uint>();
        for (int i = start; i < start + count; i++)
        {
            if (!seen.Add(bits[i])) continue;
            if (palette.Count == max) return null;
            palette.Add(bits[i]);
        }
        return palette;
    }

    static Encoded Encode(uint[] bits, List<uint>[] palettes, int indexBits)
    {
        int paletteSize = indexBits == 4 ? 16 : 256, groups = palettes.Length, size = bits.Length / groups;
        int paletteBytes = groups * paletteSize * 4;
        var bytes = new byte[paletteBytes + (bits.Length * indexBits + 7) / 8];
        for (int g = 0; g < groups; g++)
            for (int e = 0; e < palettes[g].Count; e++)
                BitConverter.GetBytes(palettes[g][e]).CopyTo(bytes, (g * paletteSize + e) * 4);
        for (int g = 0; g < groups; g++)
        {
            var lookup = new Dictionary<uint, int>();
            for (int e = 0; e < palettes[g].Count; e++) lookup[palettes[g][e]] = e;
            for (int i = g * size; i < (g + 1) * size; i++)
            {
                int index = lookup[bits[i]];
                if (indexBits == 8) bytes[paletteBytes + i] = (byte)index;
                else bytes[paletteBytes + i / 2] |= (byte)(i % 2 == 0 ? index : index << 4);
            }
        }
        return new Encoded(bytes, indexBits, groups, paletteSize);
    }
}
