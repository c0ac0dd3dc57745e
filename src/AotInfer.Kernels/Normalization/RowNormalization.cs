using System;
using System.Numerics;
using AotInfer.Kernels.Reduction;

namespace AotInfer.Kernels.Normalization;

/// <summary>
/// Normalisation of contiguous rows, the core of LayerNormalization, GroupNormalization, InstanceNormalization and
/// RMSNormalization: each row is normalised to zero mean and unit variance (two-pass variance), or divided by its
/// root mean square; the affine step (scale, bias) is a separate call because each op indexes scale differently.
/// </summary>
public static class RowNormalization
{
    /// <summary>
    /// y = (x − mean)/√(var + ε) per row of <paramref name="length"/> elements; <paramref name="mean"/> and
    /// <paramref name="inverseStdDev"/> receive one value per row unless empty.
    /// </summary>
    public static void Standardize<T>(ReadOnlySpan<T> x, Span<T> y, int length, T epsilon, Span<T> mean, Span<T> inverseStdDev)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (length == 0) return;
        int rows = x.Length / length;
        T n = T.CreateTruncating(length);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * length, length);
            T m = Reduce.Fold<T, ReduceSumOperator<T>>(row) / n;
            T variance = RowMath.SumSquaredDeviations(row, m) / n;
            T inverse = T.One / T.Sqrt(variance + epsilon);
            RowMath.ShiftScale(row, y.Slice(r * length, length), m, inverse);
            if (!mean.IsEmpty) mean[r] = m;
            if (!inverseStdDev.IsEmpty) inverseStdDev[r] = inverse;
        }
    }

    /// <summary>y = x/√(mean(x²) + ε) per row (RMSNormalization).</summary>
    public static void RootMeanSquare<T>(ReadOnlySpan<T> x, Span<T> y, int length, T epsilon) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (length == 0) return;
        int rows = x.Length / length;
        T n = T.CreateTruncating(length);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * length, length);
            T meanSquare = Reduce.Fold<T, ReduceSumSquareOperator<T>>(row) / n;
            RowMath.ShiftScale(row, y.Slice(r * length, length), T.Zero, T.One / T.Sqrt(meanSquare + epsilon));
        }
    }

    /// <summary>y = y·scale + bias with scale and bias repeating every scale.Length elements (bias may be empty).</summary>
    public static void ScaleRows<T>(Span<T> y, ReadOnlySpan<T> scale, ReadOnlySpan<T> bias) where T : unmanaged, INumber<T>
    {
        int length = scale.Length;
        if (length == 0) return;
        for (int r = 0; r < y.Length / length; r++) RowMath.MultiplyAddRows(y.Slice(r * length, length), scale, bias);
    }

    /// <summary>
    /// y = y·scale[c] + bias[c] for y viewed as [batch, channels, spatial]; one scale entry covers
    /// <paramref name="channelsPerEntry"/> consecutive channels (GroupNormalization-18 scales whole groups).
    /// </summary>
    public static void ScaleChannels<T>(Span<T> y, int channels, int spatial, ReadOnlySpan<T> scale, ReadOnlySpan<T> bias, int channelsPerEntry)
        where T : unmanaged, INumber<T>
    {
        int block = channels * spatial;
        if (block == 0) return;
        for (int b = 0; b < y.Length / block; b++)
            for (int c = 0; c < channels; c++)
            {
                var plane = y.Slice(b * block + c * spatial, spatial);
                RowMath.MultiplyAdd<T>(plane, plane, scale[c / channelsPerEntry], bias[c / channelsPerEntry]);
            }
    }
}
