using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A 2-D convolution of a one-channel image (the first layer of MNIST-style models and of super-resolution) at stride 1
/// without dilation, vectorised along the output rows: every tap loads one vector of the zero-bordered image and
/// multiplies it into the accumulators of eight output channels, so the image is read once per tap and eight channels,
/// and nothing is gathered (im2col) or transposed (the channel-vectorised kernel runs half its lanes empty on 8
/// channels and transposes every tile back). Weights stay in ONNX layout <c>[M, 1, KH, KW]</c>; an empty bias means none.
/// </summary>
public static unsafe class SingleChannelConvolution
{
    /// <summary>Output channels whose accumulators one pass over a vector of output positions keeps in registers.</summary>
    const int ChannelsPerPass = 8;

    /// <summary>True when the geometry is one this kernel computes: 2-D, stride 1, dilation 1.</summary>
    public static bool Supports(int[] geometry) => Supports(new Window(geometry));

    static bool Supports(Window window) =>
        window.Rank == 2 && window.Stride(0) == 1 && window.Stride(1) == 1 && window.Dilation(0) == 1 && window.Dilation(1) == 1;

    /// <summary>Floats of the <c>padded</c> scratch <see cref="Convolve"/> needs: the zero-bordered image.</summary>
    public static int ScratchSize(int[] geometry) => ScratchSize(new Window2D(new Window(geometry)));

    static int ScratchSize(in Window2D window) => Window2D.PaddedSize(1, window.PaddedHeight, window.PaddedWidth);

