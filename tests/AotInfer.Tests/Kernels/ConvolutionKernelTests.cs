using System;
using AotInfer.Kernels.Convolution;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>Edge sweeps of the convolution helpers against their definitions.</summary>
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
}
