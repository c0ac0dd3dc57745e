using System;
using System.Numerics;

namespace AotInfer.Kernels.Reduction;

/// <summary>
/// TopK along one axis of a tensor viewed as [outer, count, inner]: the k largest (or smallest) values in order,
/// equal values ordered by ascending index, with their indices.
/// </summary>
public static class TopK
{
    /// <summary>
    /// Writes values and indices of shape [outer, k, inner]. Each column is scanned once in index order and kept
    /// sorted by insertion into the output, so ties stay in index order without a stable sort or scratch memory.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<T> values, Span<long> indices, int outer, int count, int inner, int k, bool largest)
        where T : INumber<T>
    {
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int source = o * count * inner + i;
                int target = o * k * inner + i;
                int kept = 0;
                for (int j = 0; j < count; j++)
                {
                    T v = x[source + j * inner];
                    // Position where v goes: after every kept value that is at least as good (earlier index wins ties).
                    int p = kept;
                    while (p > 0 && Better(v, values[target + (p - 1) * inner], largest)) p--;
                    if (p >= k) continue;
                    int end = Math.Min(kept, k - 1);
                    for (int q = end; q > p; q--)
                    {
                        values[target + q * inner] = values[target + (q - 1) * inner];
                        indices[target + q * inner] = indices[target + (q - 1) * inner];
                    }
                    values[target + p * inner] = v;
                    indices[target + p * inner] = j;
                    if (kept < k) kept++;
                }
            }
        }
    }

    /// <summary>True when <paramref name="a"/> strictly precedes <paramref name="b"/> (NaN counts as the largest, as in numpy sorting).</summary>
    static bool Better<T>(T a, T b, bool largest) where T : INumber<T>
    {
        if (T.IsNaN(a)) return largest && !T.IsNaN(b);
        if (T.IsNaN(b)) return !largest;
        return largest ? a > b : a < b;
    }
}
