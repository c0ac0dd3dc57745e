using System;
using System.Numerics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The constant weights of a 3×3 integer convolution transformed once (at type initialisation of generated code) for
/// <see cref="Int8WinogradF2x3"/>: per output channel and input channel, U' = G'·g·G'ᵀ of the centred weights
/// g = w − zw, with G' = 2G = [[2,0,0],[1,1,1],[1,−1,1],[0,0,2]] so that U' = 4U is an integer matrix (|U'| ≤ 9·255,
/// an int16). Each of the 16 transform positions holds, per block of four output channels, one int32 per pair of input
/// channels (channel 2p in the low int16, 2p + 1 in the high one) for the four channels side by side: the operand
/// <c>vpmaddwd</c> broadcasts.
/// </summary>
/// <remarks>
/// Values index [block][position][pair][channel in block]; input and output channels past the last are zero.
/// </remarks>
public sealed class Int8WinogradWeights
{
    /// <summary>Transform positions of F(2×2, 3×3): a 4×4 tile.</summary>
    internal const int Positions = 16;

    Int8WinogradWeights(int outChannels, int inChannels)
    {
        OutChannels = outChannels;
        InChannels = inChannels;
        Values = new int[(outChannels + 3) / 4 * Positions * Pairs * 4];
    }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Pairs of input channels (the last one half empty when the count is odd).</summary>
    public int Pairs => (InChannels + 1) / 2;

    /// <summary>The largest |w − zw|: with the channel count it bounds the int32 sums (<see cref="Int8WinogradF2x3.Exact"/>).</summary>
    public int LargestCentred { get; private set; }

    /// <summary>Blocks of four output channels × 16 positions × <see cref="Pairs"/> × four int16 pairs.</summary>
    internal int[] Values { get; }

    /// <summary>
    /// Transforms ONNX 3×3 convolution weights <c>[M, C, 3, 3]</c> (<paramref name="outChannels"/> = M,
    /// <paramref name="inChannels"/> = C) with their zero points (none, one, or one per output channel).
    /// </summary>
    public static Int8WinogradWeights Pack<T>(T[] weights, T[] zeroPoints, int outChannels, int inChannels) where T : IBinaryInteger<T>
    {
        if (outChannels <= 0 || inChannels <= 0) throw new ArgumentException($"channels {inChannels}→{outChannels} must be positive");
        if (weights.Length < outChannels * inChannels * 9) throw new ArgumentException($"weights hold {weights.Length} values, expected {outChannels}×{inChannels}×3×3");
        if (zeroPoints.Length is not (0 or 1) && zeroPoints.Length != outChannels) throw new ArgumentException($"expected 0, 1 or {outChannels} zero points, got {zeroPoints.Length}");
        var packed = new Int8WinogradWeights(outChannels, inChannels);
        Span<int> g = stackalloc int[9], u = stackalloc int[Positions];
        int largest = 0;
        for (int m = 0; m < outChannels; m++)
        {
            int zero = zeroPoints.Length == 0 ? 0 : int.CreateTruncating(zeroPoints[zeroPoints.Length == 1 ? 0 : m]);
            for (int c = 0; c < inChannels; c++)
            {
                for (int k = 0; k < 9; k++)
                {
                    g[k] = int.CreateTruncating(weights[(m * inChannels + c) * 9 + k]) - zero;
                    largest = Math.Max(largest, Math.Abs(g[k]));
                }
                Transform(g, u);
                for (int position = 0; position < Positions; position++)
                {
                    int index = ((m / 4 * Positions + position) * packed.Pairs + c / 2) * 4 + m % 4;
                    int half = (ushort)(short)u[position];
                    packed.Values[index] |= c % 2 == 0 ? half : half << 16;
                }
            }
        }
        packed.LargestCentred = largest;
        return packed;
    }

    /// <summary>U' = G'·g·G'ᵀ of one 3×3 kernel <paramref name="g"/> (row-major) into the 4×4 <paramref name="u"/>.</summary>
    internal static void Transform(ReadOnlySpan<int> g, Span<int> u)
    {
        Span<int> rows = stackalloc int[12];
        // G'·g: four rows of three.
        for (int j = 0; j < 3; j++)
        {
            int g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
            rows[j] = 2 * g0;
            rows[3 + j] = g0 + g1 + g2;
            rows[6 + j] = g0 - g1 + g2;
            rows[9 + j] = 2 * g2;
        }
        // (G'·g)·G'ᵀ: each row of three into four.
        for (int i = 0; i < 4; i++)
        {
            int r0 = rows[3 * i], r1 = rows[3 * i + 1], r2 = rows[3 * i + 2];
            u[4 * i] = 2 * r0;
            u[4 * i + 1] = r0 + r1 + r2;
            u[4 * i + 2] = r0 - r1 + r2;
            u[4 * i + 3] = 2 * r2;
        }
    }
}
