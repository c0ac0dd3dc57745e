using System;

namespace AotInfer.Kernels.Sampling;

/// <summary>Interpolation of <see cref="GridSampler"/>.</summary>
public enum GridSampleMode
{
    /// <summary>Nearest pixel, rounding coordinates half to even (as the ONNX reference does for every rank).</summary>
    Nearest,
    /// <summary>(Multi-)linear.</summary>
    Linear,
    /// <summary>Bicubic convolution with a = -0.75.</summary>
    Cubic,
}

/// <summary>What <see cref="GridSampler"/> reads outside the input.</summary>
public enum GridSamplePadding
{
    /// <summary>Zeros.</summary>
    Zeros,
    /// <summary>The nearest border pixel.</summary>
    Border,
    /// <summary>The input reflected at its borders.</summary>
    Reflection,
}

/// <summary>
/// ONNX GridSample for any number of spatial dimensions: X [N, C, D1…Dk], grid [N, O1…Ok, k] of normalised
/// coordinates in [-1, 1] (last axis in reverse dimension order: x, y, z…), Y [N, C, O1…Ok].
/// Coordinates are denormalised in float, as the reference does, so rounding ties fall the same way.
/// </summary>
public static class GridSampler
{
    const int MaxRank = 6;

    /// <summary>Samples every output position.</summary>
    public static void Sample(ReadOnlySpan<float> x, int[] xShape, ReadOnlySpan<float> grid, Span<float> y, int[] yShape,
        GridSampleMode mode, GridSamplePadding padding, bool alignCorners)
    {
        int k = xShape.Length - 2;
        if (k < 1 || k > MaxRank) throw new ArgumentException($"GridSample supports 1 to {MaxRank} spatial dimensions");
        int n = xShape[0], c = xShape[1];
        int inSize = 1, outSize = 1;
        for (int d = 0; d < k; d++) { inSize *= xShape[d + 2]; outSize *= yShape[d + 2]; }
        Span<double> position = stackalloc double[k];
        Span<int> dims = stackalloc int[k];
        for (int d = 0; d < k; d++) dims[d] = xShape[d + 2];
        for (int b = 0; b < n; b++)
        {
            for (int o = 0; o < outSize; o++)
            {
                ReadOnlySpan<float> g = grid.Slice((b * outSize + o) * k, k);
                for (int d = 0; d < k; d++)
                {
                    float normalised = g[k - 1 - d];
                    int length = dims[d];
                    float p = alignCorners ? (normalised + 1) / 2.0f * (length - 1) : ((normalised + 1) * length - 1) / 2.0f;
                    double v = p;
                    if (mode == GridSampleMode.Nearest)
                        v = Math.Round(v, MidpointRounding.ToEven);
                    double min = alignCorners ? 0 : -0.5, max = alignCorners ? length - 1 : length - 0.5;
                    if (v < min || v > max)
                    {
                        if (padding == GridSamplePadding.Border) v = Math.Clamp(v, 0, length - 1);
                        else if (padding == GridSamplePadding.Reflection) v = (float)Reflect(v, min, max);
                    }
                    position[d] = v;
                }
                for (int ch = 0; ch < c; ch++)
                {
                    ReadOnlySpan<float> plane = x.Slice((b * c + ch) * inSize, inSize);
                    y[(b * c + ch) * outSize + o] = (float)Interpolate(plane, dims, position, mode, padding, alignCorners);
                }
            }
        }
    }

    static double Interpolate(ReadOnlySpan<float> plane, ReadOnlySpan<int> dims, ReadOnlySpan<double> position,
        GridSampleMode mode, GridSamplePadding padding, bool alignCorners)
    {
        int k = dims.Length;
        int taps = mode switch { GridSampleMode.Nearest => 1, GridSampleMode.Linear => 2, _ => 4 };
        Span<int> first = stackalloc int[k];
        Span<double> weights = stackalloc double[k * 4];
        for (int d = 0; d < k; d++)
        {
            if (mode == GridSampleMode.Nearest) { first[d] = (int)position[d]; weights[d * 4] = 1; continue; }
            int floor = (int)Math.Floor(position[d]);
            double t = position[d] - floor;
            if (mode == GridSampleMode.Linear)
            {
                first[d] = floor;
                weights[d * 4] = 1 - t;
                weights[d * 4 + 1] = t;
            }
            else
            {
                first[d] = floor - 1;
                CubicWeights(t, weights.Slice(d * 4, 4));
            }
        }
        // Sum over every combination of taps (taps^k corners), each weighted by the product of its per-axis weights.
        int corners = 1;
        for (int d = 0; d < k; d++) corners *= taps;
        double sum = 0;
        for (int corner = 0; corner < corners; corner++)
        {
            int rest = corner, offset = 0, stride = 1;
            double weight = 1;
            bool outside = false;
            for (int d = k - 1; d >= 0; d--)
            {
                int tap = rest % taps;
                rest /= taps;
                weight *= weights[d * 4 + tap];
                int index = first[d] + tap;
                if (!Resolve(ref index, dims[d], padding, alignCorners)) outside = true;
                offset += index * stride;
                stride *= dims[d];
            }
            if (!outside && weight != 0) sum += weight * plane[offset];
        }
        return sum;
    }

    /// <summary>Applies the padding rule to an integer index; false when the pixel reads as zero.</summary>
    static bool Resolve(ref int index, int length, GridSamplePadding padding, bool alignCorners)
    {
        if (index >= 0 && index < length) return true;
        switch (padding)
        {
            case GridSamplePadding.Zeros:
                return false;
            case GridSamplePadding.Border:
                index = Math.Clamp(index, 0, length - 1);
                return true;
            default:
                double min = alignCorners ? 0 : -0.5, max = alignCorners ? length - 1 : length - 0.5;
                index = (int)Reflect(index, min, max);
                index = Math.Clamp(index, 0, length - 1);
                return true;
        }
    }

    /// <summary>Reflects <paramref name="v"/> at the borders until it lies inside [min, max].</summary>
    static double Reflect(double v, double min, double max)
    {
        double range = max - min;
        if (range <= 0) return min;
        if (v < min)
        {
            double dx = min - v;
            int flips = (int)(dx / range);
            double r = dx - flips * range;
            return flips % 2 == 0 ? min + r : max - r;
        }
        if (v > max)
        {
            double dx = v - max;
            int flips = (int)(dx / range);
            double r = dx - flips * range;
            return flips % 2 == 0 ? max - r : min + r;
        }
        return v;
    }

    static void CubicWeights(double t, Span<double> w)
    {
        const double a = -0.75;
        double x0 = t + 1, x1 = t, x2 = 1 - t, x3 = 2 - t;
        w[0] = ((a * x0 - 5 * a) * x0 + 8 * a) * x0 - 4 * a;
        w[1] = ((a + 2) * x1 - (a + 3)) * x1 * x1 + 1;
        w[2] = ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1;
        w[3] = ((a * x3 - 5 * a) * x3 + 8 * a) * x3 - 4 * a;
    }
}
