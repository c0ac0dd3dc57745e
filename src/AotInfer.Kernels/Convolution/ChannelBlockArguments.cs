using System;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// What the output-channel-vectorised kernels (<see cref="ChannelBlockedConvolution"/>, <see cref="WinogradBlocked"/>)
/// check and set up alike: the span lengths, the clamp their transposed store applies, each pair of blocks' bias.
/// </summary>
internal static unsafe class ChannelBlockArguments
{
    /// <summary>Throws when x, y, a non-empty bias or a non-empty residual is shorter than <paramref name="batch"/> images need.</summary>
    public static void CheckLengths(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
        int batch, int inChannels, int inputSize, int outChannels, int outputSize)
    {
        if (x.Length < batch * inChannels * inputSize) throw new ArgumentException($"x has {x.Length} elements, fewer than {batch}×{inChannels}×{inputSize}", nameof(x));
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException($"y has {y.Length} elements, fewer than {batch}×{outChannels}×{outputSize}", nameof(y));
        if (!bias.IsEmpty && bias.Length < outChannels) throw new ArgumentException($"bias has {bias.Length} elements, fewer than {outChannels}", nameof(bias));
        if (!residual.IsEmpty && residual.Length < batch * outChannels * outputSize)
            throw new ArgumentException($"residual has {residual.Length} elements, fewer than the output's {batch * outChannels * outputSize}", nameof(residual));
    }

    /// <summary>
    /// What the Winograd kernels check alike: <paramref name="filter"/> present and packed for <paramref name="inChannels"/>
    /// input channels, the window <paramref name="kernel"/>×<paramref name="kernel"/> with stride 1 and dilation 1 (what
    /// <paramref name="algorithm"/>'s transforms compute), the lengths (<see cref="CheckLengths"/>) and a scratch of at
    /// least <paramref name="scratchSize"/> floats. Returns the window. With <paramref name="pooled"/>, y holds the
    /// 2×2 stride-2 max pool of the output (⌊OH / 2⌋ × ⌊OW / 2⌋ per channel) and there is no residual.
    /// </summary>
    public static Window2D CheckWinograd(WinogradChannelFilter filter, int[] geometry, int kernel, string algorithm, ReadOnlySpan<float> x, ReadOnlySpan<float> y,
        ReadOnlySpan<float> bias, ReadOnlySpan<float> residual, int scratchLength, int scratchSize, int batch, int inChannels, bool pooled = false)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var window = new Window2D(new Window(geometry));
        if (window.KernelHeight != kernel || window.KernelWidth != kernel || window.StrideHeight != 1 || window.StrideWidth != 1 ||
            window.DilationHeight != 1 || window.DilationWidth != 1)
            throw new ArgumentException($"{algorithm} needs a {kernel}×{kernel} kernel with stride 1 and dilation 1", nameof(geometry));
        if (filter.InChannels != inChannels)
            throw new ArgumentException($"the filter has {filter.InChannels} input channels, the input {inChannels}", nameof(filter));
        if (pooled && !residual.IsEmpty) throw new ArgumentException($"{algorithm} cannot add a residual to a pooled output", nameof(residual));
        int outputSize = pooled ? window.OutputHeight / 2 * (window.OutputWidth / 2) : window.OutputHeight * window.OutputWidth;
        CheckLengths(x, y, bias, residual, batch, inChannels, window.InputHeight * window.InputWidth, filter.OutChannels, outputSize);
        if (scratchLength < scratchSize)
            throw new ArgumentException($"scratch has {scratchLength} elements, fewer than {scratchSize}", "scratch");
        return window;
    }

    /// <summary>
    /// Whether the store applies <paramref name="activation"/> itself, as the clamp [<paramref name="low"/>,
    /// <paramref name="high"/>]: Relu, Clip or none (after the residual); the other activations run over each finished
    /// pair of channel blocks while it is still in cache, and the store's clamp is then (−∞, ∞).
    /// </summary>
    public static bool Clamps(in FusedActivation activation, out float low, out float high)
    {
        low = activation.Kind == ActivationKind.Relu ? 0f : activation.Kind == ActivationKind.Clip ? activation.Alpha : float.NegativeInfinity;
        high = activation.Kind == ActivationKind.Clip ? activation.Beta : float.PositiveInfinity;
        return activation.Kind is ActivationKind.None or ActivationKind.Relu or ActivationKind.Clip;
    }

    /// <summary>
    /// The pair of blocks from <paramref name="block"/> (one or two of the <paramref name="blocks"/>), its first channel
    /// and its channel count; its bias in <paramref name="pairBias"/> (2L floats, zero past the channels or without bias).
    /// </summary>
    public static (int Pair, int First, int Channels) Pair(int block, int blocks, int lanes, int outChannels, ReadOnlySpan<float> bias, float* pairBias)
    {
        int pair = Math.Min(2, blocks - block), first = block * lanes, channels = Math.Min(pair * lanes, outChannels - first);
        for (int i = 0; i < 2 * lanes; i++) pairBias[i] = i < channels && !bias.IsEmpty ? bias[first + i] : 0f;
        return (pair, first, channels);
    }
}
