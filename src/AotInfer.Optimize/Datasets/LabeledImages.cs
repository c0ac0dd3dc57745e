using System;

namespace AotInfer.Optimize.Datasets;

/// <summary>
/// A classification dataset held as one contiguous float buffer: <see cref="Count"/> samples of
/// <see cref="SampleShape"/> (e.g. [1,28,28]) and one integer label each.
/// </summary>
public sealed class LabeledImages
{
    readonly float[] _pixels;

    /// <summary>Wraps <paramref name="pixels"/> (Count × product(sampleShape) floats) and the labels.</summary>
    public LabeledImages(float[] pixels, int[] sampleShape, int[] labels, string description)
    {
        int size = 1;
        foreach (int d in sampleShape) size *= d;
        if (size <= 0 || pixels.Length != size * labels.Length)
            throw new ArgumentException($"{description}: {pixels.Length} values do not make {labels.Length} samples of [{string.Join(",", sampleShape)}]");
        _pixels = pixels;
        SampleShape = sampleShape;
        SampleSize = size;
        Labels = labels;
        Description = description;
    }

    /// <summary>Shape of one sample without the batch dimension.</summary>
    public int[] SampleShape { get; }

    /// <summary>Number of values in one sample.</summary>
    public int SampleSize { get; }

    /// <summary>The label of each sample.</summary>
    public int[] Labels { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>Where the data came from, for reports.</summary>
    public string Description { get; }

    /// <summary>Number of classes (largest label + 1).</summary>
    public int ClassCount
    {
        get
        {
            int max = -1;
            foreach (int l in Labels) max = Math.Max(max, l);
            return max + 1;
        }
    }

    /// <summary>The values of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Sample(int index) => _pixels.AsSpan(index * SampleSize, SampleSize);

    /// <summary>The first <paramref name="count"/> samples (or all when fewer).</summary>
    public LabeledImages Take(int count)
    {
        count = Math.Min(count, Count);
        if (count == Count) return this;
        return new LabeledImages(_pixels.AsSpan(0, count * SampleSize).ToArray(), SampleShape, Labels.AsSpan(0, count).ToArray(), $"{Description} (first {count})");
    }
}
