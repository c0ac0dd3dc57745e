using System;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Constant 5×5 weights transformed for <see cref="WinogradF4x5"/>: 64 positions ξ = 8i + j of the 8×8 transformed
/// tile, in the layout of <see cref="WinogradChannelFilter"/>.
/// </summary>
/// <remarks>
/// G is the Toom-Cook filter transform of F(4, 5) for the interpolation points 0, ±1, ±2, ±½ and ∞ (the points of
/// F(6, 3), the usual choice for 8-point transforms: they keep every coefficient of Bᵀ and Aᵀ a short binary fraction).
/// Row j of G evaluates the filter at point pⱼ, divided by Πₗ≠ⱼ (pⱼ − pₗ) so that the input transform keeps the
/// integer-like coefficients; the row of ∞ takes the last tap.
/// </remarks>
public sealed class WinogradF4x5Filter : WinogradChannelFilter
{
    /// <summary>Positions of the 8×8 transformed tile.</summary>
    internal const int Positions = 64;

    /// <summary>The finite interpolation points, in the order of the rows of Bᵀ and columns of Aᵀ in <see cref="WinogradF4x5"/>.</summary>
    internal static readonly double[] Points = { 0, 1, -1, 2, -2, 0.5, -0.5 };

    static readonly double[,] G = FilterTransform();

    WinogradF4x5Filter(ReadOnlySpan<float> weights, int outChannels, int inChannels) : base(weights, outChannels, inChannels, G, compactTail: true) { }

    /// <summary>
    /// Transforms and packs ONNX Conv weights <c>[M, C, 5, 5]</c> (group 1) for the current <see cref="MatrixMultiply.Tier"/>.
    /// </summary>
    public static WinogradF4x5Filter Pack(ReadOnlySpan<float> weights, int outChannels, int inChannels) => new(weights, outChannels, inChannels);

    /// <summary>G (8×5): row j is (1, pⱼ, pⱼ², pⱼ³, pⱼ⁴) / Πₗ≠ⱼ (pⱼ − pₗ) for the seven finite points, then (0, 0, 0, 0, 1) for ∞.</summary>
    static double[,] FilterTransform()
    {
        var g = new double[8, 5];
        for (int j = 0; j < Points.Length; j++)
        {
            double scale = 1;
            for (int l = 0; l < Points.Length; l++)
                if (l != j) scale *= Points[j] - Points[l];
            for (int k = 0; k < 5; k++) g[j, k] = Math.Pow(Points[j], k) / scale;
        }
        g[7, 4] = 1;
        return g;
    }
}
