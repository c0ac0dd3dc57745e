using System;
using System.Numerics;
using AotInfer.Kernels.Elementwise;

namespace AotInfer.Kernels.Misc;

/// <summary>The n-ary ops Sum, Mean, Max and Min: the output starts as the first input broadcast, then folds in each other input.</summary>
public static class Variadic
{
    /// <summary>y = op(y, x) with <paramref name="x"/> broadcast to y's shape (y already holds the running result).</summary>
    public static void Accumulate<T, TOp>(ReadOnlySpan<T> x, int[] xShape, Span<T> y, int[] yShape) where TOp : struct, IBinaryOperator<T, T>
        // Reading y while writing it is safe: y has the output shape, so each element is read just before it is written.
        => Broadcast.Binary<T, T, TOp>(y, yShape, x, xShape, y, yShape);

    /// <summary>y /= count (Mean after the sum).</summary>
    public static void DivideInPlace<T>(Span<T> y, int count) where T : INumberBase<T>
    {
        T n = T.CreateChecked(count);
        for (int i = 0; i < y.Length; i++) y[i] /= n;
    }
}
