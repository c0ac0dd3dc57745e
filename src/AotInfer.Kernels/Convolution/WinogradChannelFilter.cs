using System;
using System.Runtime.CompilerServices;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Constant r×r weights transformed for a Winograd kernel vectorised over output channels: U = G g Gᵀ per (output,
/// input) channel pair, n² positions ξ = n·i + j (n = the rows of G), laid out <c>[n² positions][M/L blocks][C][L]</c>
/// so that each position's element-wise product is a run of L-wide output-channel vectors over the C input channels
/// (L = the tier's vector lanes, the channels past M zero, so any M works). Generated code builds one per layer at
/// type initialisation: the layout depends on the CPU.
/// </summary>
/// <remarks>
/// G is applied in double and each weight rounded once, so the transformed weights carry no error of their own.
/// With a compact tail, the last block is only <see cref="TailLanes"/> wide (4 or 8 lanes when M mod L fits): fashion_lenet5's
/// c2 (M = 50, L = 16) would otherwise read 14 zero lanes of 16 in its last block, 71 KB of its 327 KB.
/// </remarks>
public abstract unsafe class WinogradChannelFilter
{
    readonly float[] _data;
    readonly int _offset;

    /// <summary>Transforms ONNX Conv weights <c>[M, C, r, r]</c> (group 1) with <paramref name="g"/> (n × r) for the current <see cref="MatrixMultiply.Tier"/>.</summary>
    /// <param name="weights">The Conv weights, <c>[M, C, r, r]</c> in ONNX order.</param>
    /// <param name="outChannels">M, the output channels.</param>
    /// <param name="inChannels">C, the input channels.</param>
    /// <param name="g">The filter transform G, n × r.</param>
    /// <param name="compactTail">Whether the last block may be narrower than L (the kernel then runs it with narrower vectors).</param>
    private protected WinogradChannelFilter(ReadOnlySpan<float> weights, int outChannels, int inChannels, double[,] g, bool compactTail = false)
    {
        int n = g.GetLength(0), r = g.GetLength(1);
        if (outChannels <= 0 || inChannels <= 0 || weights.Length != outChannels * inChannels * r * r)
            throw new ArgumentException($"weights have {weights.Length} elements, not {outChannels} output channels × {inChannels} input channels × {r}×{r}", nameof(weights));
        Tier = MatrixMultiply.Tier;
        Lanes = ChannelBlockedFilter.LanesOf(Tier);
        OutChannels = outChannels;
        InChannels = inChannels;
        int remainder = outChannels - (Blocks - 1) * Lanes;
        TailLanes = !compactTail ? Lanes : remainder <= 4 && Lanes > 4 ? 4 : remainder <= 8 && Lanes > 8 ? 8 : Lanes;
        PositionStride = ((Blocks - 1) * Lanes + TailLanes) * inChannels;
        _data = AlignedFloats.Allocate(n * n * PositionStride, out _offset);
        Span<double> gg = stackalloc double[n * r];
        for (int m = 0; m < outChannels; m++)
        {
            int block = m / Lanes, lane = m - block * Lanes, width = block == Blocks - 1 ? TailLanes : Lanes;
            for (int c = 0; c < inChannels; c++)
            {
                ReadOnlySpan<float> kernel = weights.Slice((m * inChannels + c) * r * r, r * r);
                // G g (n×r), then (G g) Gᵀ (n×n).
                for (int i = 0; i < n; i++)
                    for (int b = 0; b < r; b++)
                    {
                        double sum = 0;
                        for (int a = 0; a < r; a++) sum += g[i, a] * kernel[r * a + b];
                        gg[r * i + b] = sum;
                    }
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double u = 0;
                        for (int b = 0; b < r; b++) u += gg[r * i + b] * g[j, b];
                        _data[_offset + (long)(n * i + j) * PositionStride + ((long)block * Lanes * inChannels) + c * width + lane] = (float)u;
                    }
            }
        }
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

    /// <summary>Lanes of the last block: L, or 4 or 8 with a compact tail when its channels fit (the lanes past M zero).</summary>
    public int TailLanes { get; }

    /// <summary>Floats from one position's weights to the next: C·(L·(blocks − 1) + <see cref="TailLanes"/>).</summary>
    internal int PositionStride { get; }

    /// <summary>
    /// The C vectors of transformed weights (L lanes, or <see cref="TailLanes"/> for the last block) of position
    /// <paramref name="position"/> and channel block <paramref name="block"/>.
    /// </summary>
    internal float* Weights(int position, int block) =>
        (float*)Unsafe.AsPointer(ref _data[_offset]) + (long)position * PositionStride + (long)block * InChannels * Lanes;
}
