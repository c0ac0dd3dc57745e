using System;
using AotInfer.Kernels.Elementwise;

namespace AotInfer.Kernels.Misc;

/// <summary>ONNX OneHot: a new axis of size depth holding the "on" value at each index and "off" elsewhere.</summary>
public static class OneHot
{
    /// <summary>
    /// The indices are viewed as [<paramref name="outer"/>, <paramref name="inner"/>] and y as [outer, depth, inner];
    /// <paramref name="values"/> holds [off, on]. Negative indices count from the end; indices outside
    /// [-depth, depth) leave their row "off" (as ONNX specifies). Float indices are truncated.
    /// </summary>
    public static void Run<TIndex, T>(ReadOnlySpan<TIndex> indices, int outer, int inner, int depth, ReadOnlySpan<T> values, Span<T> y)
        where TIndex : unmanaged
    {
        T off = values[0], on = values[1];
        y.Fill(off);
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                long index = Conversion.One<TIndex, long>(indices[o * inner + i]);
                if (index < 0) index += depth;
                if (index < 0 || index >= depth) continue;
                y[(o * depth + (int)index) * inner + i] = on;
            }
        }
    }
}
