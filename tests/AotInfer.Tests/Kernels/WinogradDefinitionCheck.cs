using System;
using System.Linq;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The check both Winograd kernel test classes run: a k×k, stride-1 convolution on random data against the definition
/// (accumulated in double), on every tier the CPU has, for each activation with and without bias and residual.
/// </summary>
/// <remarks>
/// The bound: the transforms round with coefficients up to 8, so the error scales with Σ|w·x| of the output, not with
/// the output itself (which may cancel to near zero): each output must be within 1e-5·(Σ|w·x| + 1) of the definition.
/// </remarks>
internal static class WinogradDefinitionCheck
{
    /// <summary>Runs the kernel on the current tier: x, bias (null for none), y, activation, residual (null for none).</summary>
    public delegate void Convolver(float[] x, float[]? bias, float[] y, FusedActivation activation, float[]? residual);

    /// <summary>Packs the weights for the current tier (and checks it took that tier), allocates the scratch, returns the kernel.</summary>
    public delegate Convolver Prepare(GemmTier tier, float[] weights, int outChannels, int channels, int[] geometry);

    /// <summary>Asserts the bound for every case; returns the worst error / (Σ|w·x| + 1).</summary>
    public static double Run(int batch, int channels, int height, int width, int outChannels, int kernel, int[] pads, FusedActivation[] activations,
        int seed, Prepare prepare)
    {
        int oh = height + pads[0] + pads[2] - kernel + 1, ow = width + pads[1] + pads[3] - kernel + 1;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, 1, 1, 1, 1, pads[0], pads[1], pads[2], pads[3] };
        var window = new Window(geometry);
        var random = new Random(seed);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * channels * height * width), w = Random(outChannels * channels * kernel * kernel), b = Random(outChannels);
        float[] residual = Random(batch * outChannels * oh * ow), noBias = new float[outChannels];
        float[] Naive(float[] input, float[] weights, float[] bias) =>
            ConvolutionKernelTests.NaiveConvolution(input, weights, bias, batch, channels, outChannels, 1, window);
        float[] magnitude = Naive(Array.ConvertAll(x, Math.Abs), Array.ConvertAll(w, Math.Abs), noBias);
        float[][] sums = { Naive(x, w, b), Naive(x, w, noBias) };
        var cases = (from activation in activations from withBias in new[] { true, false } from withResidual in new[] { false, true }
                     select (activation, withBias, withResidual)).ToArray();
        double worst = 0;
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            var convolve = prepare(tier, w, outChannels, channels, geometry);
            foreach (var (activation, withBias, withResidual) in cases)
            {
                float[] y = new float[residual.Length];
                y.AsSpan().Fill(float.NaN);
                convolve(x, withBias ? b : null, y, activation, withResidual ? residual : null);
                float[] sum = sums[withBias ? 0 : 1];
                for (int i = 0; i < y.Length; i++)
                {
                    float want = FusedActivationTests.Reference(activation.Kind, activation.Alpha, activation.Beta, sum[i] + (withResidual ? residual[i] : 0f));
                    double error = Math.Abs(y[i] - want), scale = magnitude[i] + 1;
                    worst = Math.Max(worst, error / scale);
                    Assert.True(error <= 1e-5 * scale,
                        $"tier {tier}, {activation.Kind}, bias {withBias}, residual {withResidual}, element {i}: {y[i]} vs {want} (Σ|w·x| {magnitude[i]})");
                }
            }
        });
        return worst;
    }

    /// <summary>Runs the kernel on the current tier: x, bias (null for none), y, activation, and whether to pool 2×2.</summary>
    public delegate void PoolingConvolver(float[] x, float[]? bias, float[] y, FusedActivation activation, bool pooled);

    /// <summary>Packs the weights for the current tier, allocates the scratch (filled with NaN: every float read must be written), returns the kernel.</summary>
    public delegate PoolingConvolver PreparePooling(float[] weights, int outChannels, int channels, int[] geometry);

    /// <summary>
    /// The fused 2×2 stride-2 max pool gives exactly the max of the unpooled kernel's outputs (the same arithmetic, then a
    /// max), on every tier, for the clamp activations with and without bias; nothing is written past the pooled output.
    /// </summary>
    public static void CheckPooled(int batch, int channels, int height, int width, int outChannels, int kernel, int[] pads, PreparePooling prepare)
    {
        int oh = height + pads[0] + pads[2] - kernel + 1, ow = width + pads[1] + pads[3] - kernel + 1, ph = oh / 2, pw = ow / 2;
        int[] geometry = { 2, height, width, oh, ow, kernel, kernel, 1, 1, 1, 1, pads[0], pads[1], pads[2], pads[3] };
        var random = new Random(batch * 1000 + outChannels);
        float[] Random(int n) => Array.ConvertAll(new float[n], _ => (float)random.NextDouble() - 0.5f);
        float[] x = Random(batch * channels * height * width), w = Random(outChannels * channels * kernel * kernel), b = Random(outChannels);
        var activations = new FusedActivation[] { default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.25f, 0.1f) };
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            var convolve = prepare(w, outChannels, channels, geometry);
            foreach (var activation in activations)
                foreach (var bias in new[] { b, null })
                {
                    var full = new float[batch * outChannels * oh * ow];
                    convolve(x, bias, full, activation, pooled: false);
                    var pooled = new float[batch * outChannels * ph * pw + 7];
                    pooled.AsSpan().Fill(float.NaN);
                    convolve(x, bias, pooled, activation, pooled: true);
                    for (int plane = 0; plane < batch * outChannels; plane++)
                        for (int i = 0; i < ph; i++)
                            for (int j = 0; j < pw; j++)
                            {
                                int at = plane * oh * ow + 2 * i * ow + 2 * j;
                                float want = Math.Max(Math.Max(full[at], full[at + 1]), Math.Max(full[at + ow], full[at + ow + 1]));
                                float got = pooled[(plane * ph + i) * pw + j];
                                Assert.True(want.Equals(got), $"tier {tier}, {activation.Kind}, bias {bias != null}, plane {plane}, pooled ({i}, {j}): {got} vs {want}");
                            }
                    for (int i = batch * outChannels * ph * pw; i < pooled.Length; i++) Assert.True(float.IsNaN(pooled[i]), $"tier {tier}: wrote past the pooled output at {i}");
                }
        });
    }
}
