using System;
using System.Runtime.CompilerServices;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Constant 5×5 weights transformed for <see cref="WinogradF4x5"/>: U = G g Gᵀ per (output, input) channel pair, 64
/// positions ξ = 8i + j, laid out <c>[64 positions][M/L blocks][C][L]</c> so that each position's element-wise product
/// is a run of L-wide output-channel vectors over the C input channels (L = the tier's vector lanes, the channels past
/// M zero, so any M works). Generated code builds one per layer at type initialisation: the layout depends on the CPU.
/// </summary>
/// <remarks>
/// G is the Toom-Cook filter transform of F(4, 5) for the interpolation points 0, ±1, ±2, ±½ and ∞ (the points of
/// F(6, 3), the usual choice for 8-point transforms: they keep every coefficient of Bᵀ and Aᵀ a short binary fraction).
/// Row j of G evaluates the filter at point pⱼ, divided by Πₗ≠ⱼ (pⱼ − pₗ) so that the input transform keeps the
/// integer-like coefficients; the row of ∞ takes the last tap. It is built and applied in double and rounded once, so
/// the transformed weights carry no error of their own.
/// </remarks>
public sealed unsafe class WinogradF4x5Filter
{
    /// <summary>Positions of the 8×8 transformed tile.</summary>
    internal const int Positions = 64;

    /// <summary>The finite interpolation points, in the order of the rows of Bᵀ and columns of Aᵀ in <see cref="WinogradF4x5"/>.</summary>
    internal static readonly double[] Points = { 0, 1, -1, 2, -2, 0.5, -0.5 };

    static readonly double[,] G = FilterTransform();

    readonly float[] _data;
    readonly int _offset;

    WinogradF4x5Filter(GemmTier tier, int lanes, int outChannels, int inChannels, float[] data, int offset)
    {
        (Tier, Lanes, OutChannels, InChannels, _data, _offset) = (tier, lanes, outChannels, inChannels, data, offset);
    }

    /// <summary>The tier whose vector width this layout feeds.</summary>
    public GemmTier Tier { get; }

    /// <summary>Output channels per block (the tier's vector lanes).</summary>
    public int Lanes { get; }

    /// <summary>Output channels M.</summary>
    public int OutChannels { get; }

    /// <summary>Input channels C.</summary>
    public int InChannels { get; }

    /// <summary>Channel blocks: ⌈M / L⌉.</summary>
    public int Blocks => (OutChannels + Lanes - 1) / Lanes;

    /// <summary>The C vectors of L transformed weights of position <paramref name="position"/> and channel block <paramref name="block"/>.</summary>
    internal float* Weights(int position, int block) =>
        (float*)Unsafe.AsPointer(ref _data[_offset]) + ((long)position * Blocks + block) * InChannels * Lanes;

    /// <summary>
    /// Transforms and packs ONNX Conv weights <c>[M, C, 5, 5]</c> (group 1) for the current <see cref="MatrixMultiply.Tier"/>.
    /// </summary>
    public static WinogradF4x5Filter Pack(ReadOnlySpan<float> weights, int outChannels, int inChannels)
    {
        if (outChannels <= 0 || inChannels <= 0 || weights.Length != outChannels * inChannels * 25)
            throw new ArgumentException($"weights have {weights.Length} elements, not {outChannels} output channels × {inChannels} input channels × 5×5", nameof(weights));
        var tier = MatrixMultiply.Tier;
        int lanes = ChannelBlockedFilter.LanesOf(tier), blocks = (outChannels + lanes - 1) / lanes;
        var data = AlignedFloats.Allocate(Positions * blocks * inChannels * lanes, out int offset);
        Span<double> gg = stackalloc double[8 * 5];
        for (int m = 0; m < outChannels; m++)
        {
            int block = m / lanes, lane = m - block * lanes;
            for (int c = 0; c < inChannels; c++)
            {
                ReadOnlySpan<float> g = weights.Slice((m * inChannels + c) * 25, 25);
                // G g (8×5), then (G g) Gᵀ (8×8).
                for (int i = 0; i < 8; i++)
                    for (int b = 0; b < 5; b++)
                    {
                        double sum = 0;
                        for (int a = 0; a < 5; a++) sum += G[i, a] * g[5 * a + b];
                        gg[5 * i + b] = sum;
                    }
                for (int i = 0; i < 8; i++)
                    for (int j = 0; j < 8; j++)
                    {
                        double u = 0;
                        for (int b = 0; b < 5; b++) u += gg[5 * i + b] * G[j, b];
                        data[offset + (((long)(8 * i + j) * blocks + block) * inChannels + c) * lanes + lane] = (float)u;
                    }
            }
        }
        return new WinogradF4x5Filter(tier, lanes, outChannels, inChannels, data, offset);
    }

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
