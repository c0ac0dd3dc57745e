using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Reporting;

/// <summary>Bytes a compact encoding of a model needs, and of what.</summary>
/// <param name="Bytes">Total stored bytes.</param>
/// <param name="WeightBytes">Bytes of the layer weights (values, palettes, sparse indices, scales).</param>
/// <param name="OtherBytes">Every other initializer at its element size (biases, shapes, activation parameters).</param>
/// <param name="Parameters">Number of weights and other initializer elements.</param>
/// <param name="NonZeroWeights">Layer weights that are not zero.</param>
public sealed record StoredSizeEstimate(long Bytes, long WeightBytes, long OtherBytes, long Parameters, long NonZeroWeights);

/// <summary>
/// The honest stored size of a model, as Deep Compression counts it: each layer weight is encoded the cheapest of
/// <list type="bullet">
/// <item>dense: every value at its element size (32-bit float, 8-bit integer);</item>
/// <item>palette: when it takes at most 256 distinct values, ⌈log2 K⌉-bit indices plus the K-entry codebook at the element size
/// (16 bits for float values that are all float16);
/// or one codebook per output channel (per-channel clustering), indices of ⌈log2 max K⌉ bits;</item>
/// <item>sparse: the non-zero values (at their element or palette bits) each with a <see cref="GapBits"/>-bit distance to the
/// previous one; a gap too long for the field costs an extra zero entry.</item>
/// </list>
/// Scales, zero points, biases and every other initializer count at their element size. No entropy coding
/// (Deep Compression's Huffman stage) is assumed.
/// </summary>
public static class StoredSize
{
    /// <summary>Bits of the relative index of a sparse entry (Deep Compression uses 5 for fully connected layers).</summary>
    public const int GapBits = 5;

    /// <summary>Estimates the stored size of <paramref name="model"/>.</summary>
    public static StoredSizeEstimate Estimate(ModelProto model, string? modelDirectory = null)
    {
        var weights = WeightValues.Find(model, modelDirectory);
        var weightNames = new HashSet<string>(weights.Select(w => w.Name), StringComparer.Ordinal);
        long weightBits = 0, parameters = 0, nonZero = 0;
        foreach (var w in weights)
        {
            weightBits += Bits(w.Values, w.BitsPerValue, w.Shape, w.ChannelAxis) + 8 * w.Side;
            parameters += w.Values.Length;
            nonZero += w.Values.Count(v => v != 0);
        }
        long other = 0;
        foreach (var t in model.Graph.Initializer)
        {
            if (weightNames.Contains(t.Name)) continue;
            long count = t.Dims.Aggregate(1L, (a, d) => a * d);
            parameters += count;
            other += count * DataTypes.SizeOf((DataType)t.DataType);
        }
        // Scales and zero points of quantised weights are initializers too: counted once, in the weights' side bytes.
        other -= weights.Sum(w => w.Side);
        long weightBytes = (weightBits + 7) / 8;
        return new StoredSizeEstimate(weightBytes + other, weightBytes, other, parameters, nonZero);
    }

    /// <summary>Bits of the cheapest encoding of one weight tensor of <paramref name="shape"/> (channels along <paramref name="channelAxis"/>).</summary>
    public static long Bits(float[] values, int elementBits, int[] shape, int channelAxis)
    {
        long dense = (long)values.Length * elementBits;
        // Palette candidates: one codebook for the tensor, or one per channel: (index bits, codebook bits).
        // Float codebooks whose entries are all float16 values (cluster --codebook fp16) store 16 bits per entry.
        int entryBits = elementBits == 32 && values.All(v => (float)(Half)v == v) ? 16 : elementBits;
        var palettes = new List<(int IndexBits, long CodebookBits)> { Palette(new[] { values.Distinct().Count() }, entryBits) };
        if (shape.Length > 1) palettes.Add(Palette(DistinctPerChannel(values, shape, channelAxis), entryBits));
        long best = dense;
        foreach (var (indexBits, codebook) in palettes)
            if (indexBits <= 8) best = Math.Min(best, (long)values.Length * indexBits + codebook);
        var (valueBits, codebookBits) = palettes.Where(p => p.IndexBits < elementBits).OrderBy(p => p.IndexBits).Select(p => (p.IndexBits, p.CodebookBits)).DefaultIfEmpty((elementBits, 0L)).First();
        long entries = 0;
        int gap = 0, maxGap = (1 << GapBits) - 1;
        foreach (float v in values)
        {
            if (v == 0) { if (++gap > maxGap) { entries++; gap = 0; } continue; }
            entries++;
            gap = 0;
        }
        long sparse = entries * (valueBits + GapBits) + codebookBits;
        return Math.Min(best, sparse);
    }

    static (int IndexBits, long CodebookBits) Palette(int[] distinctPerGroup, int elementBits)
    {
        int most = distinctPerGroup.Max();
        long entries = distinctPerGroup.Sum(d => (long)d);
        return (most <= 1 ? 1 : (int)Math.Ceiling(Math.Log2(most)), entries * elementBits);
    }

    static int[] DistinctPerChannel(float[] values, int[] shape, int axis)
    {
        int inner = 1;
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        int channels = shape[axis];
        var sets = new HashSet<float>[channels];
        for (int c = 0; c < channels; c++) sets[c] = new HashSet<float>();
        for (int i = 0; i < values.Length; i++) sets[i / inner % channels].Add(values[i]);
        return sets.Select(s => s.Count).ToArray();
    }
}
