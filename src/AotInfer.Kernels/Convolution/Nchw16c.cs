using System;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// The 16-channel-blocked image layout (oneDNN's <c>nChw16c</c>, ONNX Runtime's NCHWc with a block of 16) that chains
/// of depthwise and pointwise convolutions keep between them: per image, C/16 blocks of <c>[H·W pixels][16 channels]</c>,
/// so element (n, c, p) is at <c>((n·C/16 + c/16)·H·W + p)·16 + c % 16</c>. A pixel's 16 channels are one AVX-512
/// vector (two AVX2 ones), which is how the channel-vectorised kernels compute; in NCHW they pay a transpose in and out
/// of every layer. The channel count must be a multiple of <see cref="Block"/>.
/// </summary>
public static class Nchw16c
{
    /// <summary>Channels per block.</summary>
    public const int Block = 16;

    /// <summary>Where element (channel, pixel) of one image of <paramref name="pixels"/> pixels lies, from the image's start.</summary>
    public static long Offset(int channel, int pixel, int pixels) => ((long)(channel / Block) * pixels + pixel) * Block + channel % Block;

    /// <summary>Rewrites NCHW images as NCHW16c (the layout's reference, for tests and tools).</summary>
    public static void FromNchw(ReadOnlySpan<float> nchw, Span<float> blocked, int batch, int channels, int pixels) =>
        Reorder(nchw, blocked, batch, channels, pixels, toBlocked: true);

    /// <summary>Rewrites NCHW16c images as NCHW (the layout's reference, for tests and tools).</summary>
    public static void ToNchw(ReadOnlySpan<float> blocked, Span<float> nchw, int batch, int channels, int pixels) =>
        Reorder(blocked, nchw, batch, channels, pixels, toBlocked: false);

    static void Reorder(ReadOnlySpan<float> source, Span<float> target, int batch, int channels, int pixels, bool toBlocked)
    {
        CheckShape(source.Length, target.Length, batch, channels, pixels);
        int imageSize = channels * pixels;
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < pixels; p++)
                {
                    int planar = n * imageSize + c * pixels + p, blocked = n * imageSize + (int)Offset(c, p, pixels);
                    if (toBlocked) target[blocked] = source[planar];
                    else target[planar] = source[blocked];
                }
    }

    static void CheckShape(int sourceLength, int targetLength, int batch, int channels, int pixels)
    {
        if (channels % Block != 0) throw new ArgumentException($"{channels} channels are not a multiple of {Block}", nameof(channels));
        if (sourceLength < batch * channels * pixels || targetLength < batch * channels * pixels)
            throw new ArgumentException($"a span is shorter than {batch}×{channels}×{pixels}");
    }
}
