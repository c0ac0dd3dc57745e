using System;
using System.Numerics;
using AotInfer.Kernels.Reduction;

namespace AotInfer.Kernels.Normalization;

/// <summary>BatchNormalization on x viewed as [batch, channels, spatial].</summary>
public static class BatchNormalization
{
    /// <summary>Inference: y = scale·(x − mean)/√(var + ε) + bias with the given running statistics, folded to one multiply-add per channel.</summary>
    public static void Inference<T>(ReadOnlySpan<T> x, Span<T> y, int channels, int spatial, ReadOnlySpan<T> scale, ReadOnlySpan<T> bias,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> variance, T epsilon) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int block = channels * spatial;
        if (block == 0) return;
        for (int c = 0; c < channels; c++)
        {
            T a = scale[c] / T.Sqrt(variance[c] + epsilon);
            T b = bias[c] - mean[c] * a;
            for (int n = 0; n < x.Length / block; n++)
            {
                int offset = n * block + c * spatial;
                RowMath.MultiplyAdd(x.Slice(offset, spatial), y.Slice(offset, spatial), a, b);
            }
        }
    }

    /// <summary>
    /// Training mode: normalises with the batch's own mean and (population) variance per channel, and writes the
    /// updated running statistics runningMean = mean·momentum + batchMean·(1 − momentum) (likewise the variance)
    /// unless those outputs are empty.
    /// </summary>
    public static void Training<T>(ReadOnlySpan<T> x, Span<T> y, int channels, int spatial, ReadOnlySpan<T> scale, ReadOnlySpan<T> bias,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> variance, T epsilon, T momentum, Span<T> runningMean, Span<T> runningVariance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int block = channels * spatial;
        if (block == 0) return;
        int batch = x.Length / block;
        T count = T.CreateTruncating(batch * spatial);
        for (int c = 0; c < channels; c++)
        {
            T sum = T.Zero;
            for (int n = 0; n < batch; n++) sum += Reduce.Fold<T, ReduceSumOperator<T>>(x.Slice(n * block + c * spatial, spatial));
            T batchMean = sum / count;
            T squares = T.Zero;
            for (int n = 0; n < batch; n++) squares += RowMath.SumSquaredDeviations(x.Slice(n * block + c * spatial, spatial), batchMean);
            T batchVariance = squares / count;
            T a = scale[c] / T.Sqrt(batchVariance + epsilon);
            T b = bias[c] - batchMean * a;
            for (int n = 0; n < batch; n++)
            {
                int offset = n * block + c * spatial;
                RowMath.MultiplyAdd(x.Slice(offset, spatial), y.Slice(offset, spatial), a, b);
            }
            if (!runningMean.IsEmpty) runningMean[c] = mean[c] * momentum + batchMean * (T.One - momentum);
            if (!runningVariance.IsEmpty) runningVariance[c] = variance[c] * momentum + batchVariance * (T.One - momentum);
        }
    }
}
