using System;
using System.Collections.Generic;
using AotInfer.Kernels.Pooling;
using Xunit;

namespace AotInfer.Tests.Kernels;

[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class PoolingKernelTests
{
    /// <summary>
    /// The vectorised MaxPool2D against the generic window-by-window pool, over kernels, strides (the separable stride-2
    /// path, the stride-2 compress and the scalar gather), dilations, asymmetric pads, ceil-mode overhang and widths around the vector lengths,
    /// on every tier, with NaNs and negative values in the input.
    /// </summary>
    [Fact]
    public void MaxPool2DMatchesTheGenericPoolForEveryGeometryAndTier()
    {
        var random = new Random(45);
        foreach (var (geometry, geometryName) in Geometries(new[] { 1, 2, 3, 5 }, new[] { 1, 7, 15, 16, 17, 27, 33, 55, 113 }))
        {
            int planes = 3;
            float[] x = Array.ConvertAll(new float[planes * geometry[1] * geometry[2]], _ => (float)random.NextDouble() * 4 - 3);
            x[random.Next(x.Length)] = float.NaN;
            float[] expected = new float[planes * geometry[3] * geometry[4]];
            Pooling.Max<float>(x, expected, Span<long>.Empty, planes, geometry, false);
            ConvolutionKernelTests.OnEveryTier(tier =>
            {
                // 16 spare floats: the stride-2 path stores whole vectors, which must stop at the output's end.
                float[] y = new float[expected.Length + 16];
                y.AsSpan().Fill(42f);
                MaxPool2D.Max(x, y, planes, geometry);
                string name = $"tier {tier}, {geometryName}";
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(y[i] == expected[i] || (float.IsNaN(y[i]) && float.IsNaN(expected[i])), $"{name}, element {i}: {y[i]} vs {expected[i]}");
                for (int i = expected.Length; i < y.Length; i++) Assert.True(y[i] == 42f, $"{name}: written past the output at {i}");
            });
        }
    }

    /// <summary>
    /// The same sweep for the u8 and s8 pools of quantised models (the stride-2 narrowing path included), against the
    /// generic pool: every value of the type appears, the minimum included (it is also the padding).
    /// </summary>
    [Fact]
    public void MaxPool2DOfBytesMatchesTheGenericPoolForEveryGeometry()
    {
        var random = new Random(46);
        foreach (var (geometry, name) in Geometries(new[] { 1, 2, 3 }, new[] { 1, 7, 16, 17, 24, 33, 113 }))
        {
            int planes = 3;
            byte[] x = new byte[planes * geometry[1] * geometry[2]];
            random.NextBytes(x);
            Check<byte>(x, planes, geometry, name);
            Check<sbyte>(Array.ConvertAll(x, v => (sbyte)v), planes, geometry, name);
        }

        static void Check<T>(T[] x, int planes, int[] geometry, string name) where T : unmanaged, System.Numerics.INumber<T>, System.Numerics.IMinMaxValue<T>
        {
            var expected = new T[planes * geometry[3] * geometry[4]];
            Pooling.Max<T>(x, expected, Span<long>.Empty, planes, geometry, false);
            var y = new T[expected.Length];
            MaxPool2D.Max<T>(x, y, planes, geometry);
            for (int i = 0; i < y.Length; i++)
                Assert.True(y[i] == expected[i], $"{typeof(T).Name} {name}, element {i}: {y[i]} vs {expected[i]}");
        }
    }

    /// <summary>
    /// k×k stride-k float pools (the flat two-pass path; k = 2 and 3) over heights and widths with and without a
    /// leftover, widths whose row groups straddle the vector lengths and the stack chunk, and one too wide for the
    /// chunk, on every tier.
    /// </summary>
    [Fact]
    public void TiledMaxPoolMatchesTheGenericPoolForEveryShapeAndTier()
    {
        var random = new Random(47);
        foreach (int size in new[] { 2, 3 })
        foreach (int height in new[] { 3, 5, 8, 9 })
        foreach (int width in new[] { 3, 8, 9, 14, 24, 25, 33, 48, 1030, 3000 })
        {
            int planes = 5, oh = height / size, ow = width / size;
            int[] geometry = { 2, height, width, oh, ow, size, size, size, size, 1, 1, 0, 0, 0, 0 };
            float[] x = Array.ConvertAll(new float[planes * height * width], _ => (float)random.NextDouble() * 4 - 3);
            x[random.Next(x.Length)] = float.NaN;
            float[] expected = new float[planes * oh * ow];
            Pooling.Max<float>(x, expected, Span<long>.Empty, planes, geometry, false);
            ConvolutionKernelTests.OnEveryTier(tier =>
            {
                float[] y = new float[expected.Length + 1];
                y.AsSpan().Fill(42f);
                MaxPool2D.Max(x, y, planes, geometry);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(y[i] == expected[i] || (float.IsNaN(y[i]) && float.IsNaN(expected[i])), $"tier {tier}, {size}×{size} on {height}×{width}, element {i}: {y[i]} vs {expected[i]}");
                Assert.Equal(42f, y[^1]); // nothing written past the output
            });
        }
    }

    [Fact]
    public void MaxPool2DRejectsOtherRanksAndShortOutputs()
    {
        int[] oneD = { 1, 8, 4, 2, 2, 1, 0, 0 };
        Assert.Throws<ArgumentException>(() => MaxPool2D.Max(new float[8], new float[4], 1, oneD));
        int[] twoD = { 2, 4, 4, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0 };
        Assert.Throws<ArgumentException>(() => MaxPool2D.Max(new float[16], new float[3], 1, twoD));
    }

    /// <summary>
    /// 2-D pool geometries of height 6 over the given square kernels and widths: strides 1…3, dilations 1 and 2,
    /// no, symmetric and asymmetric pads, floor and ceil mode (those with an empty output skipped), with a label.
    /// </summary>
    static IEnumerable<(int[] Geometry, string Name)> Geometries(int[] kernels, int[] widths)
    {
        const int height = 6;
        foreach (int kernel in kernels)
        foreach (int stride in new[] { 1, 2, 3 })
        foreach (int dilation in new[] { 1, 2 })
        foreach (int width in widths)
        foreach (var pads in new[] { new[] { 0, 0, 0, 0 }, new[] { 1, 1, 1, 1 }, new[] { 2, 0, 1, 3 } })
        foreach (bool ceil in new[] { false, true })
        {
            int oh = Extent(height, pads[0], pads[2], kernel, stride, dilation, ceil), ow = Extent(width, pads[1], pads[3], kernel, stride, dilation, ceil);
            if (oh <= 0 || ow <= 0) continue;
            yield return (new[] { 2, height, width, oh, ow, kernel, kernel, stride, stride, dilation, dilation, pads[0], pads[1], pads[2], pads[3] },
                $"kernel {kernel}, stride {stride}, dilation {dilation}, width {width}, pads {string.Join(",", pads)}, ceil {ceil}");
        }
    }

    /// <summary>Output extent of one pooled dimension (ONNX's floor or ceil formula, a last window starting in padding dropped).</summary>
    static int Extent(int input, int padBegin, int padEnd, int kernel, int stride, int dilation, bool ceil)
    {
        int span = input + padBegin + padEnd - dilation * (kernel - 1) - 1;
        if (span < 0) return 0;
        int extent = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceil && (extent - 1) * stride >= input + padBegin) extent--;
        return extent;
    }
}
