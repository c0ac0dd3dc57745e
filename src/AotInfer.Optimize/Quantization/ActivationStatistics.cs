using System;

namespace AotInfer.Optimize.Quantization;

/// <summary>
/// Streaming statistics of one activation tensor over the calibration set: min and max in a first pass, then a
/// histogram of |x| over [0, max |x|] in a second pass. Memory is constant in the number of samples — the
/// activations themselves are never kept.
/// </summary>
public sealed class ActivationStatistics
{
    /// <summary>Number of histogram bins (as ONNX Runtime's and TensorRT's calibrators).</summary>
    public const int BinCount = 2048;

    /// <summary>Starts empty statistics for the value <paramref name="name"/>.</summary>
    public ActivationStatistics(string name) => Name = name;

    /// <summary>The value observed.</summary>
    public string Name { get; }

    /// <summary>Smallest value seen.</summary>
    public float Min { get; private set; } = float.PositiveInfinity;

    /// <summary>Largest value seen.</summary>
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>max(|Min|, |Max|).</summary>
    public float AbsMax => Math.Max(Math.Abs(Min), Math.Abs(Max));

    /// <summary>Counts of |x| in <see cref="BinCount"/> equal bins over [0, <see cref="AbsMax"/>]; null until the second pass.</summary>
    public long[]? Histogram { get; private set; }

    /// <summary>Values that were exactly zero (not in <see cref="Histogram"/>).</summary>
    public long ExactZeros { get; private set; }

    /// <summary>Width of one histogram bin.</summary>
    public double BinWidth => AbsMax > 0 ? AbsMax / (double)BinCount : 1;

    /// <summary>First pass: updates min and max.</summary>
    public void ObserveRange(ReadOnlySpan<float> values)
    {
        float min = Min, max = Max;
        foreach (float v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        Min = min;
        Max = max;
    }

    /// <summary>Second pass: adds the values to the histogram (the range is fixed by the first pass).</summary>
    public void ObserveHistogram(ReadOnlySpan<float> values)
    {
        Histogram ??= new long[BinCount];
        double scale = BinCount / (double)Math.Max(AbsMax, float.Epsilon);
        foreach (float v in values)
        {
            // Exact zeros (most of a ReLU output) are exact at any range; counted apart so they do not swamp the
            // distribution the range search compares.
            if (v == 0) { ExactZeros++; continue; }
            int bin = (int)(Math.Abs(v) * scale);
            Histogram[Math.Min(bin, BinCount - 1)]++;
        }
    }
}
