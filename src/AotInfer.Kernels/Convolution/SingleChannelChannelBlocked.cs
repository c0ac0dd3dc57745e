using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A 2-D convolution of a one-channel image into many output channels at any stride (DS-CNN's first layer: 1→64, a
/// 10×4 kernel at stride 2 on 49×10, output rows 5 wide), vectorised across output channels: four output pixels ×
/// four vectors of channels (64 with AVX-512, 32 with AVX2) are sixteen accumulators, and each tap costs four
/// broadcast pixels, four weight vectors and sixteen fused multiply-adds, so narrow rows and strides lose nothing.
/// Sixteen (eight) pixels at a time go back to NCHW through in-register transposes, bias and Relu/Clip applied
/// before. The row-vectorised <see cref="SingleChannelConvolution"/> suits wide rows at stride 1; the general
/// <see cref="ChannelBlockedConvolution"/>, with the same filter layout, runs this layer's 40 taps a pixel at a time.
/// The scalar and 128-bit tiers take a plain loop.
/// </summary>
public static unsafe class SingleChannelChannelBlocked
{
    /// <summary>Output pixels sharing each weight vector load.</summary>
    const int PixelsPerStep = 4;

    /// <summary>Channel vectors sharing each broadcast pixel.</summary>
    const int VectorsPerPass = 4;

    /// <summary>
    /// Floats of the <c>scratch</c> <see cref="Convolve"/> needs: the zero-bordered image, then a tile of 16 pixels × 64
    /// channels.
    /// </summary>
    public static int ScratchSize(int[] geometry)
    {
        var window = new Window2D(new Window(geometry));
        return Window2D.PaddedSize(1, window.PaddedHeight, window.PaddedWidth) + 16 * 16 * VectorsPerPass;
    }

    /// <summary>
    /// y = act(W ⊛ x + b) for <paramref name="batch"/> one-channel images, <paramref name="filter"/> from
    /// <see cref="ChannelBlockedFilter.Pack"/> for the same geometry (one input channel); an empty bias means none.
    /// </summary>
    public static void Convolve(ReadOnlySpan<float> x, ChannelBlockedFilter filter, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int[] geometry, FusedActivation activation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var window = new Window2D(new Window(geometry));
        int outChannels = filter.OutChannels, inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth;
        if (filter.InChannels != 1 || filter.Depth != window.Taps)
            throw new ArgumentException($"the filter has {filter.InChannels} input channels and {filter.Depth} taps, expected 1 and {window.Taps}", nameof(filter));
        if (x.Length < batch * inputSize) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inputSize}", nameof(x));
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{outputSize}", nameof(y));
        if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException($"bias has {bias.Length} elements, expected {outChannels}", nameof(bias));
        if (scratch.Length < ScratchSize(geometry)) throw new ArgumentException($"scratch has {scratch.Length} elements, fewer than {ScratchSize(geometry)}", nameof(scratch));
        bool clamp = activation.IsClamp(out float low, out float high);
        if (!clamp) (low, high) = (float.NegativeInfinity, float.PositiveInfinity);
        fixed (float* px = x)
        fixed (float* pb = bias)
        fixed (float* py = y)
        fixed (float* ps = scratch)
        {
            float* tile = ps + Window2D.PaddedSize(1, window.PaddedHeight, window.PaddedWidth);
            for (int n = 0; n < batch; n++)
            {
                window.Pad(px + (long)n * inputSize, 1, ps);
                float* output = py + (long)n * outChannels * outputSize;
                switch (filter.Lanes)
                {
                    case 16 when filter.Tier == GemmTier.Avx512 && Vector512.IsHardwareAccelerated:
                        Passes<Lanes512, Vector512<float>, Transpose16x16>(ps, window, filter, pb, low, high, tile, output);
                        break;
                    case 8 when filter.Tier == GemmTier.Fma256 && Vector256.IsHardwareAccelerated:
                        Passes<Lanes256, Vector256<float>, Transpose8x8>(ps, window, filter, pb, low, high, tile, output);
                        break;
                    default:
                        Scalar(ps, window, filter, pb, low, high, output);
                        break;
                }
            }
        }
        if (clamp) return;
        for (int plane = 0; plane < batch * outChannels; plane++) activation.Apply(y.Slice(plane * outputSize, outputSize));
    }

    /// <summary>
    /// Every pass of up to four channel vectors over every group of L output pixels (the last group overlapping the one
    /// before; a plane of fewer than L pixels as one short group).
    /// </summary>
    static void Passes<TLanes, TVector, TTranspose>(float* image, in Window2D window, ChannelBlockedFilter filter, float* bias, float low, float high, float* tile, float* y)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct where TTranspose : struct, ISquareTranspose
    {
        int lanes = TLanes.Count, taps = window.Taps, outChannels = filter.OutChannels, blocks = filter.Blocks;
        int outputSize = window.OutputHeight * window.OutputWidth, group = Math.Min(lanes, outputSize);
        int* offsets = stackalloc int[taps];
        for (int kh = 0, t = 0; kh < window.KernelHeight; kh++)
            for (int kw = 0; kw < window.KernelWidth; kw++, t++)
                offsets[t] = kh * window.DilationHeight * window.PaddedWidth + kw * window.DilationWidth;
        float* starts = stackalloc float[VectorsPerPass * lanes];
        int* corners = stackalloc int[lanes];
        var floor = TLanes.Broadcast(low);
        var ceiling = TLanes.Broadcast(high);
        for (int b0 = 0; b0 < blocks; b0 += VectorsPerPass)
        {
            int vectors = Math.Min(VectorsPerPass, blocks - b0);
            for (int i = 0; i < VectorsPerPass * lanes; i++)
            {
                int m = b0 * lanes + i;
                starts[i] = bias != null && i < vectors * lanes && m < outChannels ? bias[m] : 0f;
            }
            var weights = new PassWeights(filter.Block(b0), vectors, taps * lanes);
            for (int q = 0; ; q += lanes)
            {
                int first = Math.Max(0, Math.Min(q, outputSize - lanes));
                for (int j = 0; j < group; j++)
                {
                    int p = first + j, oh = p / window.OutputWidth, ow = p - oh * window.OutputWidth;
                    corners[j] = oh * window.StrideHeight * window.PaddedWidth + ow * window.StrideWidth;
                }
                // Steps of four pixels, the last overlapping the one before; a plane of fewer than four, one pixel a step.
                bool four = group >= PixelsPerStep;
                for (int j = 0; j < group; j += four ? PixelsPerStep : 1)
                {
                    int at = four ? Math.Min(j, group - PixelsPerStep) : j;
                    Step<TLanes, TVector>(image, corners + at, offsets, taps, weights, starts, floor, ceiling, tile + (long)at * VectorsPerPass * lanes, four);
                }
                // tile[j][v·L + lane] = pixel j, channel (b0 + v)·L + lane: one transpose per channel vector.
                for (int v = 0; v < vectors; v++)
                {
                    int channel = (b0 + v) * lanes, count = Math.Min(lanes, outChannels - channel);
                    float* target = y + (long)channel * outputSize + first;
                    if (group == lanes) TTranspose.Transpose(tile + v * lanes, VectorsPerPass * lanes, lanes, new StridedRows(target, outputSize, count));
                    else
                        for (int c = 0; c < count; c++)
                            for (int j = 0; j < group; j++) target[(long)c * outputSize + j] = tile[j * VectorsPerPass * lanes + v * lanes + c];
                }
                if (first + group == outputSize) break;
            }
        }
    }

    /// <summary>
    /// The weights of one pass: vector v of tap t at <c>block + v·blockStride + t·L</c>; a pass of fewer than four
    /// vectors repeats its first in place of the missing ones, whose sums are never stored.
    /// </summary>
    readonly struct PassWeights(float* block, int vectors, int blockStride)
    {
        public readonly float* V0 = block, V1 = Vector(block, 1, vectors, blockStride), V2 = Vector(block, 2, vectors, blockStride), V3 = Vector(block, 3, vectors, blockStride);

        static float* Vector(float* block, int v, int vectors, int blockStride) => v < vectors ? block + (long)v * blockStride : block;
    }

    /// <summary>
    /// Four pixels (corners) × four channel vectors: sixteen chains of fused multiply-adds over the taps, then bias and
    /// clamp, stored pixel-major into <paramref name="tile"/> (4·L floats per pixel). With fewer than four pixels in the
    /// plane, the missing ones repeat the first.
    /// </summary>
    static void Step<TLanes, TVector>(float* image, int* corners, int* offsets, int taps, in PassWeights weights, float* starts, TVector floor, TVector ceiling,
        float* tile, bool four) where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int lanes = TLanes.Count;
        float* p0 = image + corners[0], p1 = image + corners[four ? 1 : 0], p2 = image + corners[four ? 2 : 0], p3 = image + corners[four ? 3 : 0];
        TVector s0 = TLanes.Load(starts), s1 = TLanes.Load(starts + lanes), s2 = TLanes.Load(starts + 2 * lanes), s3 = TLanes.Load(starts + 3 * lanes);
        TVector a00 = s0, a01 = s1, a02 = s2, a03 = s3, a10 = s0, a11 = s1, a12 = s2, a13 = s3;
        TVector a20 = s0, a21 = s1, a22 = s2, a23 = s3, a30 = s0, a31 = s1, a32 = s2, a33 = s3;
        float* w0 = weights.V0, w1 = weights.V1, w2 = weights.V2, w3 = weights.V3;
        for (int t = 0; t < taps; t++, w0 += lanes, w1 += lanes, w2 += lanes, w3 += lanes)
        {
            int o = offsets[t];
            TVector v0 = TLanes.Load(w0), v1 = TLanes.Load(w1), v2 = TLanes.Load(w2), v3 = TLanes.Load(w3);
            TVector x = TLanes.Broadcast(p0[o]);
            a00 = TLanes.MultiplyAdd(v0, x, a00); a01 = TLanes.MultiplyAdd(v1, x, a01); a02 = TLanes.MultiplyAdd(v2, x, a02); a03 = TLanes.MultiplyAdd(v3, x, a03);
            x = TLanes.Broadcast(p1[o]);
            a10 = TLanes.MultiplyAdd(v0, x, a10); a11 = TLanes.MultiplyAdd(v1, x, a11); a12 = TLanes.MultiplyAdd(v2, x, a12); a13 = TLanes.MultiplyAdd(v3, x, a13);
            x = TLanes.Broadcast(p2[o]);
            a20 = TLanes.MultiplyAdd(v0, x, a20); a21 = TLanes.MultiplyAdd(v1, x, a21); a22 = TLanes.MultiplyAdd(v2, x, a22); a23 = TLanes.MultiplyAdd(v3, x, a23);
            x = TLanes.Broadcast(p3[o]);
            a30 = TLanes.MultiplyAdd(v0, x, a30); a31 = TLanes.MultiplyAdd(v1, x, a31); a32 = TLanes.MultiplyAdd(v2, x, a32); a33 = TLanes.MultiplyAdd(v3, x, a33);
        }
        int pixel = VectorsPerPass * lanes;
        StorePixel<TLanes, TVector>(tile, a00, a01, a02, a03, floor, ceiling);
        if (!four) return;
        StorePixel<TLanes, TVector>(tile + pixel, a10, a11, a12, a13, floor, ceiling);
        StorePixel<TLanes, TVector>(tile + 2 * pixel, a20, a21, a22, a23, floor, ceiling);
        StorePixel<TLanes, TVector>(tile + 3 * pixel, a30, a31, a32, a33, floor, ceiling);
    }

    /// <summary>One pixel's four channel vectors, clamped, side by side at <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StorePixel<TLanes, TVector>(float* target, TVector c0, TVector c1, TVector c2, TVector c3, TVector floor, TVector ceiling)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int lanes = TLanes.Count;
        TLanes.Store(TLanes.Clamp(c0, floor, ceiling), target);
        TLanes.Store(TLanes.Clamp(c1, floor, ceiling), target + lanes);
        TLanes.Store(TLanes.Clamp(c2, floor, ceiling), target + 2 * lanes);
        TLanes.Store(TLanes.Clamp(c3, floor, ceiling), target + 3 * lanes);
    }

    /// <summary>The reference tier: each output a sum over the taps, weights read from the filter's layout.</summary>
    static void Scalar(float* image, in Window2D window, ChannelBlockedFilter filter, float* bias, float low, float high, float* y)
    {
        int lanes = filter.Lanes, taps = window.Taps, outputSize = window.OutputHeight * window.OutputWidth;
        for (int m = 0; m < filter.OutChannels; m++)
        {
            float* weights = filter.Block(m / lanes) + m % lanes;
            for (int oh = 0; oh < window.OutputHeight; oh++)
                for (int ow = 0; ow < window.OutputWidth; ow++)
                {
                    float sum = bias == null ? 0f : bias[m];
                    float* corner = image + oh * window.StrideHeight * window.PaddedWidth + ow * window.StrideWidth;
                    for (int kh = 0, t = 0; kh < window.KernelHeight; kh++)
                        for (int kw = 0; kw < window.KernelWidth; kw++, t++)
                            sum = MathF.FusedMultiplyAdd(weights[t * lanes], corner[kh * window.DilationHeight * window.PaddedWidth + kw * window.DilationWidth], sum);
                    y[(long)m * outputSize + oh * window.OutputWidth + ow] = Math.Min(Math.Max(sum, low), high);
                }
        }
    }
}
