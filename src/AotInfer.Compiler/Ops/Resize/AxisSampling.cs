using System;

namespace AotInfer.Compiler.Ops.Resize;

/// <summary>The interpolation kernels Resize and Upsample offer.</summary>
public enum InterpolationMode
{
    /// <summary>Nearest neighbour: one source element per output element.</summary>
    Nearest,
    /// <summary>Linear along each axis (bilinear, trilinear...).</summary>
    Linear,
    /// <summary>Cubic convolution (Keys) along each axis.</summary>
    Cubic,
}

/// <summary>How an output coordinate maps back to a source coordinate (ONNX <c>coordinate_transformation_mode</c>).</summary>
public enum CoordinateMode
{
    /// <summary><c>(x + 0.5) / scale - 0.5</c>.</summary>
    HalfPixel,
    /// <summary>Half pixel with the implicit region centred when the output size was rounded.</summary>
    HalfPixelSymmetric,
    /// <summary>Half pixel, except a one-element output samples at -0.5.</summary>
    PytorchHalfPixel,
    /// <summary><c>x * (in - 1) / (out - 1)</c>.</summary>
    AlignCorners,
    /// <summary><c>x / scale</c>.</summary>
    Asymmetric,
    /// <summary><c>(x + 0.5) / scale</c> (Resize-11 only).</summary>
    TfHalfPixelForNearest,
    /// <summary>Samples inside the region of interest; outside it the result is the extrapolation value.</summary>
    TfCropAndResize,
}

/// <summary>How nearest mode rounds a fractional source coordinate (ONNX <c>nearest_mode</c>).</summary>
public enum NearestRounding
{
    /// <summary>Round half down.</summary>
    RoundPreferFloor,
    /// <summary>Round half up.</summary>
    RoundPreferCeil,
    /// <summary>Floor.</summary>
    Floor,
    /// <summary>Ceiling.</summary>
    Ceil,
    /// <summary>Before Resize-11 and in Upsample: floor when enlarging, ceiling when shrinking (what ONNX Runtime does).</summary>
    Legacy,
}

/// <summary>Everything that decides the sampling of one axis, independent of the data.</summary>
/// <param name="InputSize">Source length along the axis.</param>
/// <param name="OutputSize">Output length along the axis.</param>
/// <param name="Scale">The scale factor the coordinate transformation divides by.</param>
/// <param name="ScaledWidth">Unrounded output length (<c>scale * input</c>), which some transformations use.</param>
/// <param name="RoiStart">Normalised region start (tf_crop_and_resize).</param>
/// <param name="RoiEnd">Normalised region end (tf_crop_and_resize).</param>
public sealed record AxisGeometry(int InputSize, int OutputSize, double Scale, double ScaledWidth, double RoiStart, double RoiEnd);

/// <summary>Attributes that shape the per-axis sampling tables.</summary>
/// <param name="Mode">Interpolation kernel.</param>
/// <param name="Coordinates">Coordinate transformation.</param>
/// <param name="Rounding">Rounding of nearest mode.</param>
/// <param name="CubicCoefficient">The cubic kernel's <c>A</c>.</param>
/// <param name="ExcludeOutside">Zero and renormalise the weights of taps outside the source.</param>
/// <param name="Antialias">Widen the linear/cubic filter when shrinking.</param>
public sealed record SamplingSettings(InterpolationMode Mode, CoordinateMode Coordinates, NearestRounding Rounding, double CubicCoefficient, bool ExcludeOutside, bool Antialias);

/// <summary>
/// The sampling table of one axis, computed at compile time: for output coordinate <c>o</c>, taps
/// <c>o * Taps .. o * Taps + Taps - 1</c> give a source index (clamped into the source, as edge padding would) and
/// a weight. An index of -1 marks an output coordinate that takes the extrapolation value instead.
/// </summary>
public sealed class AxisSampling
{
    AxisSampling(int taps, int[] indices, double[] weights)
    {
        Taps = taps;
        Indices = indices;
        Weights = weights;
    }

    /// <summary>Taps per output coordinate.</summary>
    public int Taps { get; }

    /// <summary>Source indices, <c>OutputSize * Taps</c> of them; -1 means extrapolate.</summary>
    public int[] Indices { get; }

