extern alias GeneratorAssembly;

using System.Collections.Generic;
using AotInfer.Kernels.Quantization;
using Xunit;
using QuantizedPacking = GeneratorAssembly::AotInfer.Compiler.Ops.Quantization.QuantizedPacking;
using WindowGeometry = GeneratorAssembly::AotInfer.Compiler.Ops.Convolution.WindowGeometry;

namespace AotInfer.Tests.Compiler;

/// <summary>
/// The compiler sizes the int8 convolution kernels' scratch with hand-written mirrors of their <c>ScratchLength</c>
/// functions (it cannot reference the kernel library, Int8WinogradF2x3's included): swept over geometries, each mirror must give exactly the kernel's
/// value (more would waste arena, less would make the kernel throw), and the compiler's channel-block rule, which names
/// the depthwise path in <c>inspect</c>, must be the kernel's.
/// </summary>
public class QuantizedScratchFormulaTests
{
    static readonly (int Height, int Width)[] Planes = { (1, 1), (2, 3), (5, 5), (7, 7), (13, 17), (14, 14), (25, 5), (28, 28), (56, 56), (112, 112), (129, 129) };

    /// <summary>Pads as (top, left, bottom, right).</summary>
    static readonly int[][] Pads = { new[] { 0, 0, 0, 0 }, new[] { 1, 1, 1, 1 }, new[] { 2, 2, 2, 2 }, new[] { 0, 1, 1, 2 }, new[] { 2, 0, 0, 1 } };

    /// <summary>
    /// Every 2-D window of kernel 1..5 × 1..5, strides 1..3, dilations 1..2 (each per axis), the <see cref="Pads"/> and the
    /// <see cref="Planes"/> that leaves at least one output position.
    /// </summary>
    static IEnumerable<WindowGeometry> Geometries()
    {
        foreach (var (height, width) in Planes)
        foreach (int[] pads in Pads)
        for (int kh = 1; kh <= 5; kh++)
        for (int kw = 1; kw <= 5; kw++)
        for (int sh = 1; sh <= 3; sh++)
        for (int sw = 1; sw <= 3; sw++)
        for (int dh = 1; dh <= 2; dh++)
        for (int dw = 1; dw <= 2; dw++)
        {
            int oh = Output(height, pads[0] + pads[2], kh, sh, dh), ow = Output(width, pads[1] + pads[3], kw, sw, dw);
            if (oh < 1 || ow < 1) continue;
            yield return new WindowGeometry(new[] { height, width }, new[] { oh, ow }, new[] { kh, kw }, new[] { sh, sw }, new[] { dh, dw },
                new[] { pads[0], pads[1] }, new[] { pads[2], pads[3] });
        }
    }

    /// <summary>Window positions along one axis: ⌊(extent + pads − ((k − 1)·d + 1)) / s⌋ + 1, or 0 when the window does not fit.</summary>
    static int Output(int extent, int pads, int kernel, int stride, int dilation)
    {
        int span = extent + pads - ((kernel - 1) * dilation + 1);
        return span < 0 ? 0 : span / stride + 1;
    }

    [Fact]
    public void DepthwiseScratchAndChannelBlockRuleMatchTheKernel()
    {
        int geometries = 0, channelBlocks = 0;
        foreach (var g in Geometries())
        {
            int[] packed = g.Packed();
            Assert.True(QuantizedDepthwise.ScratchLength(packed) == QuantizedPacking.DepthwiseScratchLength(g), $"depthwise scratch of {Describe(g)}");
            bool fits = QuantizedDepthwise.ChannelBlockFits(packed);
            Assert.True(fits == QuantizedPacking.DepthwiseChannelBlockFits(g), $"channel-block rule of {Describe(g)}");
            geometries++;
            if (fits) channelBlocks++;
        }
        // The sweep reaches both paths (129×129 with stride 1 covers more than the channel blocks' 16384 positions).
        Assert.InRange(channelBlocks, 1, geometries - 1);
    }

    [Fact]
    public void DirectConvolutionScratchMatchesTheKernel()
    {
        foreach (var g in Geometries())
        foreach (int channels in new[] { 1, 2, 3, 4, 5, 8, 13, 16 })
            Assert.True(Int8DirectConvolution.ScratchLength(channels, g.Packed()) == QuantizedPacking.DirectConvolutionScratchLength(channels, g),
                $"direct scratch of {channels} channels, {Describe(g)}");
    }

    [Fact]
    public void SingleChannelConvolutionScratchMatchesTheKernel()
    {
        foreach (var g in Geometries())
            Assert.True(Int8SingleChannelConvolution.ScratchLength(g.Packed()) == QuantizedPacking.SingleChannelConvolutionScratchLength(g), $"one-channel scratch, {Describe(g)}");
    }

    [Fact]
    public void PointwiseConvolutionScratchMatchesTheKernel()
    {
        foreach (int channels in new[] { 1, 2, 3, 4, 5, 8, 13, 16, 64, 96 })
        foreach (var (height, width) in Planes)
        for (int stride = 1; stride <= 3; stride++)
        {
            // The lowering passes the output plane's pixels: a strided 1×1 layer reads only those.
            int pixels = ((height - 1) / stride + 1) * ((width - 1) / stride + 1);
            Assert.True(Int8PointwiseConvolution.ScratchLength(channels, pixels) == QuantizedPacking.PointwiseConvolutionScratchLength(channels, pixels),
                $"pointwise scratch of {channels} channels, {pixels} pixels");
        }
    }

    [Fact]
    public void WinogradScratchMatchesTheKernel()
    {
        int geometries = 0;
        foreach (var g in Geometries())
        {
            int[] packed = g.Packed();
            if (!Int8WinogradF2x3.Supports(packed)) continue;
            geometries++;
            foreach (int channels in new[] { 1, 2, 3, 16, 33, 64 })
                Assert.True(Int8WinogradF2x3.ScratchLength(channels, packed) == QuantizedPacking.WinogradScratchLength(channels, g),
                    $"Winograd scratch of {channels} channels, {Describe(g)}");
        }
        Assert.True(geometries > 20, $"only {geometries} geometries are 3×3 stride 1");
    }

    static string Describe(WindowGeometry g) => $"input {string.Join("x", g.Input)}, output {string.Join("x", g.Output)}, {g}";
}