    /// <summary>y = act(W ⊛ x + b) for <paramref name="batch"/> one-channel images; <paramref name="padded"/> holds <see cref="ScratchSize"/> floats.</summary>
    public static void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> padded,
        int batch, int outChannels, int[] geometry, FusedActivation activation = default)
    {
        var plain = new Window(geometry);
        if (!Supports(plain)) throw new ArgumentException("the single-channel kernel computes 2-D convolutions at stride 1 without dilation", nameof(geometry));
        var window = new Window2D(plain);
        int inputSize = window.InputHeight * window.InputWidth, outputSize = window.OutputHeight * window.OutputWidth, taps = window.Taps;
        if (x.Length < batch * inputSize) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inputSize}", nameof(x));
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{outputSize}", nameof(y));
        if (weights.Length != outChannels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {outChannels}×{taps}", nameof(weights));
        if (!bias.IsEmpty && bias.Length != outChannels) throw new ArgumentException($"bias has {bias.Length} elements, expected {outChannels}", nameof(bias));
        int scratchSize = ScratchSize(window);
        if (padded.Length < scratchSize) throw new ArgumentException($"padded scratch has {padded.Length} elements, fewer than {scratchSize}", nameof(padded));
        int width = window.OutputWidth;
        var tier = MatrixMultiply.Tier;
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* py = y)
        fixed (float* pp = padded)
        {
            for (int n = 0; n < batch; n++)
            {
                window.Pad(px + (long)n * inputSize, 1, pp);
                float* output = py + (long)n * outChannels * outputSize;
                if (tier == GemmTier.Avx512 && Avx512F.IsSupported && width >= Vector512<float>.Count)
                    Rows<Lanes512, Vector512<float>>(pp, window, pw, outChannels, output);
                else if (tier >= GemmTier.Fma256 && Avx2.IsSupported && Fma.IsSupported && width >= Vector256<float>.Count)
                    Rows<Lanes256, Vector256<float>>(pp, window, pw, outChannels, output);
                else
                    Scalar(pp, window, pw, outChannels, output);
                for (int c = 0; c < outChannels; c++)
                    activation.Apply(y.Slice((n * outChannels + c) * outputSize, outputSize), bias.IsEmpty ? 0f : bias[c]);
            }
        }
    }

    /// <summary>
    /// Every output row in vectors (the last vector of a row overlaps the one before rather than running past it), eight
    /// channels at a time; channels past the last are computed on zero weights and not stored.
    /// </summary>
    static void Rows<TLanes, TVector>(float* image, in Window2D window, float* weights, int outChannels, float* y)
        where TLanes : struct, IFloatLanes<TVector> where TVector : struct
    {
        int lanes = TLanes.Count, taps = window.Taps, kernelWidth = window.KernelWidth, pitch = window.PaddedWidth;
        int height = window.OutputHeight, width = window.OutputWidth, outputSize = height * width;
        int* offsets = stackalloc int[taps];
        for (int t = 0; t < taps; t++) offsets[t] = t / kernelWidth * pitch + t % kernelWidth;
        float* block = stackalloc float[ChannelsPerPass * taps];
        for (int c0 = 0; c0 < outChannels; c0 += ChannelsPerPass)
        {
            int count = Math.Min(ChannelsPerPass, outChannels - c0);
            // Tap-major weights of this pass (w[t·8 + c]), zero for channels past the last, so one loop serves every pass.
            for (int t = 0; t < taps; t++)
                for (int c = 0; c < ChannelsPerPass; c++)
                    block[t * ChannelsPerPass + c] = c < count ? weights[(c0 + c) * taps + t] : 0f;
            for (int row = 0; row < height; row++)
            {
                float* source = image + (long)row * pitch;
                for (int column = 0; ; column += lanes)
                {
                    if (column > width - lanes) column = width - lanes;
                    TVector a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    float* w = block;
                    for (int t = 0; t < taps; t++, w += ChannelsPerPass)
                    {
                        TVector v = TLanes.Load(source + column + offsets[t]);
                        a0 = TLanes.MultiplyAdd(TLanes.Broadcast(w[0]), v, a0);
                        a1 = TLanes.MultiplyAdd(TLanes.Broadcast(w[1]), v, a1);
                        a2 = TLanes.MultiplyAdd(TLanes.Broadcast(w[2]), v, a2);
                        a3 = TLanes.MultiplyAdd(TLanes.Broadcast(w[3]), v, a3);
                        a4 = TLanes.MultiplyAdd(TLanes.Broadcast(w[4]), v, a4);
                        a5 = TLanes.MultiplyAdd(TLanes.Broadcast(w[5]), v, a5);
                        a6 = TLanes.MultiplyAdd(TLanes.Broadcast(w[6]), v, a6);
                        a7 = TLanes.MultiplyAdd(TLanes.Broadcast(w[7]), v, a7);
                    }
                    float* target = y + (long)c0 * outputSize + row * width + column;
                    TLanes.Store(a0, target);
                    if (count > 1) TLanes.Store(a1, target + outputSize);
                    if (count > 2) TLanes.Store(a2, target + 2 * outputSize);
                    if (count > 3) TLanes.Store(a3, target + 3 * outputSize);
                    if (count > 4) TLanes.Store(a4, target + 4 * outputSize);
                    if (count > 5) TLanes.Store(a5, target + 5 * outputSize);
                    if (count > 6) TLanes.Store(a6, target + 6 * outputSize);
                    if (count > 7) TLanes.Store(a7, target + 7 * outputSize);
                    if (column == width - lanes) break;
                }
            }
        }
    }

    /// <summary>The scalar reference (and rows narrower than a vector): the taps of each output in order.</summary>
    static void Scalar(float* image, in Window2D window, float* weights, int outChannels, float* y)
    {
        int taps = window.Taps, kernelWidth = window.KernelWidth, pitch = window.PaddedWidth;
        int height = window.OutputHeight, width = window.OutputWidth;
        for (int c = 0; c < outChannels; c++)
            for (int row = 0; row < height; row++)
                for (int column = 0; column < width; column++)
                {
                    float sum = 0;
                    for (int t = 0; t < taps; t++)
                        sum = MathF.FusedMultiplyAdd(weights[c * taps + t], image[(row + t / kernelWidth) * pitch + column + t % kernelWidth], sum);
                    y[((long)c * height + row) * width + column] = sum;
                }
    }
}
