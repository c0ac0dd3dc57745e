using System;
using System.Numerics;

namespace AotInfer.Kernels.Reduction;

/// <summary>
/// ArgMax / ArgMin along one axis of a tensor viewed as [outer, count, inner]. Ties go to the first index, or to
/// the last with <c>selectLast</c>; the first NaN wins like numpy.
/// </summary>
public static class ArgReduce
{
    /// <summary>y[o, i] = index of the largest (or smallest) x[o, k, i].</summary>
    public static void Run<T>(ReadOnlySpan<T> x, Span<long> y, int outer, int count, int inner, bool largest, bool selectLast)
        where T : INumber<T>
    {
        if (count == 0) { y.Clear(); return; }
        for (int o = 0; o < outer; o++)
        {
            int block = o * count * inner;
            for (int i = 0; i < inner; i++)
            {
                int position = block + i;
                T best = x[position];
                long bestIndex = 0;
                for (int k = 1; k < count; k++)
                {
                    if (T.IsNaN(best)) break;
                    T v = x[position + k * inner];
                    bool better = T.IsNaN(v) || (largest ? v > best : v < best) || (selectLast && v == best);
                    if (better) { best = v; bestIndex = k; }
                }
                y[o * inner + i] = bestIndex;
            }
        }
    }
}
