using System;
using AotInfer.Kernels.Indexing;
using AotInfer.Kernels.Misc;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>Edge cases of the indexing kernels that the differential tests do not reach.</summary>
public class IndexingKernelTests
{
    [Theory]
    [InlineData(3L)]
    [InlineData(-4L)]
    public void GatherThrowsOnIndexOutsideTheAxis(long index)
    {
        var y = new float[1];
        Assert.Throws<IndexOutOfRangeException>(() => Gather.Run<float, long>(new float[] { 1, 2, 3 }, 1, 3, 1, new[] { index }, y));
    }

    [Fact]
    public void GatherNDWithFullDepthPicksSingleElements()
    {
        var data = new float[] { 0, 1, 2, 3, 4, 5 }; // [2, 3]
        var y = new float[3];
        GatherND.Run<float>(data, new[] { 2, 3 }, new long[] { 1, 2, 0, -1, -1, 0 }, 0, 2, 3, y);
        Assert.Equal(new float[] { 5, 2, 3 }, y);
    }

    [Theory]
    [InlineData(PadMode.Reflect, new float[] { 3, 2, 1, 2, 3, 2, 1 })]
    [InlineData(PadMode.Edge, new float[] { 1, 1, 1, 2, 3, 3, 3 })]
    [InlineData(PadMode.Wrap, new float[] { 2, 3, 1, 2, 3, 1, 2 })]
    [InlineData(PadMode.Constant, new float[] { 9, 9, 1, 2, 3, 9, 9 })]
    public void PadModesOnOneDimension(PadMode mode, float[] expected)
    {
        var y = new float[7];
        Pad.Run<float>(new float[] { 1, 2, 3 }, new[] { 3 }, y, new[] { 7 }, new[] { 2, 2 }, mode, 9);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void PadBorderModesWorkOnTheCroppedInput()
    {
        // Crop one element at the start, then repeat the new first element.
        var y = new float[4];
        Pad.Run<float>(new float[] { 1, 2, 3 }, new[] { 3 }, y, new[] { 4 }, new[] { -1, 2 }, PadMode.Edge, 0);
        Assert.Equal(new float[] { 2, 3, 3, 3 }, y);
    }

    [Fact]
    public void TriluWithDiagonalBeyondTheMatrixKeepsOrClearsAll()
    {
        var x = new int[] { 1, 2, 3, 4, 5, 6 }; // [2, 3]
        var y = new int[6];
        Trilu.Run(x, y, 2, 3, 10L, upper: false);
        Assert.Equal(x, y);
        Trilu.Run(x, y, 2, 3, 10L, upper: true);
        Assert.Equal(new int[6], y);
    }

    [Fact]
    public void CumSumRejectsAnAxisOutsideTheRank()
    {
        var y = new float[2];
        Assert.Throws<IndexOutOfRangeException>(() => CumSum.Run<float, long>(new float[] { 1, 2 }, new[] { 2 }, new long[] { 1 }, y, false, false));
    }

    [Fact]
    public void ClipWithoutBoundsCopies()
    {
        var y = new double[3];
        Clip.Run<double>(new[] { -1e300, double.NaN, 1e300 }, ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty, y);
        Assert.Equal(-1e300, y[0]);
        Assert.True(double.IsNaN(y[1]));
        Assert.Equal(1e300, y[2]);
    }
}
