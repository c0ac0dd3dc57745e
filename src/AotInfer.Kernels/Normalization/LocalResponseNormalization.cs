using System;
using System.Numerics;

namespace AotInfer.Kernels.Normalization;

/// <summary>LRN across channels on x viewed as [batch, channels, spatial].</summary>
public static class LocalResponseNormalization
{
    /// <summary>
    /// y = x / (bias + α/size · Σ x²)^β where the sum runs over channels c − ⌊(size−1)/2⌋ … c + ⌈(size−1)/2⌉
    /// clipped to the tensor; <paramref name="squareSums"/> is scratch of <paramref name="spatial"/> elements.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> y, int channels, int spatial, int size, T alpha, T beta, T bias, Span<T> squareSums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int block = channels * spatial;
        if (block == 0) return;
        int before = (size - 1) / 2, after = size - 1 - before;
        T scale = alpha / T.CreateTruncating(size);
        for (int n = 0; n < x.Length / block; n++)
        {
            var image = x.Slice(n * block, block);
            for (int c = 0; c < channels; c++)
            {
                squareSums.Clear();
                for (int k = Math.Max(0, c - before); k <= Math.Min(channels - 1, c + after); k++)
                    Reduction.Reduce.CombineRow<T, Reduction.ReduceSumSquareOperator<T>>(squareSums, image.Slice(k * spatial, spatial));
                var source = image.Slice(c * spatial, spatial);
                var target = y.Slice(n * block + c * spatial, spatial);
                for (int i = 0; i < spatial; i++) target[i] = source[i] / T.Pow(bias + scale * squareSums[i], beta);
            }
        }
    }
}
