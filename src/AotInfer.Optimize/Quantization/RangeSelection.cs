using System;

namespace AotInfer.Optimize.Quantization;

/// <summary>How the clipping range of an activation is chosen from its calibration statistics.</summary>
public enum CalibrationMethod
{
    /// <summary>The observed minimum and maximum.</summary>
    MinMax,
    /// <summary>The 99.99th percentile of |x|.</summary>
    Percentile,
    /// <summary>The threshold minimising the KL divergence between the float and quantised distributions (TensorRT's method).</summary>
    Entropy,
    /// <summary>The threshold minimising the expected squared error (rounding noise inside, clipping error outside).</summary>
    Mse,
}

/// <summary>Chooses activation ranges [low, high] from <see cref="ActivationStatistics"/>.</summary>
public static class RangeSelection
{
    /// <summary>Percentile of |x| kept by <see cref="CalibrationMethod.Percentile"/>.</summary>
    public const double Percentile = 99.99;

    /// <summary>The range to quantise with, for <paramref name="levels"/> quantisation levels (256 for 8 bits).</summary>
    public static (float Low, float High) Choose(ActivationStatistics s, CalibrationMethod method, int levels = 256)
    {
        if (method == CalibrationMethod.MinMax || s.Histogram is null || s.AbsMax == 0) return (s.Min, s.Max);
        bool nonNegative = s.Min >= 0;
        // |x| of a signed tensor is quantised on half the levels (the other half holds the negative side).
        int magnitudeLevels = nonNegative ? levels : levels / 2;
        int bin = method switch
        {
            CalibrationMethod.Percentile => PercentileBin(s.Histogram, Percentile),
            CalibrationMethod.Entropy => EntropyBin(s.Histogram, magnitudeLevels),
            _ => MseBin(s.Histogram, s.BinWidth, nonNegative ? levels - 1 : (levels - 1) / 2.0),
        };
        float threshold = (float)(bin * s.BinWidth);
        return nonNegative ? (0, Math.Min(threshold, s.Max)) : (Math.Max(s.Min, -threshold), Math.Min(s.Max, threshold));
    }

    /// <summary>The number of leading bins holding <paramref name="percent"/>% of the counts.</summary>
    static int PercentileBin(long[] histogram, double percent)
    {
        long total = 0;
        foreach (long c in histogram) total += c;
        double target = total * percent / 100;
        long running = 0;
        for (int i = 0; i < histogram.Length; i++)
        {
            running += histogram[i];
            if (running >= target) return i + 1;
        }
        return histogram.Length;
    }

    /// <summary>
    /// KL calibration: for each candidate cut i, P is the histogram up to i with the outliers added to its last bin,
    /// Q is P merged into <paramref name="levels"/> groups and expanded back (each group's mass spread over its non-empty
    /// bins); the cut with the smallest KL(P‖Q) wins.
    /// </summary>
    static int EntropyBin(long[] histogram, int levels)
    {
        int bins = histogram.Length;
        if (bins <= levels) return bins;
        double bestDivergence = double.PositiveInfinity;
        int best = bins;
        var p = new double[bins];
        var q = new double[bins];
        for (int cut = levels; cut <= bins; cut++)
        {
            double outliers = 0;
            for (int i = cut; i < bins; i++) outliers += histogram[i];
            for (int i = 0; i < cut; i++) p[i] = histogram[i];
            p[cut - 1] += outliers;
            double perLevel = cut / (double)levels;
            for (int level = 0; level < levels; level++)
            {
                int start = (int)(level * perLevel), end = level == levels - 1 ? cut : (int)((level + 1) * perLevel);
                double mass = 0;
                int nonEmpty = 0;
                for (int i = start; i < end; i++) { mass += histogram[i]; if (histogram[i] != 0) nonEmpty++; }
                for (int i = start; i < end; i++) q[i] = histogram[i] == 0 || nonEmpty == 0 ? 0 : mass / nonEmpty;
            }
            double pSum = 0, qSum = 0;
            for (int i = 0; i < cut; i++) { pSum += p[i]; qSum += q[i]; }
            if (pSum == 0 || qSum == 0) continue;
            double divergence = 0;
            for (int i = 0; i < cut; i++)
            {
                if (p[i] == 0) continue;
                double pi = p[i] / pSum, qi = q[i] / qSum;
                // A bin Q leaves empty but P fills (only the outlier bin can): a small floor keeps the sum finite.
                divergence += pi * Math.Log(pi / Math.Max(qi, 1e-12));
            }
            if (divergence < bestDivergence) { bestDivergence = divergence; best = cut; }
        }
        return best;
    }

    /// <summary>
    /// MSE calibration: with the range cut at t, values below t carry uniform rounding noise Δ²/12 with
    /// Δ = t / <paramref name="steps"/>, values above carry the clipping error (x − t)².
    /// </summary>
    static int MseBin(long[] histogram, double binWidth, double steps)
    {
        double bestError = double.PositiveInfinity;
        int best = histogram.Length;
        for (int cut = 1; cut <= histogram.Length; cut++)
        {
            double t = cut * binWidth, delta = t / steps, error = 0;
            for (int i = 0; i < histogram.Length; i++)
            {
                if (histogram[i] == 0) continue;
                double center = (i + 0.5) * binWidth;
                error += histogram[i] * (center <= t ? delta * delta / 12 : (center - t) * (center - t));
            }
            if (error < bestError) { bestError = error; best = cut; }
        }
        return best;
    }
}
