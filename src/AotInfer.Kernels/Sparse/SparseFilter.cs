using System;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// The constant weights of a convolution with most of them pruned to zero, as compressed rows: per output channel,
/// the non-zero weights and where each one's input row starts in the matrix <see cref="SparseConvolution"/> reads
/// (the image itself for 1×1 windows, the zero-bordered image for other stride-1 2-D windows, the im2col column matrix
/// otherwise). Built once at type initialisation from the arrays the compiler stores with the model's weights.
/// </summary>
public sealed class SparseFilter
{
    SparseFilter(int outChannels, int inChannels, int[] geometry, SparseConvolution.Source source, int[] rowStart, int[] offsets, float[] values)
    {
        OutChannels = outChannels;
        InChannels = inChannels;
        Geometry = geometry;
        Source = source;
        RowStart = rowStart;
        Offsets = offsets;
        Values = values;
    }

    /// <summary>M: output channels.</summary>
    public int OutChannels { get; }

    /// <summary>C: input channels.</summary>
    public int InChannels { get; }

    /// <summary>Non-zero weights stored.</summary>
    public long NonZeros => Values.Length;

    /// <summary>The packed window (<c>Window</c>) the offsets were computed for.</summary>
    internal int[] Geometry { get; }

    /// <summary>The matrix the offsets point into.</summary>
    internal SparseConvolution.Source Source { get; }

    /// <summary>Where output channel o's entries start; <see cref="OutChannels"/> + 1 entries.</summary>
    internal int[] RowStart { get; }

    /// <summary>Per entry, the offset (in floats) of its input row in the source matrix.</summary>
    internal int[] Offsets { get; }

    /// <summary>The weight of each entry.</summary>
    internal float[] Values { get; }

    /// <summary>
    /// Builds the filter from compressed rows: output channel o's weights are entries <paramref name="rowStart"/>[o] ..
    /// [o + 1], each with its weight in <paramref name="values"/> and its index into the ONNX filter's
    /// <c>C × k...</c> taps (input channel · taps + tap) in <paramref name="taps"/> (the arrays of a height-1
    /// <see cref="BlockSparseMatrix"/> of the filter seen as a [C·taps × M] matrix). Zero weights are dropped.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays do not describe a valid M × C·taps filter.</exception>
    public static SparseFilter Create(int outChannels, int inChannels, int[] geometry, ReadOnlySpan<int> rowStart, ReadOnlySpan<ushort> taps, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        var window = new Window(geometry);
        int kernelSize = window.KernelSize;
        CompressedRows.Validate(inChannels * kernelSize, outChannels, rowStart, taps, values);
        var source = SparseConvolution.SourceOf(window);
        var start = new int[outChannels + 1];
        var offsets = new int[values.Length];
        var kept = new float[values.Length];
        int count = 0;
        for (int o = 0; o < outChannels; o++)
        {
            for (int e = rowStart[o]; e < rowStart[o + 1]; e++)
            {
                if (values[e] == 0) continue;
                offsets[count] = SparseConvolution.RowOffset(window, source, taps[e] / kernelSize, taps[e] % kernelSize);
                kept[count++] = values[e];
            }
            start[o + 1] = count;
        }
        return new SparseFilter(outChannels, inChannels, (int[])geometry.Clone(), source, start, offsets.AsSpan(0, count).ToArray(), kept.AsSpan(0, count).ToArray());
    }
}
