using System;
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
public sealed class WinogradBlockedFilter : WinogradChannelFilter
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

    WinogradBlockedFilter(ReadOnlySpan<float> weights, int outChannels, int inChannels) : base(weights, outChannels, inChannels, G) { }

    /// <summary>
    /// Transforms and packs ONNX Conv weights <c>[M, C, 3, 3]</c> (group 1) for the current <see cref="MatrixMultiply.Tier"/>.
    /// </summary>
    public static WinogradBlockedFilter Pack(ReadOnlySpan<float> weights, int outChannels, int inChannels) => new(weights, outChannels, inChannels);
}
