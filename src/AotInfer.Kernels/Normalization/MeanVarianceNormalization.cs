using System;
using System.Numerics;
using AotInfer.Kernels.Elementwise;
using AotInfer.Kernels.Reduction;

namespace AotInfer.Kernels.Normalization;

/// <summary>MeanVarianceNormalization: y = (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over the given axes.</summary>
public static class MeanVarianceNormalization
{
    /// <summary>
    /// <paramref name="dims"/>/<paramref name="reduced"/> is the canonical reduction shape (see <see cref="Reduce"/>);
    /// <paramref name="mean"/> and <paramref name="deviation"/> are scratch of the keep-dims statistics shape
    /// <paramref name="statsShape"/>, holding <paramref name="count"/> elements per statistic.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, int[] xShape, Span<T> y, int[] dims, int[] reduced, int count,
        Span<T> mean, Span<T> deviation, int[] statsShape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Reduce.Run<T, ReduceSumOperator<T>>(x, mean, dims, reduced);
        Reduce.Run<T, ReduceSumSquareOperator<T>>(x, deviation, dims, reduced);
        T n = T.CreateTruncating(count);
        T epsilon = T.CreateTruncating(1e-9);
        for (int i = 0; i < mean.Length; i++)
        {
            mean[i] /= n;
            T variance = deviation[i] / n - mean[i] * mean[i];
            deviation[i] = T.Sqrt(T.Max(variance, T.Zero)) + epsilon;
        }
        Broadcast.Binary<T, T, SubtractOperator<T>>(x, xShape, mean, statsShape, y, xShape);
        Broadcast.Binary<T, T, DivideOperator<T>>(y, xShape, deviation, statsShape, y, xShape);
    }
}