    /// <summary>Weights matching <see cref="Indices"/>.</summary>
    public double[] Weights { get; }

    /// <summary>Number of output coordinates.</summary>
    public int OutputSize => Indices.Length / Taps;

    /// <summary>True when the axis maps every output coordinate to the same source coordinate with weight one.</summary>
    public bool IsIdentity(int inputSize)
    {
        if (OutputSize != inputSize) return false;
        for (int o = 0; o < OutputSize; o++)
        {
            // Edge clamping can repeat index o, so add up its weights; every other tap must weigh nothing.
            double own = 0;
            for (int t = 0; t < Taps; t++)
            {
                int i = o * Taps + t;
                if (Indices[i] == o) own += Weights[i];
                else if (Weights[i] != 0) return false;
            }
            if (own != 1) return false;
        }
        return true;
    }

    /// <summary>
    /// Builds the table the way the ONNX reference implementation samples: map the output coordinate to a source
    /// coordinate, take the kernel's coefficients for its fractional part, pick that many nearest source positions
    /// (ties to the lower one) on the edge-padded source, and pair them in order.
    /// </summary>
    public static AxisSampling Build(AxisGeometry axis, SamplingSettings settings)
    {
        int outSize = axis.OutputSize;
        int inSize = axis.InputSize;
        // Null rows are coordinates outside the region of interest (tf_crop_and_resize): they extrapolate.
        var rows = new (int[] Index, double[] Weight)?[outSize];
        for (int o = 0; o < outSize; o++)
            rows[o] = SourceCoordinate(o, axis, settings.Coordinates) is double x ? Sample(x, axis, settings) : null;
        // Nearest keeps only the tap that has the weight; the others would slow the run-time loop for nothing.
        int taps = 1;
        if (settings.Mode != InterpolationMode.Nearest)
            foreach (var row in rows) taps = Math.Max(taps, row?.Index.Length ?? 1);
        var indices = new int[outSize * taps];
        var weights = new double[outSize * taps];
        for (int o = 0; o < outSize; o++)
        {
            if (rows[o] is not var (index, weight))
            {
                for (int t = 0; t < taps; t++) indices[o * taps + t] = -1;
                continue;
            }
            if (settings.Mode == InterpolationMode.Nearest)
            {
                int pick = Array.FindIndex(weight, w => w != 0);
                indices[o * taps] = Clamp(index[pick], inSize);
                weights[o * taps] = 1;
                continue;
            }
            for (int t = 0; t < taps; t++)
            {
                indices[o * taps + t] = Clamp(index[t], inSize);
                weights[o * taps + t] = weight[t];
            }
        }
        return new AxisSampling(taps, indices, weights);
    }

    // Edge padding: taps past either end read the end element.
    static int Clamp(int index, int size) => Math.Min(Math.Max(index, 0), size - 1);

    /// <summary>The source coordinate of output coordinate <paramref name="x"/>, or null when it lies outside the region of interest.</summary>
    static double? SourceCoordinate(int x, AxisGeometry axis, CoordinateMode mode)
    {
        int inSize = axis.InputSize;
        double scale = axis.Scale, width = axis.ScaledWidth;
        switch (mode)
        {
            case CoordinateMode.AlignCorners:
                return width == 1 ? 0.0 : x * (double)(inSize - 1) / (width - 1);
            case CoordinateMode.Asymmetric:
                return x / scale;
            case CoordinateMode.TfHalfPixelForNearest:
                return (x + 0.5) / scale;
            case CoordinateMode.PytorchHalfPixel:
                return width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
            case CoordinateMode.HalfPixelSymmetric:
                {
                    double adjustment = axis.OutputSize / width;
                    double offset = inSize / 2.0 * (1 - adjustment);
                    return offset + (x + 0.5) / scale - 0.5;
                }
            case CoordinateMode.TfCropAndResize:
                {
                    double span = axis.RoiEnd - axis.RoiStart;
                    double source = width == 1 ? span * (inSize - 1) / 2 : x * span * (inSize - 1) / (width - 1);
                    source += axis.RoiStart * (inSize - 1);
                    return source < 0 || source > inSize - 1 ? null : source;
                }
            default:
                return (x + 0.5) / scale - 0.5;
        }
    }

