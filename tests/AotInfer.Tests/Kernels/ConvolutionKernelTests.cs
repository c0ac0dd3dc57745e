using System;
using System.Collections.Generic;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>Edge sweeps of the convolution helpers against their definitions.</summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class ConvolutionKernelTests
{
    static int[] Packed1D(int input, int output, int kernel, int stride, int dilation, int padBegin) =>
        new[] { 1, input, output, kernel, stride, dilation, padBegin, 0 };

    [Fact]
    public void ValidRangeAndValidTapsAgreeWithTheDefinitionForEveryGeometry()
    {
        for (int input = 1; input <= 7; input++)
        for (int kernel = 1; kernel <= 4; kernel++)
        for (int stride = 1; stride <= 3; stride++)
        for (int dilation = 1; dilation <= 3; dilation++)
        for (int pad = -2; pad <= 3; pad++)
        {
            int output = 6;
            var window = new Window(Packed1D(input, output, kernel, stride, dilation, pad));
            string name = $"input {input}, kernel {kernel}, stride {stride}, dilation {dilation}, pad {pad}";
            for (int tap = 0; tap < kernel; tap++)
            {
                window.ValidRange(0, tap, out int begin, out int end, out int offset);
                for (int p = 0; p < output; p++)
                {
                    int coordinate = p * stride + tap * dilation - pad;
                    Assert.True(coordinate == p * stride + offset, name);
                    Assert.True((coordinate >= 0 && coordinate < input) == (p >= begin && p < end), $"{name}, tap {tap}, position {p}");
                }
            }
            for (int p = 0; p < output; p++)
            {
                window.ValidTaps(0, p, out int begin, out int end, out int start);
                for (int tap = 0; tap < kernel; tap++)
                {
                    int coordinate = start + tap * dilation;
                    Assert.True((coordinate >= 0 && coordinate < input) == (tap >= begin && tap < end), $"{name}, position {p}, tap {tap}");
                }
            }
        }
    }

    [Fact]
    public void MultiplyAddAddScalarAndMaxMatchScalarLoopsForEveryLengthUpTo70()
    {
        var random = new Random(5);
        for (int n = 0; n <= 70; n++)
        {
            float[] target = new float[n], source = new float[n];
            for (int i = 0; i < n; i++) { target[i] = (float)random.NextDouble() - 0.5f; source[i] = (float)random.NextDouble() - 0.5f; }
            float[] expected = new float[n], expectedMax = new float[n];
            for (int i = 0; i < n; i++) { expected[i] = target[i] + source[i] * 1.5f; expectedMax[i] = Math.Max(target[i], source[i]); }
            float[] actual = (float[])target.Clone(), actualMax = (float[])target.Clone(), actualShift = (float[])target.Clone();
            VectorMath.MultiplyAdd(actual, source, 1.5f);
            VectorMath.Max<float>(actualMax, source);
            VectorMath.AddScalar(actualShift, 0.25f);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedMax, actualMax);
            Assert.Equal(Array.ConvertAll(target, v => v + 0.25f), actualShift);
        }
    }

    [Fact]
    public void ScatterAddIsTheAdjointOfGather()
    {
        // <Gather(x), c> == <x, ScatterAdd(c)> for any x, c: checks the two walk the same taps.
        int[] packed = { 2, 5, 6, 3, 4, 2, 3, 2, 1, 1, 2, 1, 1, 0, 2 }; // input 5x6, output 3x4, kernel 2x3, strides 2x1, dilations 1x2, pads begin 1,0
        var window = new Window(packed);
        int channels = 2;
        var random = new Random(9);
        float[] image = new float[channels * window.InputSize];
        float[] columns = new float[channels * window.KernelSize * window.OutputSize];
        for (int i = 0; i < image.Length; i++) image[i] = (float)random.NextDouble();
        for (int i = 0; i < columns.Length; i++) columns[i] = (float)random.NextDouble();
        float[] gathered = new float[columns.Length];
        ColumnBuffer.Gather(image, channels, window, gathered);
        float[] scattered = new float[image.Length];
        ColumnBuffer.ScatterAdd(columns, channels, window, scattered);
        double left = 0, right = 0;
        for (int i = 0; i < columns.Length; i++) left += gathered[i] * columns[i];
        for (int i = 0; i < image.Length; i++) right += image[i] * scattered[i];
        Assert.Equal(left, right, 4);
    }

    /// <summary>Direct 2-D convolution from the definition, accumulated in double: the reference for the fast paths.</summary>
    internal static float[] NaiveConvolution(float[] x, float[] w, float[] b, int batch, int inChannels, int outChannels, int groups, Window window)
    {
        int groupIn = inChannels / groups, groupOut = outChannels / groups;
        int ih = window.Input(0), iw = window.Input(1), oh = window.Output(0), ow = window.Output(1), kh = window.Kernel(0), kw = window.Kernel(1);
        var y = new float[batch * outChannels * oh * ow];
        for (int n = 0; n < batch; n++)
        for (int m = 0; m < outChannels; m++)
        for (int py = 0; py < oh; py++)
        for (int px = 0; px < ow; px++)
        {
            double sum = b[m];
            int g = m / groupOut;
            for (int c = 0; c < groupIn; c++)
            for (int ty = 0; ty < kh; ty++)
            for (int tx = 0; tx < kw; tx++)
            {
                int yy = py * window.Stride(0) + ty * window.Dilation(0) - window.PadBegin(0);
                int xx = px * window.Stride(1) + tx * window.Dilation(1) - window.PadBegin(1);
                if ((uint)yy >= (uint)ih || (uint)xx >= (uint)iw) continue;
                sum += (double)x[((n * inChannels + g * groupIn + c) * ih + yy) * iw + xx] * w[((m * groupIn + c) * kh + ty) * kw + tx];
            }
            y[((n * outChannels + m) * oh + py) * ow + px] = (float)sum;
        }
        return y;
    }

    static readonly FusedActivation Relu = new(ActivationKind.Relu);

    /// <summary>A fused residual is added before the activation: y = max(conv + residual, 0), as Add then Relu.</summary>
    static void AssertResidualRelu(float[] convolution, float[] residual, float[] y, GemmTier tier)
    {
        for (int i = 0; i < y.Length; i++)
        {
            float want = Math.Max(convolution[i] + residual[i], 0f);
            Assert.True(Math.Abs(y[i] - want) <= 1e-4f * (1 + Math.Abs(want)), $"tier {tier}, residual, element {i}: {y[i]} vs {want}");
        }
    }

    [Theory]
    [InlineData(1, 8, 12, 1, 1)]  // pointwise, one group
    [InlineData(2, 6, 9, 3, 1)]   // pointwise, grouped, two images
    [InlineData(1, 5, 7, 1, 3)]   // im2col+gemm, 3×3 padded
    [InlineData(2, 4, 6, 2, 3)]   // im2col+gemm, grouped, two images
    public void PointwiseAndIm2ColAddAFusedResidualOnEveryTier(int batch, int channels, int outChannels, int groups, int kernel)
    {
        const int height = 7, width = 9;
        int pad = kernel / 2;
        int[] geometry = { 2, height, width, height, width, kernel, kernel, 1, 1, 1, 1, pad, pad, pad, pad };
        var window = new Window(geometry);
        var random = new Random(45);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * channels * height * width), w = Random(outChannels * channels / groups * kernel * kernel), b = Random(outChannels);
        float[] expected = NaiveConvolution(x, w, b, batch, channels, outChannels, groups, window), residual = Random(expected.Length);
        var saved = MatrixMultiply.Tier;
        try
        {
            foreach (var tier in Enum.GetValues<GemmTier>())
            {
                MatrixMultiply.Tier = tier;
                float[] y = new float[expected.Length];
                y.AsSpan().Fill(float.NaN);
                if (kernel == 1) Convolution.Pointwise(x, w, b, y, batch, channels, outChannels, groups, height * width, Relu, residual);
                else Convolution.Im2ColGemm(x, w, b, y, new float[channels / groups * kernel * kernel * height * width], batch, channels, outChannels, groups, geometry, Relu, residual);
                AssertResidualRelu(expected, residual, y, tier);
            }
        }
        finally
        {
            MatrixMultiply.Tier = saved;
        }
    }

    [Fact]
    public void AResidualShorterThanTheOutputIsRejected()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
        var filter = PackedFilter.Pack(new float[4 * 3], 1, 4, 3);
        var error = Assert.Throws<ArgumentException>(() =>
            Convolution.PackedGemm(new float[3 * 25], filter, ReadOnlySpan<float>.Empty, new float[4 * 25], Span<float>.Empty, 1, 3, geometry, default, new float[4 * 25 - 1]));
        Assert.Contains("residual", error.Message);
    }

    public static IEnumerable<object[]> PackedGemmCases()
    {
        // (batch, C, H, W, M, groups, kernel, stride, dilation, pads top/left/bottom/right): odd sizes, outputs that
        // cross sliver and column-block boundaries, depths beyond one depth block, M not a multiple of MR.
        yield return new object[] { 1, 1, 28, 28, 32, 1, 3, 1, 1, new[] { 1, 1, 1, 1 } };
        yield return new object[] { 1, 3, 17, 19, 5, 1, 3, 1, 1, new[] { 1, 1, 1, 1 } };
        yield return new object[] { 2, 4, 9, 11, 8, 2, 3, 2, 1, new[] { 0, 1, 2, 1 } };
        yield return new object[] { 1, 6, 12, 10, 15, 3, 2, 3, 2, new[] { 2, 0, 1, 3 } };
        yield return new object[] { 1, 20, 24, 25, 9, 1, 3, 1, 1, new[] { 1, 1, 1, 1 } };
        yield return new object[] { 1, 16, 13, 13, 17, 1, 1, 1, 1, new[] { 0, 0, 0, 0 } };
        yield return new object[] { 1, 8, 16, 16, 12, 1, 1, 2, 1, new[] { 0, 0, 0, 0 } };
        yield return new object[] { 1, 2, 30, 6, 4, 1, 5, 1, 1, new[] { 0, 2, 0, 2 } };
    }

    [Theory]
    [MemberData(nameof(PackedGemmCases))]
    public void PackedGemmMatchesTheDefinitionOnEveryTier(int batch, int channels, int height, int width, int outChannels, int groups,
        int kernel, int stride, int dilation, int[] pads)
    {
        int oh = (height + pads[0] + pads[2] - dilation * (kernel - 1) - 1) / stride + 1;
        int ow = (width + pads[1] + pads[3] - dilation * (kernel - 1) - 1) / stride + 1;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, stride, stride, dilation, dilation, pads[0], pads[1], pads[2], pads[3] };
        var window = new Window(geometry);
        var random = new Random(21);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * channels * height * width), w = Random(outChannels * channels / groups * kernel * kernel), b = Random(outChannels);
        float[] expected = NaiveConvolution(x, w, b, batch, channels, outChannels, groups, window);
        float[] residual = Random(expected.Length);
        var saved = MatrixMultiply.Tier;
        try
        {
            foreach (var tier in Enum.GetValues<GemmTier>())
            {
                MatrixMultiply.Tier = tier;
                var filter = PackedFilter.Pack(w, groups, outChannels / groups, channels / groups * kernel * kernel);
                float[] padded = new float[Convolution.PackedGemmScratchSize(channels, groups, geometry)];
                float[] y = new float[expected.Length];
                y.AsSpan().Fill(float.NaN);
                Convolution.PackedGemm(x, filter, b, y, padded, batch, channels, geometry);
                for (int i = 0; i < y.Length; i++)
                    Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"tier {filter.Tier}, element {i}: {y[i]} vs {expected[i]}");
                y.AsSpan().Fill(float.NaN);
                Convolution.PackedGemm(x, filter, b, y, padded, batch, channels, geometry, Relu, residual);
                AssertResidualRelu(expected, residual, y, filter.Tier);
            }
        }
        finally
        {
            MatrixMultiply.Tier = saved;
        }
    }

    [Fact]
    public void PackedGemmRejectsAFilterOfTheWrongDepth()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var filter = PackedFilter.Pack(new float[4 * 2 * 9], 1, 4, 2 * 9);
        var error = Assert.Throws<ArgumentException>(() =>
            Convolution.PackedGemm(new float[3 * 25], filter, ReadOnlySpan<float>.Empty, new float[4 * 25], new float[1000], 1, 3, geometry));
        Assert.Contains("depth", error.Message);
    }

    [Theory]
    [InlineData(1, 16, 16, 32, 32, 1, 1, 1, 1)]   // resnet8's 3×3 stride-1 layers: even output
    [InlineData(2, 5, 7, 13, 11, 1, 1, 1, 1)]     // odd output sizes, M and C not multiples of anything
    [InlineData(1, 3, 4, 9, 10, 0, 2, 1, 0)]      // asymmetric pads, output smaller and larger than the input
    [InlineData(1, 200, 9, 6, 7, 1, 1, 1, 1)]     // more channels than one depth block
    [InlineData(1, 8, 6, 1, 1, 1, 1, 1, 1)]       // a single output position
    public void WinogradMatchesTheDefinitionOnEveryTier(int batch, int channels, int outChannels, int height, int width,
        int padTop, int padLeft, int padBottom, int padRight)
    {
        int oh = height + padTop + padBottom - 2, ow = width + padLeft + padRight - 2;
        int[] geometry = { 2, height, width, oh, ow, 3, 3, 1, 1, 1, 1, padTop, padLeft, padBottom, padRight };
        var random = new Random(33);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * channels * height * width), w = Random(outChannels * channels * 9), b = Random(outChannels);
        float[] expected = NaiveConvolution(x, w, b, batch, channels, outChannels, 1, new Window(geometry));
        float[] residual = Random(expected.Length);
        var relu = new FusedActivation(ActivationKind.Relu);
        var saved = MatrixMultiply.Tier;
        try
        {
            foreach (var tier in Enum.GetValues<GemmTier>())
            {
                MatrixMultiply.Tier = tier;
                var filter = Winograd.PackFilter(w, outChannels, channels);
                float[] scratch = new float[Winograd.ScratchSize(channels, outChannels, geometry)];
                scratch.AsSpan().Fill(float.NaN);
                float[] y = new float[expected.Length];
                Winograd.Convolve(x, filter, b, y, scratch, batch, channels, geometry, relu);
                for (int i = 0; i < y.Length; i++)
                {
                    float want = Math.Max(expected[i], 0f);
                    Assert.True(Math.Abs(y[i] - want) <= 1e-4f * (1 + Math.Abs(want)), $"tier {filter.Tier}, element {i}: {y[i]} vs {want}");
                }
                Winograd.Convolve(x, filter, b, y, scratch, batch, channels, geometry, relu, residual);
                AssertResidualRelu(expected, residual, y, filter.Tier);
            }
        }
        finally
        {
            MatrixMultiply.Tier = saved;
        }
    }

    [Fact]
    public void WinogradRejectsStridedWindowsAndShortScratch()
    {
        var filter = Winograd.PackFilter(new float[4 * 2 * 9], 4, 2);
        int[] strided = { 2, 6, 6, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0 };
        Assert.Throws<ArgumentException>(() => Winograd.Convolve(new float[72], filter, ReadOnlySpan<float>.Empty, new float[36], new float[10000], 1, 2, strided));
        int[] same = { 2, 6, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var error = Assert.Throws<ArgumentException>(() => Winograd.Convolve(new float[72], filter, ReadOnlySpan<float>.Empty, new float[144], new float[10], 1, 2, same));
        Assert.Contains("scratch", error.Message);
    }

    [Fact]
    public void Depthwise2DMatchesTheDefinitionForStridesDilationsPadsAndWidths()
    {
        var random = new Random(44);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        foreach (int kernel in new[] { 1, 3, 5 })
        foreach (int stride in new[] { 1, 2, 3 })
        foreach (int dilation in new[] { 1, 2 })
        foreach (int width in new[] { 1, 5, 8, 17, 37 })
        foreach (var pads in new[] { new[] { 0, 0, 0, 0 }, new[] { 1, 1, 1, 1 }, new[] { 2, 0, 1, 3 } })
        {
            int height = 7, channels = 3, batch = 2;
            int oh = (height + pads[0] + pads[2] - dilation * (kernel - 1) - 1) / stride + 1;
            int ow = (width + pads[1] + pads[3] - dilation * (kernel - 1) - 1) / stride + 1;
            if (oh <= 0 || ow <= 0) continue;
            int[] geometry = { 2, height, width, oh, ow, kernel, kernel, stride, stride, dilation, dilation, pads[0], pads[1], pads[2], pads[3] };
            float[] x = Random(batch * channels * height * width), w = Random(channels * kernel * kernel), b = Random(channels);
            float[] expected = NaiveConvolution(x, w, b, batch, channels, channels, channels, new Window(geometry));
            float[] scratch = new float[Convolution.Depthwise2DScratchSize(geometry)];
            scratch.AsSpan().Fill(float.NaN);
            float[] y = new float[expected.Length];
            Convolution.Depthwise2D(x, w, b, y, scratch, batch, channels, geometry);
            string name = $"kernel {kernel}, stride {stride}, dilation {dilation}, width {width}, pads {string.Join(",", pads)}";
            for (int i = 0; i < y.Length; i++)
                Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"{name}, element {i}: {y[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void DepthwiseSameWidthMatchesTheDefinitionOnEveryTier()
    {
        var random = new Random(46);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        // Output width = width + left + right − dilation·(kernel − 1) must equal width: right pad follows from the left.
        foreach (int kernel in new[] { 1, 3, 5 })
        foreach (int dilation in new[] { 1, 2 })
        foreach (int left in new[] { 0, 1, 2 })
        foreach (int width in new[] { 1, 2, 5, 8, 13, 17 })
        foreach (var (top, bottom) in new[] { (0, 0), (1, 1), (2, 0), (0, 3) })
        foreach (int channels in new[] { 1, 3, 17 })
        {
            int right = dilation * (kernel - 1) - left, height = 6, batch = 2;
            int oh = height + top + bottom - dilation * (kernel - 1);
            if (right < 0 || oh <= 0) continue;
            int[] geometry = { 2, height, width, oh, width, kernel, kernel, 1, 1, dilation, dilation, top, left, bottom, right };
            Assert.True(DepthwiseSameWidth.Supports(geometry));
            float[] x = Random(batch * channels * height * width), w = Random(channels * kernel * kernel), b = Random(channels);
            var relu = new FusedActivation(ActivationKind.Relu);
            float[] expected = NaiveConvolution(x, w, b, batch, channels, channels, channels, new Window(geometry));
            for (int i = 0; i < expected.Length; i++) expected[i] = Math.Max(0, expected[i]);
            OnEveryTier(tier =>
            {
                float[] scratch = new float[DepthwiseSameWidth.ScratchSize(geometry)];
                scratch.AsSpan().Fill(float.NaN);
                float[] y = new float[expected.Length];
                DepthwiseSameWidth.Convolve(x, w, b, y, scratch, batch, channels, geometry, relu);
                string name = $"tier {tier}, kernel {kernel}, dilation {dilation}, width {width}, pads {top},{left},{bottom},{right}, channels {channels}";
                AssertNear(expected, y, name);
            });
        }
    }

    [Fact]
    public void DepthwiseStride2MatchesTheDefinitionOnEveryTier()
    {
        var random = new Random(47);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        foreach (int kernel in new[] { 1, 3, 5 })
        foreach (int dilation in new[] { 1, 2 })
        foreach (int width in new[] { 3, 17, 36, 37, 50 })
        foreach (var pads in new[] { new[] { 0, 0, 0, 0 }, new[] { 1, 1, 1, 1 }, new[] { 2, 0, 1, 3 } })
        {
            int height = 7, channels = 3, batch = 2;
            int oh = (height + pads[0] + pads[2] - dilation * (kernel - 1) - 1) / 2 + 1;
            int ow = (width + pads[1] + pads[3] - dilation * (kernel - 1) - 1) / 2 + 1;
            if (oh <= 0 || ow <= 0 || height + pads[0] + pads[2] < dilation * (kernel - 1) + 1) continue;
            int[] geometry = { 2, height, width, oh, ow, kernel, kernel, 2, 2, dilation, dilation, pads[0], pads[1], pads[2], pads[3] };
            Assert.True(DepthwiseStride2.Supports(geometry));
            float[] x = Random(batch * channels * height * width), w = Random(channels * kernel * kernel), b = Random(channels);
            var clip = new FusedActivation(ActivationKind.Clip, 0f, 0.25f);
            float[] expected = NaiveConvolution(x, w, b, batch, channels, channels, channels, new Window(geometry));
            for (int i = 0; i < expected.Length; i++) expected[i] = Math.Clamp(expected[i], 0f, 0.25f);
            OnEveryTier(tier =>
            {
                float[] scratch = new float[DepthwiseStride2.ScratchSize(geometry)];
                scratch.AsSpan().Fill(float.NaN);
                float[] y = new float[expected.Length];
                y.AsSpan().Fill(float.NaN);
                DepthwiseStride2.Convolve(x, w, b, y, scratch, batch, channels, geometry, clip);
                string name = $"tier {tier}, kernel {kernel}, dilation {dilation}, width {width}, pads {string.Join(",", pads)}";
                AssertNear(expected, y, name);
            });
        }
    }

    /// <summary>Every element within 1e-5 relative (plus 1e-5 absolute) of the definition's.</summary>
    static void AssertNear(float[] expected, float[] y, string name)
    {
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"{name}, element {i}: {y[i]} vs {expected[i]}");
    }

    /// <summary>Runs <paramref name="body"/> with <see cref="MatrixMultiply.Tier"/> forced to each tier the CPU has, restoring it after.</summary>
    internal static void OnEveryTier(Action<GemmTier> body)
    {
        var saved = MatrixMultiply.Tier;
        try
        {
            foreach (var tier in Enum.GetValues<GemmTier>())
            {
                if (tier > MatrixMultiply.BestTier) continue;
                MatrixMultiply.Tier = tier;
                body(tier);
            }
        }
        finally
        {
            MatrixMultiply.Tier = saved;
        }
    }

    [Fact]
    public void DepthwiseSameWidthRejectsStridesAndShortScratch()
    {
        int[] strided = { 2, 6, 6, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 };
        Assert.False(DepthwiseSameWidth.Supports(strided));
        Assert.Throws<ArgumentException>(() => DepthwiseSameWidth.Convolve(new float[36], new float[9], ReadOnlySpan<float>.Empty, new float[9], new float[1000], 1, 1, strided));
        int[] same = { 2, 6, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 };
        var error = Assert.Throws<ArgumentException>(() => DepthwiseSameWidth.Convolve(new float[36], new float[9], ReadOnlySpan<float>.Empty, new float[36], new float[10], 1, 1, same));
        Assert.Contains("scratch", error.Message);
    }
}
