using System;

namespace AotInfer.Kernels.Shape;

/// <summary>
/// Copies equally spaced blocks between spans: the inner loop of Concat (each input's rows land at an offset of the
/// output rows) and Split (each output takes its columns of the input rows).
/// </summary>
public static class BlockCopy
{
    /// <summary>
    /// For b in [0, blockCount): copies <paramref name="blockLength"/> elements from
    /// <c>source[b·sourceStride]</c> to <c>destination[b·destinationStride]</c>.
    /// </summary>
    public static void Copy<T>(ReadOnlySpan<T> source, int sourceStride, Span<T> destination, int destinationStride, int blockCount, int blockLength)
    {
        if (blockCount == 1 || sourceStride == blockLength && destinationStride == blockLength)
        {
            // One contiguous run.
            source.Slice(0, blockCount * blockLength).CopyTo(destination);
            return;
        }
        for (int b = 0; b < blockCount; b++)
            source.Slice(b * sourceStride, blockLength).CopyTo(destination.Slice(b * destinationStride, blockLength));
    }
}