    /// <summary>Source indices (unclamped) and weights for one source coordinate.</summary>
    static (int[] Index, double[] Weight) Sample(double x, AxisGeometry axis, SamplingSettings settings)
    {
        double floor = Math.Floor(x);
        // The fraction lies in (0, 1]: an exact integer counts as a whole step past the pixel on its left.
        double ratio = x == floor ? 1 : x - floor;
        double[] coefficients = Coefficients(ratio, axis.Scale, settings);
        int n = coefficients.Length;

        // The n positions nearest to x (ties to the lower one) on the source padded by ceil(n/2) edge elements.
        int pad = (n + 1) / 2;
        int limit = axis.InputSize + 2 * pad;
        double padded = x + pad;
        int start = (int)Math.Ceiling(padded - n / 2.0);
        start = Math.Max(0, Math.Min(start, limit - n));
        var index = new int[n];
        for (int t = 0; t < n; t++) index[t] = start + t - pad;

        if (settings.ExcludeOutside)
        {
            double sum = 0;
            for (int t = 0; t < n; t++)
            {
                if (index[t] < 0 || index[t] >= axis.InputSize) coefficients[t] = 0;
                sum += coefficients[t];
            }
            for (int t = 0; t < n; t++) coefficients[t] /= sum;
        }
        return (index, coefficients);
    }

    static double[] Coefficients(double ratio, double scale, SamplingSettings settings)
    {
        switch (settings.Mode)
        {
            case InterpolationMode.Nearest:
                {
                    if (ratio == 1) return new[] { 0.0, 1.0 };
                    bool upper = settings.Rounding switch
                    {
                        NearestRounding.RoundPreferFloor => ratio > 0.5,
                        NearestRounding.RoundPreferCeil => ratio >= 0.5,
                        NearestRounding.Floor => false,
                        NearestRounding.Ceil => true,
                        _ => scale < 1,
                    };
                    return upper ? new[] { 0.0, 1.0 } : new[] { 1.0, 0.0 };
                }
            case InterpolationMode.Linear:
                return settings.Antialias ? LinearAntialias(ratio, scale) : new[] { 1 - ratio, ratio };
            default:
                return settings.Antialias ? CubicAntialias(ratio, scale, settings.CubicCoefficient) : Cubic(ratio, settings.CubicCoefficient);
        }
    }

    static double[] Cubic(double ratio, double a)
    {
        double Near(double d) => ((a + 2) * d - (a + 3)) * d * d + 1;       // |d| <= 1
        double Far(double d) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;  // 1 < |d| < 2
        return new[] { Far(ratio + 1), Near(ratio), Near(1 - ratio), Far(2 - ratio) };
    }

    static double[] LinearAntialias(double ratio, double scale)
    {
        // Shrinking widens the triangle filter to 1/scale source elements on each side.
        scale = Math.Min(scale, 1.0);
        int start = (int)Math.Floor(-1 / scale) + 1;
        int footprint = 2 - 2 * start;
        var result = new double[footprint];
        for (int i = 0; i < footprint; i++)
            result[i] = Math.Min(Math.Max(1 - Math.Abs((start + i - ratio) * scale), 0), 1);
        return Normalised(result);
    }

    static double[] CubicAntialias(double ratio, double scale, double a)
    {
        scale = Math.Min(scale, 1.0);
        int start = (int)Math.Floor(-2 / scale) + 1;
        int end = 2 - start;
        var result = new double[end - start];
        for (int i = start; i < end; i++)
        {
            double x = Math.Abs(scale * (i - ratio));
            double x2 = x * x, x3 = x * x2;
            result[i - start] = x <= 1 ? (a + 2) * x3 - (a + 3) * x2 + 1
                : x < 2 ? a * x3 - 5 * a * x2 + 8 * a * x - 4 * a
                : 0;
        }
        return Normalised(result);
    }

    static double[] Normalised(double[] values)
    {
        double sum = 0;
        foreach (double v in values) sum += v;
        for (int i = 0; i < values.Length; i++) values[i] /= sum;
        return values;
    }
}
