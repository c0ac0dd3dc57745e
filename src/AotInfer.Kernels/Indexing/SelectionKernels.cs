using System;

namespace AotInfer.Kernels.Indexing;

/// <summary>Kernels that select or reorder slices: Compress's gather along an axis and ReverseSequence.</summary>
public static class SelectionKernels
{
    /// <summary>
    /// On a <c>[outer, size, inner]</c> view, copies the slices listed in <paramref name="indices"/> (computed at
    /// compile time) in order.
    /// </summary>
    public static void GatherAxis<T>(ReadOnlySpan<T> source, Span<T> destination, int outer, int size, int inner, int[] indices)
    {
        int written = 0;
        for (int b = 0; b < outer; b++)
        {
            var block = source.Slice(b * size * inner, size * inner);
            foreach (int i in indices)
            {
                block.Slice(i * inner, inner).CopyTo(destination.Slice(written, inner));
                written += inner;
            }
        }
    }

    /// <summary>
    /// ReverseSequence on a <c>[batch, time, inner]</c> (or <c>[time, batch, inner]</c> when
    /// <paramref name="batchFirst"/> is false) tensor: the first <c>lengths[b]</c> steps of batch entry b are reversed.
    /// </summary>
    public static void ReverseSequence<T>(ReadOnlySpan<T> source, ReadOnlySpan<long> lengths, Span<T> destination, int batch, int time, int inner, bool batchFirst)
    {
        for (int b = 0; b < batch; b++)
        {
            long length = lengths[b];
            if (length < 0 || length > time) throw new ArgumentOutOfRangeException(nameof(lengths), $"sequence length {length} is outside [0, {time}]");
            for (int t = 0; t < time; t++)
            {
                int from = t < length ? (int)length - 1 - t : t;
                source.Slice(Offset(b, from), inner).CopyTo(destination.Slice(Offset(b, t), inner));
            }
        }

        int Offset(int b, int t) => (batchFirst ? b * time + t : t * batch + b) * inner;
    }
}
