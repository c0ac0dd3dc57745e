using System;
using System.Linq;
using AotInfer.Kernels.Shape;
using Xunit;

namespace AotInfer.Tests.Ops;

/// <summary>The shape kernels against naive index arithmetic, across shapes that hit every fast path and the edges.</summary>
public class ShapeKernelTests
{
    static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        for (int d = shape.Length - 1, p = 1; d >= 0; d--) { s[d] = p; p *= shape[d]; }
        return s;
    }

    static int[] Coordinates(int flat, int[] shape)
    {
        var c = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { c[d] = flat % shape[d]; flat /= shape[d]; }
        return c;
    }

    [Theory]
    [InlineData(new[] { 1, 17 }, new[] { 1, 0 })]
    [InlineData(new[] { 16, 16 }, new[] { 1, 0 })]
    [InlineData(new[] { 33, 5 }, new[] { 1, 0 })]
    [InlineData(new[] { 3, 17, 19 }, new[] { 0, 2, 1 })]
    [InlineData(new[] { 3, 4, 5 }, new[] { 1, 0, 2 })]
    [InlineData(new[] { 3, 4, 5 }, new[] { 2, 0, 1 })]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 3, 1, 0, 2 })]
    [InlineData(new[] { 2, 3, 0, 5 }, new[] { 3, 1, 0, 2 })]
    public void TransposeMatchesNaiveIndexing(int[] shape, int[] perm)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var x = Enumerable.Range(0, n).ToArray();
        var y = new int[n];
        Transpose.Run<int>(x, shape, perm, y);
        var yShape = perm.Select(p => shape[p]).ToArray();
        var xStrides = Strides(shape);
        for (int i = 0; i < n; i++)
        {
            var c = Coordinates(i, yShape);
            int source = 0;
            for (int d = 0; d < c.Length; d++) source += c[d] * xStrides[perm[d]];
            Assert.Equal(x[source], y[i]);
        }
    }

    [Theory]
    [InlineData(new[] { 5, 6 }, new[] { 1, 0 }, new[] { 2, 1 }, new[] { 2, 6 })]
    [InlineData(new[] { 5, 6 }, new[] { 4, 5 }, new[] { -1, -2 }, new[] { 5, 3 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 1, 2, 1 }, new[] { 1, -1, 2 }, new[] { 1, 3, 2 })]
    [InlineData(new[] { 7 }, new[] { 6 }, new[] { -3 }, new[] { 3 })]
    public void StridedSliceMatchesNaiveIndexing(int[] shape, int[] starts, int[] steps, int[] yShape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b), m = yShape.Aggregate(1, (a, b) => a * b);
        var x = Enumerable.Range(100, n).ToArray();
        var y = new int[m];
        StridedSlice.Run<int>(x, shape, starts, steps, y, yShape);
        var xStrides = Strides(shape);
        for (int i = 0; i < m; i++)
        {
            var c = Coordinates(i, yShape);
            int source = 0;
            for (int d = 0; d < c.Length; d++) source += (starts[d] + c[d] * steps[d]) * xStrides[d];
            Assert.Equal(x[source], y[i]);
        }
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(4, 3)]
    [InlineData(0, 3)]
    public void BlockCopyPlacesEveryBlock(int blocks, int length)
    {
        var source = Enumerable.Range(1, blocks * 7).ToArray();
        var destination = new int[blocks * 10 + 2];
        BlockCopy.Copy<int>(source, 7, destination.AsSpan(2), 10, blocks, length);
        for (int b = 0; b < blocks; b++)
            for (int i = 0; i < 10; i++)
                Assert.Equal(i >= 2 && i < 2 + length ? source[b * 7 + i - 2] : 0, destination[b * 10 + i]);
    }
}
