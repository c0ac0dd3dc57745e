using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Depthwise 2-D convolution (one input and one output channel per group) with stride 2, MobileNet's downsampling
/// layers. On the AVX-512 tier of <see cref="MatrixMultiply.Tier"/> it reads the input rows in place: for 16 outputs
/// of a row, each tap is two whole-vector loads and one two-register permute (vpermt2ps) to the even lanes, then a
/// fused multiply-add, where <see cref="Convolution.Depthwise2D"/> first splits every channel into stride phases with
/// scalar copies. Outputs whose taps reach into the left or right padding are summed one by one. Other tiers call
/// <see cref="Convolution.Depthwise2D"/>, whose scratch this kernel takes for that reason.
/// </summary>
public static class DepthwiseStride2
{
    /// <summary>True for geometries this kernel computes: rank 2, stride 2 in both dimensions.</summary>
    public static bool Supports(int[] geometry)
    {
        var w = new Window(geometry);
        return w.Rank == 2 && w.Stride(0) == 2 && w.Stride(1) == 2;
    }

    /// <summary>
    /// y[c] = activation(bias[c] + Σ taps w[c, kh, kw] · x[c] at 2·(oh, ow) + tap − pads); weights in ONNX layout
    /// <c>[C, 1, KH, KW]</c>, an empty bias means none. <paramref name="scratch"/> holds
    /// <see cref="Convolution.Depthwise2DScratchSize"/> floats (used only below the AVX-512 tier).
    /// </summary>
    public static unsafe void Convolve(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> y, Span<float> scratch,
        int batch, int channels, int[] geometry, FusedActivation activation = default)
    {
        if (!Supports(geometry)) throw new ArgumentException("the geometry is not a stride-2 2-D convolution", nameof(geometry));
        var window = new Window(geometry);
        // Rows with fewer than 16 interior outputs would be summed one by one: the phase-plane kernel does better there
        // (MobileNet's 14- and 7-wide outputs).
        InteriorColumns(window, out int low, out int high);
        if (MatrixMultiply.Tier != GemmTier.Avx512 || !Avx512F.IsSupported || high - low < 16)
        {
            Convolution.Depthwise2D(x, weights, bias, y, scratch, batch, channels, geometry, activation);
            return;
        }
        int inputSize = window.Input(0) * window.Input(1), outputSize = window.Output(0) * window.Output(1), taps = window.Kernel(0) * window.Kernel(1);
        if (weights.Length != channels * taps) throw new ArgumentException($"weights have {weights.Length} elements, expected {channels}×{taps}", nameof(weights));
        if (x.Length < batch * channels * inputSize || y.Length < batch * channels * outputSize)
            throw new ArgumentException($"x or y is too short for {batch} images of {channels} channels");
        fixed (float* px = x)
        fixed (float* pw = weights)
        fixed (float* py = y)
        {
            for (int n = 0; n < batch; n++)
            {
                for (int c = 0; c < channels; c++)
                {
                    float* plane = px + (long)(n * channels + c) * inputSize, output = py + (long)(n * channels + c) * outputSize;
                    float start = bias.IsEmpty ? 0f : bias[c];
                    for (int oh = 0; oh < window.Output(0); oh++)
                        Row(plane, px + x.Length, pw + (long)c * taps, start, output + oh * window.Output(1), window, oh);
                    if (activation.Kind != ActivationKind.None) activation.Apply(new Span<float>(output, outputSize));
                }
            }
        }
    }

    /// <summary>The interior outputs [low, high) of a row: first tap 2j − padLeft ≥ 0 and last tap 2j + (KW−1)·d − padLeft &lt; W.</summary>
    static void InteriorColumns(Window window, out int low, out int high)
    {
        int padLeft = window.PadBegin(1), reach = window.Input(1) - 1 - (window.Kernel(1) - 1) * window.Dilation(1) + padLeft;
        low = (padLeft + 1) / 2;
        high = reach < 0 ? 0 : Math.Min(window.Output(1), reach / 2 + 1);
    }

    /// <summary>
    /// Output row <paramref name="oh"/>: the interior outputs (every tap inside the row) 16 at a time, the last block
    /// overlapping the one before; the rest, or the whole row when fewer than 16 are interior or the loads would pass
    /// <paramref name="xEnd"/>, one by one.
    /// </summary>
    static unsafe void Row(float* plane, float* xEnd, float* filter, float start, float* output, Window window, int oh)
    {
        int inWidth = window.Input(1), outWidth = window.Output(1), kernelWidth = window.Kernel(1);
        int dilation = window.Dilation(1), padLeft = window.PadBegin(1), rowDilation = window.Dilation(0);
        window.ValidTaps(0, oh, out int khBegin, out int khEnd, out int ihStart);
        InteriorColumns(window, out int low, out int high);
        bool vector = high - low >= 16 && khEnd > khBegin &&
            plane + (long)(ihStart + (khEnd - 1) * rowDilation) * inWidth + 2 * (high - 16) + (kernelWidth - 1) * dilation - padLeft + 32 <= xEnd;
        if (!vector) low = high = 0;
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int j = low; j < high; j += 16)
        {
            if (j > high - 16) j = high - 16;
            var sum = Vector512.Create(start);
            for (int kh = khBegin; kh < khEnd; kh++)
            {
                float* row = plane + (long)(ihStart + kh * rowDilation) * inWidth + 2 * j - padLeft;
                for (int kw = 0; kw < kernelWidth; kw++)
                {
                    float* tap = row + kw * dilation;
                    var even = Avx512F.PermuteVar16x32x2(Vector512.Load(tap), evens, Vector512.Load(tap + 16));
                    sum = Vector512.FusedMultiplyAdd(Vector512.Create(filter[kh * kernelWidth + kw]), even, sum);
                }
            }
            sum.Store(output + j);
            if (j == high - 16) break;
        }
        for (int j = 0; j < outWidth; j++)
        {
            if (j == low && high > low) j = high;
            if (j >= outWidth) break;
            float sum = start;
            for (int kh = khBegin; kh < khEnd; kh++)
            {
                float* row = plane + (long)(ihStart + kh * rowDilation) * inWidth;
                for (int kw = 0; kw < kernelWidth; kw++)
                {
                    int column = 2 * j + kw * dilation - padLeft;
                    if (column >= 0 && column < inWidth) sum = MathF.FusedMultiplyAdd(filter[kh * kernelWidth + kw], row[column], sum);
                }
            }
            output[j] = sum;
        }
    }
}
