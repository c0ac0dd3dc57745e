using System;
using System.Collections.Generic;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using Xunit;
using Xunit.Abstractions;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 5×5) vectorised over output channels against the definition (accumulated in double), on every tier
/// the CPU has: the LeNet and MNIST layers, output channel counts that fill no, one, or several blocks (more than a
/// group's four), planes smaller than a tile up to rows split in several groups, odd sizes, pads wider than the kernel's
/// reach, every fused activation, with and without bias and residual.
/// </summary>
/// <remarks>
/// The tolerance: each output adds 64 products through transforms with coefficients up to 21/4 (Bᵀ) and 8 (Aᵀ) and
/// filter coefficients down to 1/90, so the rounding error scales with Σ|w·x| of the output rather than with the output
/// itself. On these random data the worst error measured is 9.8e-7·(Σ|w·x| + 1) on every tier (about 8 float
/// epsilons; F(4×4, 3×3)'s tests reach 2.5e-6); the bound of <see cref="WinogradDefinitionCheck"/>, 1e-5·(Σ|w·x| + 1),
/// leaves ten times that, and a wrong tap moves an output by about Σ|w·x| / 25C, at least 2e-3·Σ|w·x| at 20 channels.
/// </remarks>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class WinogradF4x5Tests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases()
    {
        // (batch, C, H, W, M, pads top/left/bottom/right)
        yield return new object[] { 1, 20, 12, 12, 50, new[] { 0, 0, 0, 0 } };   // fashion_lenet5's c2: 2×2 tiles, four blocks, the last of 2 channels
        yield return new object[] { 1, 8, 14, 14, 16, new[] { 2, 2, 2, 2 } };    // mnist-8's second layer: 4×4 tiles overhanging the 14×14 output
        yield return new object[] { 1, 1, 28, 28, 8, new[] { 2, 2, 2, 2 } };     // mnist-8's first layer: one input channel, half a block
        yield return new object[] { 1, 16, 30, 30, 17, new[] { 2, 2, 2, 2 } };   // tile rows of 8 in two groups, two blocks
        yield return new object[] { 2, 5, 9, 11, 33, new[] { 0, 1, 2, 1 } };     // two images, three blocks, asymmetric pads
        yield return new object[] { 1, 4, 6, 45, 70, new[] { 5, 6, 0, 1 } };     // five blocks (a group of four, then one), pads over a phase period
        yield return new object[] { 1, 3, 5, 5, 5, new[] { 0, 0, 0, 0 } };       // a 1×1 output
        yield return new object[] { 1, 2, 3, 3, 3, new[] { 2, 2, 2, 2 } };       // a 3×3 output, smaller than a tile
        yield return new object[] { 1, 7, 9, 8, 9, new[] { 3, 4, 4, 3 } };       // pads wider than the kernel's reach
        yield return new object[] { 1, 2, 5, 1100, 3, new[] { 2, 2, 2, 2 } };   // rows over 1024 columns: the phases split element by element
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDefinitionOnEveryTier(int batch, int channels, int height, int width, int outChannels, int[] pads) =>
        Check(batch, channels, height, width, outChannels, pads, seed: 11, new FusedActivation[]
        {
            default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.25f, 0.5f), new(ActivationKind.LeakyRelu, 0.1f), new(ActivationKind.Sigmoid),
        });

    [Fact]
    public void MatchesTheDefinitionForEveryOutputChannelCountUpTo40()
    {
        // M output channels, 3 input channels, a plane of (M mod 9 + 5) × (M mod 7 + 5) with pads 2: outputs from 5×5 to 13×11.
        for (int outChannels = 1; outChannels <= 40; outChannels++)
            Check(1, 3, outChannels % 9 + 5, outChannels % 7 + 5, outChannels, new[] { 2, 2, 2, 2 }, seed: outChannels,
                new[] { new FusedActivation(outChannels % 2 == 0 ? ActivationKind.Relu : ActivationKind.None) });
    }

    /// <summary>
    /// The last block is packed only as wide as its channels need (4 or 8 lanes of 16, 4 of 8): the cases above with
    /// M = 50, 70, 33 and 17 run that compact tail through the kernel on every tier.
    /// </summary>
    [Fact]
    public void PacksTheLastBlockOnlyAsWideAsItsChannels() =>
        ConvolutionKernelTests.OnEveryTier(tier =>
        {
            foreach (var (outChannels, expected16, expected8) in new[] { (50, 4, 4), (70, 8, 8), (33, 4, 4), (40, 8, 8), (48, 16, 8), (2, 4, 4) })
            {
                var filter = WinogradF4x5Filter.Pack(new float[outChannels * 3 * 25], outChannels, 3);
                int expected = filter.Lanes == 16 ? expected16 : filter.Lanes == 8 ? expected8 : filter.Lanes;
                Assert.True(expected == filter.TailLanes, $"tier {tier}, M = {outChannels}: {filter.TailLanes} tail lanes, not {expected}");
            }
        });

    void Check(int batch, int channels, int height, int width, int outChannels, int[] pads, int seed, FusedActivation[] activations)
    {
        double worst = WinogradDefinitionCheck.Run(batch, channels, height, width, outChannels, 5, pads, activations, seed, (tier, w, m, c, geometry) =>
        {
            var filter = WinogradF4x5Filter.Pack(w, m, c);
            Assert.Equal(tier, filter.Tier);
            var scratch = new float[WinogradF4x5.ScratchSize(c, geometry)];
            scratch.AsSpan().Fill(float.NaN); // the kernel must write every scratch float it reads
            return (x, bias, y, activation, residual) => WinogradF4x5.Convolve(x, filter, bias, y, scratch, batch, c, geometry, activation, residual);
        });
        output.WriteLine($"worst error / (Σ|w·x| + 1): {worst:E2}");
    }

    public static IEnumerable<object[]> PooledCases()
    {
        // (batch, C, H, W, M, pads top/left/bottom/right)
        yield return new object[] { 1, 20, 12, 12, 50, new[] { 0, 0, 0, 0 } };   // fashion_lenet5's c2 → MaxPool_1: 8×8 to 4×4
        yield return new object[] { 1, 8, 14, 14, 16, new[] { 2, 2, 2, 2 } };    // 14×14: the last tile row and column half outside
        yield return new object[] { 1, 16, 30, 30, 17, new[] { 2, 2, 2, 2 } };   // tile rows split in two groups, two blocks
        yield return new object[] { 2, 5, 11, 13, 33, new[] { 0, 1, 2, 1 } };    // two images, three blocks, a 9×11 output (odd: floor)
        yield return new object[] { 1, 4, 6, 45, 70, new[] { 5, 6, 0, 1 } };     // five blocks, a 7×48 output
        yield return new object[] { 1, 2, 3, 3, 3, new[] { 2, 2, 2, 2 } };       // a 3×3 output pooled to one pixel
        yield return new object[] { 1, 3, 9, 10, 1, new[] { 1, 1, 1, 1 } };      // one output channel, a 7×8 output
    }

    /// <summary>The fused 2×2 stride-2 max pool is exactly the max of each window of the unpooled output (<see cref="WinogradDefinitionCheck.CheckPooled"/>).</summary>
    [Theory]
    [MemberData(nameof(PooledCases))]
    public void PooledOutputIsTheMaxOfEachWindowOnEveryTier(int batch, int channels, int height, int width, int outChannels, int[] pads) =>
        WinogradDefinitionCheck.CheckPooled(batch, channels, height, width, outChannels, 5, pads, (w, m, c, geometry) =>
        {
            var filter = WinogradF4x5Filter.Pack(w, m, c);
            var scratch = new float[WinogradF4x5.ScratchSize(c, geometry)];
            return (x, bias, y, activation, pooled) =>
            {
                scratch.AsSpan().Fill(float.NaN); // the kernel must write every scratch float it reads
                WinogradF4x5.Convolve(x, filter, bias, y, scratch, batch, c, geometry, activation, maxPool2x2: pooled);
            };
        });

    [Fact]
    public void RejectsOtherWindowsShortScratchAndWrongWeights()
    {
        int[] geometry = { 2, 6, 6, 2, 2, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0 }, threeByThree = { 2, 6, 6, 4, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0 };
        var filter = WinogradF4x5Filter.Pack(new float[4 * 3 * 25], 4, 3);
        var error = Assert.Throws<ArgumentException>(() =>
            WinogradF4x5.Convolve(new float[3 * 36], filter, ReadOnlySpan<float>.Empty, new float[4 * 16], new float[100000], 1, 3, threeByThree));
        Assert.Contains("5×5", error.Message);
        error = Assert.Throws<ArgumentException>(() =>
            WinogradF4x5.Convolve(new float[3 * 36], filter, ReadOnlySpan<float>.Empty, new float[4 * 4], new float[10], 1, 3, geometry));
        Assert.Contains("scratch", error.Message);
        error = Assert.Throws<ArgumentException>(() =>
            WinogradF4x5.Convolve(new float[2 * 36], filter, ReadOnlySpan<float>.Empty, new float[4 * 4], new float[100000], 1, 2, geometry));
        Assert.Contains("input channels", error.Message);
        error = Assert.Throws<ArgumentException>(() => WinogradF4x5.Convolve(new float[3 * 36], filter, ReadOnlySpan<float>.Empty, new float[4], new float[100000],
            1, 3, geometry, new FusedActivation(ActivationKind.Sigmoid), maxPool2x2: true));
        Assert.Contains("commute", error.Message);
        error = Assert.Throws<ArgumentException>(() => WinogradF4x5.Convolve(new float[3 * 36], filter, ReadOnlySpan<float>.Empty, new float[3], new float[100000],
            1, 3, geometry, maxPool2x2: true));
        Assert.Contains("y has", error.Message);
        error = Assert.Throws<ArgumentException>(() => WinogradF4x5.Convolve(new float[3 * 36], filter, ReadOnlySpan<float>.Empty, new float[4], new float[100000],
            1, 3, geometry, residual: new float[16], maxPool2x2: true));
        Assert.Contains("residual", error.Message);
        error = Assert.Throws<ArgumentException>(() => WinogradF4x5Filter.Pack(new float[4 * 3 * 9], 4, 3));
        Assert.Contains("5×5", error.Message);
    }
}
