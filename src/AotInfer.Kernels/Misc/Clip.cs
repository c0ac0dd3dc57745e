using System;
using System.Numerics;

namespace AotInfer.Kernels.Misc;

/// <summary>ONNX Clip with bounds given as optional one-element inputs.</summary>
public static class Clip
{
    /// <summary>
    /// y = min(max(x, lower), upper); an empty bound span means "no bound". Applying the upper bound last makes
    /// every element equal the upper bound when lower &gt; upper, as ONNX specifies. NaN stays NaN.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> lower, ReadOnlySpan<T> upper, Span<T> y) where T : INumber<T>
    {
        bool hasLower = lower.Length > 0, hasUpper = upper.Length > 0;
        T lo = hasLower ? lower[0] : T.Zero, hi = hasUpper ? upper[0] : T.Zero;
        for (int i = 0; i < y.Length; i++)
        {
            T v = x[i];
            if (hasLower && v < lo) v = lo;
            if (hasUpper && v > hi) v = hi;
            y[i] = v;
        }
    }
}
