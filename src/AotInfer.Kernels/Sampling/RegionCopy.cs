using System;

namespace AotInfer.Kernels.Sampling;

/// <summary>
/// Copies an N-D box of the source into an N-D box of a zero-filled destination (CenterCropPad: crop where the
/// target is smaller, pad where it is larger). The innermost axis is copied as a contiguous run.
/// </summary>
public static class RegionCopy
{
    /// <summary>Zero-fills <paramref name="destination"/> and copies the box of size <paramref name="extent"/>.</summary>
    public static void Copy<T>(ReadOnlySpan<T> source, int[] sourceShape, int[] sourceStart,
        Span<T> destination, int[] destinationShape, int[] destinationStart, int[] extent)
    {
        destination.Clear();
        int rank = extent.Length;
        int boxes = 1;
        for (int d = 0; d < rank - 1; d++) boxes *= extent[d];
        if (rank == 0) { destination[0] = source[0]; return; }
        int run = extent[rank - 1];
        if (run == 0 || boxes == 0) return;
        Span<int> index = stackalloc int[rank];
        for (int box = 0; box < boxes; box++)
        {
            int s = 0, t = 0;
            for (int d = 0; d < rank; d++)
            {
                s = s * sourceShape[d] + sourceStart[d] + index[d];
                t = t * destinationShape[d] + destinationStart[d] + index[d];
            }
            source.Slice(s, run).CopyTo(destination.Slice(t, run));
            for (int d = rank - 2; d >= 0 && ++index[d] == extent[d]; d--) index[d] = 0;
        }
    }
}
