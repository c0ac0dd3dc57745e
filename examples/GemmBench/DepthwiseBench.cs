using System;
using System.Globalization;
using System.Linq;
using AotInfer.Kernels.Quantization;

/// <summary>
/// The depthwise mode of GemmBench: the requantised depthwise QLinearConv layers of DS-CNN (64 channels, 3×3 on a 25×5
/// plane) and MobileNetV2 (3×3, stride 1 and 2, 112×112 down to 7×7), batch 1, u8 images × s8 weights → u8, through
/// <see cref="QuantizedDepthwise"/>'s requantised convolution, on weights as given and on weights packed once
/// (<see cref="Int8DepthwiseWeights{TW}"/>). The outputs are first compared with the scalar
/// tier's (NOCHECK set: not compared). Microseconds per layer by thread CPU time (median of nine runs).
/// </summary>
static class DepthwiseBench
{
    public static void Run(string[] args)
    {
        string only = args.Length > 1 ? args[1] : "";
        if (args.Length > 0 && args[0] != "best") QuantizedMatrixMultiply.Tier = Enum.Parse<QuantizedGemmTier>(args[0], ignoreCase: true);
        var tier = QuantizedMatrixMultiply.Tier;
        Console.WriteLine($"int8 depthwise, tier {tier}; µs per layer by thread CPU time (wall clock)");
        foreach (var (channels, height, width, stride) in new[]
                 {
                     (64, 25, 5, 1), (32, 112, 112, 1), (96, 112, 112, 2), (144, 56, 56, 1), (144, 56, 56, 2), (192, 28, 28, 1), (192, 28, 28, 2),
                     (384, 14, 14, 1), (576, 14, 14, 1), (576, 14, 14, 2), (960, 7, 7, 1),
                 })
        {
            string label = FormattableString.Invariant($"{channels,4} {height,3}x{width,-3} s{stride}");
            if (!label.Contains(only, StringComparison.Ordinal)) continue;
            int outputHeight = (height + 2 - 3) / stride + 1, outputWidth = (width + 2 - 3) / stride + 1;
            int[] geometry = { 2, height, width, outputHeight, outputWidth, 3, 3, stride, stride, 1, 1, 1, 1, 1, 1 };
            var random = new Random(1);
            byte[] x = Enumerable.Range(0, channels * height * width).Select(_ => (byte)random.Next(256)).ToArray();
            byte[] xZero = { 131 };
            sbyte[] w = Enumerable.Range(0, channels * 9).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            int[] bias = Enumerable.Range(0, channels).Select(_ => random.Next(-5000, 5000)).ToArray();
            float[] multipliers = Enumerable.Range(0, channels).Select(_ => (float)(random.NextDouble() * 0.004)).ToArray();
            int outputSize = outputHeight * outputWidth;
            byte[] y = new byte[channels * outputSize], expected = new byte[channels * outputSize];
            int[] scratch = new int[QuantizedDepthwise.ScratchLength(geometry)];
            void Layer() => QuantizedDepthwise.Convolve2DRequantized<byte, sbyte, byte>(x, xZero, w, ReadOnlySpan<sbyte>.Empty, bias, multipliers, 7, y, scratch, 1, channels, geometry);
            QuantizedMatrixMultiply.Tier = QuantizedGemmTier.Scalar;
            QuantizedDepthwise.Convolve2DRequantized<byte, sbyte, byte>(x, xZero, w, ReadOnlySpan<sbyte>.Empty, bias, multipliers, 7, expected, scratch, 1, channels, geometry);
            QuantizedMatrixMultiply.Tier = tier;
            var packedWeights = Int8DepthwiseWeights<sbyte>.Pack(w, Array.Empty<sbyte>(), channels, 9);
            byte[] fromPacked = new byte[channels * outputSize];
            void Packed() => QuantizedDepthwise.Convolve2DRequantized<byte, sbyte, byte>(x, xZero, packedWeights, bias, multipliers, 7, fromPacked, scratch, 1, channels, geometry);
            Layer();
            Packed();
            if (Environment.GetEnvironmentVariable("NOCHECK") is null && !fromPacked.AsSpan().SequenceEqual(expected)) throw new InvalidOperationException($"depthwise {channels} {height}x{width} s{stride} on packed weights differs from the scalar tier");
            if (Environment.GetEnvironmentVariable("NOCHECK") is null && !y.AsSpan().SequenceEqual(expected)) throw new InvalidOperationException($"depthwise {channels} {height}x{width} s{stride} differs from the scalar tier");
            double macs = (double)channels * 9 * outputSize;
            int reps = Math.Max(1, (int)(2e7 / macs));
            var rate = Timing.Rate(Layer, macs, reps);
            var packedRate = Timing.Rate(Packed, macs, reps);
            Console.WriteLine(FormattableString.Invariant(
                $"{label}: {macs / rate.Cpu / 1e3,7:F3} µs ({macs / rate.Wall / 1e3,7:F3}), weights packed once {macs / packedRate.Cpu / 1e3,7:F3} µs ({macs / packedRate.Wall / 1e3,7:F3})"));
        }
    }
}
