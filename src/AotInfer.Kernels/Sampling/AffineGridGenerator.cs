using System;

namespace AotInfer.Kernels.Sampling;

/// <summary>
/// ONNX AffineGrid: for each batch item, maps every point of a regular grid over [-1, 1]^k through the affine matrix
/// theta ([N, 2, 3] for 2-D, [N, 3, 4] for 3-D). Output [N, H, W, 2] or [N, D, H, W, 3], last axis (x, y[, z]).
/// </summary>
public static class AffineGridGenerator
{
    /// <summary>Writes the grid; <paramref name="spatial"/> is (H, W) or (D, H, W).</summary>
    public static void Generate(ReadOnlySpan<float> theta, Span<float> grid, int n, int[] spatial, bool alignCorners)
    {
        int k = spatial.Length;
        int points = 1;
        foreach (int s in spatial) points *= s;
        Span<double> homogeneous = stackalloc double[k + 1];
        Span<int> index = stackalloc int[k];
        for (int b = 0; b < n; b++)
        {
            ReadOnlySpan<float> t = theta.Slice(b * k * (k + 1), k * (k + 1));
            index.Clear();
            for (int p = 0; p < points; p++)
            {
                // Homogeneous point (x, y[, z], 1): x runs along the last spatial axis.
                for (int d = 0; d < k; d++) homogeneous[d] = Base(index[k - 1 - d], spatial[k - 1 - d], alignCorners);
                homogeneous[k] = 1;
                for (int row = 0; row < k; row++)
                {
                    double sum = 0;
                    for (int col = 0; col <= k; col++) sum += t[row * (k + 1) + col] * homogeneous[col];
                    grid[(b * points + p) * k + row] = (float)sum;
                }
                for (int d = k - 1; d >= 0 && ++index[d] == spatial[d]; d--) index[d] = 0;
            }
        }
    }

    /// <summary>The normalised coordinate of sample <paramref name="i"/> of <paramref name="length"/>.</summary>
    static double Base(int i, int length, bool alignCorners)
    {
        if (alignCorners) return length == 1 ? -1 : -1 + i * (2.0 / (length - 1));
        double step = 2.0 / length;
        return -1 + step / 2 + i * step;
    }
}
