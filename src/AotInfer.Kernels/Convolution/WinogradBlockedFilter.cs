using System;
using System.Runtime.CompilerServices;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Constant 3×3 weights transformed for <see cref="WinogradBlocked"/>: U = G g Gᵀ per (output, input) channel pair,
/// 36 positions ξ = 6i + j, laid out <c>[36 positions][M/L blocks][C][L]</c> so that each position's element-wise
/// product is a run of L-wide output-channel vectors over the C input channels (L = the tier's vector lanes, the
/// channels past M zero). Generated code builds one per layer at type initialisation: the layout depends on the CPU.
/// </summary>
/// <remarks>
/// G is Lavin and Gray's F(4×4, 3×3) filter transform for the interpolation points 0, ±1, ±2 and ∞. It is applied in
/// double and rounded once, so the transformed weights carry no error of their own.
/// </remarks>
public sealed unsafe class WinogradBlockedFilter
{
    /// <summary>Positions of the 6×6 transformed tile.</summary>
    internal const int Positions = 36;

    static readonly double[,] G =
    {
        { 1.0 / 4, 0, 0 },
        { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
        { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
        { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
        { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
        { 0, 0, 1 },
    };

    readonly float[] _data;
    readonly int _offset;

    WinogradBlockedFilter(GemmTier tier, int lanes, int outChannels, int inChannels, float[] data, int offset)
    {
        Tier = tier;
        Lanes = lanes;
        OutChannels = outChannels;
        InChannels = inChannels;
        _data = data;
        _offset = offset;
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
    /// Transforms and packs ONNX Conv weights <c>[M, C, 3, 3]</c> (group 1) for the current <see cref="MatrixMultiply.Tier"/>.
    /// </summary>
    public static WinogradBlockedFilter Pack(ReadOnlySpan<float> weights, int outChannels, int inChannels)
    {
        if (outChannels <= 0 || inChannels <= 0 || weights.Length != outChannels * inChannels * 9)
            throw new ArgumentException($"weights have {weights.Length} elements, not {outChannels} output channels × {inChannels} input channels × 3×3", nameof(weights));
        var tier = MatrixMultiply.Tier;
        int lanes = ChannelBlockedFilter.LanesOf(tier), blocks = (outChannels + lanes - 1) / lanes;
        var data = AlignedFloats.Allocate(Positions * blocks * inChannels * lanes, out int offset);
        Span<double> gg = stackalloc double[18];
        for (int m = 0; m < outChannels; m++)
        {
            int block = m / lanes, lane = m - block * lanes;
            for (int c = 0; c < inChannels; c++)
            {
                ReadOnlySpan<float> g = weights.Slice((m * inChannels + c) * 9, 9);
                // G g (6×3), then (G g) Gᵀ (6×6).
                for (int i = 0; i < 6; i++)
                    for (int b = 0; b < 3; b++)
                        gg[3 * i + b] = G[i, 0] * g[b] + G[i, 1] * g[3 + b] + G[i, 2] * g[6 + b];
                for (int i = 0; i < 6; i++)
                {
                    for (int j = 0; j < 6; j++)
                    {
                        double u = gg[3 * i] * G[j, 0] + gg[3 * i + 1] * G[j, 1] + gg[3 * i + 2] * G[j, 2];
                        data[offset + (((long)(6 * i + j) * blocks + block) * inChannels + c) * lanes + lane] = (float)u;
                    }
                }
            }
        }
        return new WinogradBlockedFilter(tier, lanes, outChannels, inChannels, data, offset);
    }
}
