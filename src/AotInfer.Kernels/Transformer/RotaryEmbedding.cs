using System;
using System.Numerics;

namespace AotInfer.Kernels.Transformer;

/// <summary>
/// ONNX RotaryEmbedding (opset 23): rotates the first <c>rotaryDim</c> features of every head row by the angle
/// whose cosine and sine come from the caches, pairing feature k with k + rotaryDim/2 (halves) or 2k with 2k+1
/// (interleaved); the remaining features are copied. Arithmetic runs in float.
/// </summary>
public static class RotaryEmbedding
{
    /// <summary>Applies the rotation.</summary>
    /// <param name="input">4-D [B, H, S, D] or 3-D [B, S, H·D] (heads packed).</param>
    /// <param name="cosCache">[maxPosition, rotaryDim/2] with position ids, else [B, S, rotaryDim/2].</param>
    /// <param name="sinCache">Same shape as <paramref name="cosCache"/>.</param>
    /// <param name="positionIds">[B, S] rows of the caches, or empty to use the caches per (batch, position).</param>
    /// <param name="output">Same shape as <paramref name="input"/>.</param>
    /// <param name="batch">B.</param>
    /// <param name="heads">H.</param>
    /// <param name="sequence">S.</param>
    /// <param name="headSize">D.</param>
    /// <param name="rotaryDim">Number of leading features rotated (even, at most <paramref name="headSize"/>).</param>
    /// <param name="headsPacked">True for 3-D input.</param>
    /// <param name="interleaved">True to rotate adjacent pairs instead of the two halves.</param>
    public static void Apply<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> cosCache, ReadOnlySpan<T> sinCache, ReadOnlySpan<long> positionIds,
        Span<T> output, int batch, int heads, int sequence, int headSize, int rotaryDim, bool headsPacked, bool interleaved)
        where T : unmanaged, INumberBase<T>
    {
        int half = rotaryDim / 2;
        int cacheRows = cosCache.Length / Math.Max(half, 1);
        for (int b = 0; b < batch; b++)
        {
            for (int s = 0; s < sequence; s++)
            {
                long cacheRow = b * sequence + s;
                if (!positionIds.IsEmpty)
                {
                    cacheRow = positionIds[b * sequence + s];
                    if (cacheRow < 0 || cacheRow >= cacheRows)
                        throw new ArgumentOutOfRangeException(nameof(positionIds), $"position id {cacheRow} at [{b},{s}] is outside the cache of {cacheRows} rows");
                }
                ReadOnlySpan<T> cos = cosCache.Slice((int)cacheRow * half, half);
                ReadOnlySpan<T> sin = sinCache.Slice((int)cacheRow * half, half);
                for (int h = 0; h < heads; h++)
                {
                    int offset = headsPacked ? ((b * sequence + s) * heads + h) * headSize : ((b * heads + h) * sequence + s) * headSize;
                    ReadOnlySpan<T> x = input.Slice(offset, headSize);
                    Span<T> y = output.Slice(offset, headSize);
                    x.Slice(rotaryDim).CopyTo(y.Slice(rotaryDim));
                    for (int k = 0; k < half; k++)
                    {
                        int first = interleaved ? 2 * k : k, second = interleaved ? 2 * k + 1 : k + half;
                        float x1 = float.CreateTruncating(x[first]), x2 = float.CreateTruncating(x[second]);
                        float c = float.CreateTruncating(cos[k]), sn = float.CreateTruncating(sin[k]);
                        y[first] = T.CreateTruncating(c * x1 - sn * x2);
                        y[second] = T.CreateTruncating(sn * x1 + c * x2);
                    }
                }
            }
        }
    }
}
