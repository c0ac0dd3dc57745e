using System;
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
    /// <summary>True when the geometry is one this kernel computes: 2-D, stride 1, dilation 1.</summary>
    public static bool Supports(int[] geometry) => Supports(new Window(geometry));

    static bool Supports(Window window) =>
        window.Rank == 2 && window.Stride(0) == 1 && window.Stride(1) == 1 && window.Dilation(0) == 1 && window.Dilation(1) == 1;

    /// <summary>Floats of the <c>padded</c> scratch <see cref="Convolve"/> needs: the zero-bordered image.</summary>
    public static int ScratchSize(int[] geometry) => ScratchSize(new Window2D(new Window(geometry)));

    static int ScratchSize(in Window2D window) => Window2D.PaddedSize(1, window.PaddedHeight, window.PaddedWidth);

    /// <summary>y = act(W ⊛ x + b) for <paramref name="batch"/> one-channel images; <paramref name="padded"/> holds <see cref="ScratchSize(int[])"/> floats.</summary>
    /// <remarks>The row kernel of <see cref="FewChannelConvolution"/> at one channel (its scratch at stride 1 is this one).</remarks>
    public static void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> padded,
        int batch, int outChannels, int[] geometry, FusedActivation activation = default)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        if (!Supports(new Window(geometry))) throw new ArgumentException("the single-channel kernel computes 2-D convolutions at stride 1 without dilation", nameof(geometry));
        FewChannelConvolution.Convolve(x, weights, bias, y, padded, batch, 1, outChannels, geometry, activation);
    }
}
