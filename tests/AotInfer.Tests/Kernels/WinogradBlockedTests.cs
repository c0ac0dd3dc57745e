using System;
using System.Collections.Generic;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;
using Xunit;
using Xunit.Abstractions;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// Winograd F(4×4, 3×3) vectorised over output channels against the definition (accumulated in double), on every tier
/// the CPU has: channel counts that fill no, one, or several blocks (and odd pairs of blocks), planes smaller than a
/// tile up to several rows of groups, odd and even sizes, asymmetric pads, every fused activation, with and without
/// bias and residual.
/// </summary>
/// <remarks>
/// The tolerance: the transforms add and subtract up to 36 terms with coefficients up to 8 (Aᵀ) and 5 (Bᵀ), so the
/// rounding error scales with Σ|w·x| of the output, not with the output itself (which may cancel to near zero). On
/// these random data the worst error measured is 2.5e-6·(Σ|w·x| + 1) on every tier (about 20 float epsilons); the
/// bound 1e-5·(Σ|w·x| + 1) leaves four times that, and is still a hundred times smaller than a real mistake (one
/// wrong tap moves an output by about Σ|w·x| / 9C, at least 1e-3·Σ|w·x| at 64 channels).
/// </remarks>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class WinogradBlockedTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases()
    {
        // (batch, C, H, W, M, pads top/left/bottom/right)
        yield return new object[] { 1, 16, 32, 32, 16, new[] { 1, 1, 1, 1 } };   // resnet8's 16-channel layers: one block, two sets of tiles
        yield return new object[] { 1, 32, 16, 16, 32, new[] { 1, 1, 1, 1 } };   // resnet8's 32-channel layer: a pair of blocks
        yield return new object[] { 1, 64, 8, 8, 64, new[] { 1, 1, 1, 1 } };     // resnet8's 64-channel layer: two pairs, the whole plane one group
        yield return new object[] { 1, 32, 28, 28, 32, new[] { 1, 1, 1, 1 } };   // fashion_bncnn: tile rows of 7, runs spilling into the next row
        yield return new object[] { 1, 64, 14, 14, 64, new[] { 1, 1, 1, 1 } };   // fashion_bncnn: the last tile row and column overhang
        yield return new object[] { 1, 16, 55, 55, 17, new[] { 1, 1, 1, 1 } };   // tile rows of 14 split in two groups, 17 channels
        yield return new object[] { 1, 16, 58, 58, 17, new[] { 1, 1, 1, 1 } };   // V past 512 KB: bands of two tile rows, the last one alone
        yield return new object[] { 2, 5, 9, 11, 33, new[] { 0, 1, 2, 1 } };     // two images, three blocks, asymmetric pads
        yield return new object[] { 1, 17, 7, 6, 3, new[] { 0, 0, 0, 0 } };      // no padding: 5×4 output
        yield return new object[] { 1, 3, 3, 3, 5, new[] { 0, 0, 0, 0 } };       // a 1×1 output
        yield return new object[] { 1, 1, 2, 2, 1, new[] { 1, 1, 1, 1 } };       // a 2×2 output, smaller than a tile
        yield return new object[] { 1, 2, 5, 4, 3, new[] { 3, 3, 3, 3 } };       // pads wider than the kernel reach
        yield return new object[] { 1, 3, 6, 40, 5, new[] { 5, 6, 0, 1 } };      // pads over a phase period, rows of 10 tiles in two runs
        yield return new object[] { 1, 2, 3, 1100, 3, new[] { 1, 1, 1, 1 } };    // rows over 1024 columns: the phases split element by element
        // Whole blocks of 16 input channels: with AVX-512 the channel-interleaved input transform.
        yield return new object[] { 2, 16, 9, 11, 33, new[] { 0, 1, 2, 1 } };    // two images, asymmetric pads, 99 pixels: 16-pixel runs across rows, 3 left
        yield return new object[] { 1, 32, 3, 3, 5, new[] { 0, 0, 0, 0 } };      // a 1×1 output from 9 pixels: no whole run of 16
        yield return new object[] { 1, 48, 7, 6, 20, new[] { 3, 3, 3, 3 } };     // three blocks, pads wider than the kernel reach
        // A second block at most half full (17 to 24 channels mod 32): with AVX-512 two tiles share its vector.
        yield return new object[] { 1, 16, 24, 24, 24, new[] { 0, 0, 0, 0 } };   // burn-mnist's conv3: channel-interleaved input, two tile rows of 6 at a time
        yield return new object[] { 1, 8, 26, 26, 24, new[] { 0, 0, 0, 0 } };    // tile-contiguous input, 6 tile rows
        yield return new object[] { 2, 16, 13, 31, 56, new[] { 1, 1, 1, 1 } };   // two images, a full pair then a half, rows of 8 tiles one at a time
        yield return new object[] { 1, 3, 11, 18, 21, new[] { 1, 1, 1, 1 } };    // 5 tiles a row (the last paired with itself), 3 tile rows (the last alone)
        yield return new object[] { 1, 4, 9, 38, 24, new[] { 1, 0, 1, 0 } };     // rows of 9 tiles in runs of 5 and 4
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheDefinitionOnEveryTier(int batch, int channels, int height, int width, int outChannels, int[] pads)
    {
        var activations = new FusedActivation[]
        {
            default, new(ActivationKind.Relu), new(ActivationKind.Clip, -0.25f, 0.5f), new(ActivationKind.LeakyRelu, 0.1f),
            new(ActivationKind.Sigmoid), new(ActivationKind.HardSwish),
        };
        Check(batch, channels, height, width, outChannels, pads, activations, seed: 7);
    }

    [Fact]
    public void MatchesTheDefinitionForEveryChannelCountAndPlaneUpTo17()
    {
        // C input channels, 18 − C output channels, a plane of (C + 2)×(C + 3) with pads 1: outputs from 3×4 to 19×20.
        for (int channels = 1; channels <= 17; channels++)
        {
            var activation = new FusedActivation((ActivationKind)(channels % 6), -0.5f, 0.5f);
            if (activation.Kind == ActivationKind.LeakyRelu) activation = activation with { Alpha = 0.2f };
            Check(1, channels, channels + 2, channels + 3, 18 - channels, new[] { 1, 1, 1, 1 }, new[] { activation }, seed: channels);
        }
    }

    public static IEnumerable<object[]> PooledCases()
    {
        // (batch, C, H, W, M, pads top/left/bottom/right)
        yield return new object[] { 1, 32, 28, 28, 32, new[] { 1, 1, 1, 1 } };   // fashion_bncnn's f.3 → f.6: 28×28 to 14×14, channel-interleaved input
        yield return new object[] { 1, 64, 14, 14, 64, new[] { 1, 1, 1, 1 } };   // fashion_bncnn's f.10 → f.13: 14×14 to 7×7, the last tiles half outside
        yield return new object[] { 1, 16, 58, 58, 17, new[] { 1, 1, 1, 1 } };   // bands of two tile rows, 17 channels
        yield return new object[] { 2, 5, 9, 11, 33, new[] { 0, 1, 2, 1 } };     // two images, three blocks, a 9×11 output (odd: floor), tile-contiguous input
        yield return new object[] { 1, 3, 6, 40, 5, new[] { 5, 6, 0, 1 } };      // rows of 10 tiles in two runs
        yield return new object[] { 1, 16, 9, 11, 24, new[] { 0, 1, 2, 1 } };    // 24 channels: a block and a half
    }

    /// <summary>The fused 2×2 stride-2 max pool is exactly the max of each window of the unpooled output (<see cref="WinogradDefinitionCheck.CheckPooled"/>).</summary>
    [Theory]
    [MemberData(nameof(PooledCases))]
    public void PooledOutputIsTheMaxOfEachWindowOnEveryTier(int batch, int channels, int height, int width, int outChannels, int[] pads) =>
        WinogradDefinitionCheck.CheckPooled(batch, channels, height, width, outChannels, 3, pads, (w, m, c, geometry) =>
        {
            var filter = WinogradBlockedFilter.Pack(w, m, c);
            var scratch = new float[WinogradBlocked.ScratchSize(c, geometry)];
            return (x, bias, y, activation, pooled) =>
            {
                scratch.AsSpan().Fill(float.NaN); // the kernel must write every scratch float it reads
                WinogradBlocked.Convolve(x, filter, bias, y, scratch, batch, c, geometry, activation, maxPool2x2: pooled);
            };
        });

    void Check(int batch, int channels, int height, int width, int outChannels, int[] pads, FusedActivation[] activations, int seed)
    {
        double worst = WinogradDefinitionCheck.Run(batch, channels, height, width, outChannels, 3, pads, activations, seed, (tier, w, m, c, geometry) =>
        {
            var filter = WinogradBlockedFilter.Pack(w, m, c);
            Assert.Equal(tier, filter.Tier);
            var scratch = new float[WinogradBlocked.ScratchSize(c, geometry)];
            scratch.AsSpan().Fill(float.NaN); // the kernel must write every scratch float it reads
            return (x, bias, y, activation, residual) => WinogradBlocked.Convolve(x, filter, bias, y, scratch, batch, c, geometry, activation, residual);
        });
        output.WriteLine($"worst error / (Σ|w·x| + 1): {worst:E2}");
    }

    [Fact]
    public void RejectsOtherWindowsAndShortScratch()
    {
        int[] geometry = { 2, 5, 5, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 }, strided = { 2, 5, 5, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 };
        var filter = WinogradBlockedFilter.Pack(new float[4 * 3 * 9], 4, 3);
        var error = Assert.Throws<ArgumentException>(() =>
            WinogradBlocked.Convolve(new float[3 * 25], filter, ReadOnlySpan<float>.Empty, new float[4 * 25], new float[100000], 1, 3, strided));
        Assert.Contains("stride 1", error.Message);
        error = Assert.Throws<ArgumentException>(() =>
            WinogradBlocked.Convolve(new float[3 * 25], filter, ReadOnlySpan<float>.Empty, new float[4 * 25], new float[10], 1, 3, geometry));
        Assert.Contains("scratch", error.Message);
        error = Assert.Throws<ArgumentException>(() => WinogradBlockedFilter.Pack(new float[4 * 3 * 9 + 1], 4, 3));
        Assert.Contains("weights", error.Message);
    }
}
