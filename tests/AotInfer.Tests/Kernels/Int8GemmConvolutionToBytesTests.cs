using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// <see cref="QuantizedConvolution.Im2ColGemmToBytes{TX, TY}"/> (QLinearConv on the byte GEMM, requantised one block of
/// output positions at a time) on every tier this machine has, forced in turn, with and without AVX-VNNI, against sums
/// computed straight from the definition and requantised by <see cref="Requantization.ToInteger{TOut}"/>: 1×1 layers
/// on planes from 1 pixel to several column blocks (2500 positions), k×k layers with strides and pads, groups, channels
/// 1…17, u8/s8 images and weights, every zero-point class (weights reaching 128 from their zero point take the
/// fix-up path), bias or none, per-tensor and per-channel multipliers, u8 and s8 outputs, batches. Results must be exact.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class Int8GemmConvolutionToBytesTests
{
    static IEnumerable<Int8ConvolutionCase> Cases(int count, int seed)
    {
        var random = new Random(seed);
        int made = 0;
        while (made < count)
        {
            // Two in three layers are pointwise (the MobileNetV2 case), some on planes wider than one column block.
            bool pointwise = made % 3 != 2;
            int h = made % 7 == 0 ? random.Next(30, 51) : random.Next(1, 14), w = made % 7 == 0 ? random.Next(30, 51) : random.Next(1, 30);
            int k = pointwise ? 1 : random.Next(2, 4), stride = pointwise ? 1 : random.Next(1, 3), pad = pointwise ? 0 : random.Next(0, 2);
            if (h + 2 * pad < k || w + 2 * pad < k) continue;
            int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
            int groups = made % 5 == 4 ? random.Next(2, 4) : 1;
            int groupIn = made < 17 ? made + 1 : random.Next(1, 18), groupOut = made < 17 ? 17 - made : random.Next(1, 40), batch = random.Next(1, 3);
            int[] geometry = { 2, h, w, oh, ow, k, k, stride, stride, 1, 1, pad, pad, pad, pad };
            string shape = $"image {h}x{w} kernel {k}x{k} stride {stride} pad {pad}";
            yield return Int8ConvolutionChecks.Draw(random, made, batch, groupIn * groups, groupOut * groups, groups, geometry, shape, extremeImages: false);
            made++;
        }
    }

    /// <summary><see cref="QuantizedConvolution.Im2ColGemmToBytes{TX, TY}"/> with its weights packed for the case; it has no int32 output.</summary>
    readonly struct BlockedGemmKernel : IInt8ConvolutionUnderTest
    {
        public int[]? Sums<TX, TW>(Int8ConvolutionCase t) where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> => null;

        public int[] Bytes<TX, TW, TY>(Int8ConvolutionCase t, float[] multipliers, int zeroPoint)
            where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
        {
            int depth = t.Channels / t.Groups * t.Geometry[5] * t.Geometry[6], outputSize = t.OutputSize;
            var weights = Int8PackedWeights.Pack(t.W.Select(TW.CreateTruncating).ToArray(), t.Zw.Select(TW.CreateTruncating).ToArray(), t.OutChannels, depth, transposed: false);
            var y = new TY[t.Batch * t.OutChannels * outputSize];
            // Scratch starts as garbage: the kernel must not depend on its contents.
            int[] acc = Enumerable.Repeat(0x5A5A5A5A, QuantizedConvolution.BlockAccumulatorLength(t.OutChannels / t.Groups, outputSize)).ToArray();
            QuantizedConvolution.Im2ColGemmToBytes<TX, TY>(t.X.Select(TX.CreateTruncating).ToArray(), t.ZeroPoint<TX>(), weights, t.Bias, multipliers, zeroPoint, y, acc,
                new TX[depth * outputSize], new sbyte[Int8Gemm.PackedColumnsLength(depth, outputSize)], new int[t.OutChannels], t.Batch, t.Channels, t.OutChannels, t.Groups, t.Geometry);
            return y.Select(int.CreateTruncating).ToArray();
        }
    }

    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void MatchesTheDefinitionForPointwiseAndKxKLayersGroupsZeroPointsAndOutputTypes(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
        Int8ConvolutionChecks.WithAndWithoutVnni(tier, (context, seed) => Int8ConvolutionChecks.Check(new BlockedGemmKernel(), Cases(90, seed), seed, context), 1618, 1414));

    [Fact]
    public void RejectsTooSmallAccumulatorScratch()
    {
        int[] geometry = { 2, 40, 40, 40, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
        var weights = Int8PackedWeights.Pack(new sbyte[8 * 4], Array.Empty<sbyte>(), 8, 4, transposed: false);
        int needed = QuantizedConvolution.BlockAccumulatorLength(8, 1600);
        var error = Assert.Throws<ArgumentException>(() => QuantizedConvolution.Im2ColGemmToBytes<byte, byte>(new byte[4 * 1600], Array.Empty<byte>(), weights,
            ReadOnlySpan<int>.Empty, new[] { 0.5f }, 0, new byte[8 * 1600], new int[needed - 1], new byte[1], new sbyte[Int8Gemm.PackedColumnsLength(4, 1600)], new int[8],
            1, 4, 8, 1, geometry));
        Assert.Contains("acc holds", error.Message);
    }
}
