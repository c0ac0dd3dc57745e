using System;
using System.Globalization;
using System.Linq;
using AotInfer.Kernels.Quantization;

/// <summary>
/// The int8conv mode of GemmBench: the k×k QLinearConv layers of the small int8 models (resnet8, lenet5, digits_cnn, the stem),
/// batch 1, u8 images × s8 weights, requantised to u8 — <see cref="Int8DirectConvolution"/> next to the im2col path
/// (<see cref="QuantizedConvolution"/> on <see cref="Int8Gemm"/>, then <see cref="Requantization.ToInteger{TOut}"/>);
/// and the same GEMM requantised block by block (<see cref="QuantizedConvolution.Im2ColGemmToBytes{TX, TY}"/>), and for 3×3 stride-1 layers the
/// integer Winograd F(2×2, 3×3) (<see cref="Int8WinogradF2x3"/>); the outputs are compared before timing. Microseconds per layer and GMAC/s by thread CPU time.
/// </summary>
static class Int8ConvBench
{
    public static void Run(string[] args)
    {
        if (args.Contains("novnni", StringComparer.OrdinalIgnoreCase)) Int8Gemm.AllowVnni = false;
        bool onlyPointwise = args.Contains("pointwise", StringComparer.OrdinalIgnoreCase);
        args = args.Where(a => !a.Equals("novnni", StringComparison.OrdinalIgnoreCase) && !a.Equals("pointwise", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (args.Length > 0) QuantizedMatrixMultiply.Tier = Enum.Parse<QuantizedGemmTier>(args[0], ignoreCase: true);
        Console.WriteLine($"int8 conv, tier {QuantizedMatrixMultiply.Tier}{(Int8Gemm.AllowVnni ? "" : " without VNNI")}; µs per layer by thread CPU time (GMAC/s)");
        foreach (var (channels, height, width, outChannels, kernel, stride, pad) in new[]
                 {
                     (3, 32, 32, 16, 3, 1, 1), (16, 32, 32, 16, 3, 1, 1), (16, 32, 32, 32, 3, 2, 1), (32, 16, 16, 32, 3, 1, 1), (32, 16, 16, 64, 3, 2, 1), (64, 8, 8, 64, 3, 1, 1),
                     (1, 28, 28, 6, 5, 1, 0), (6, 12, 12, 16, 5, 1, 0), (20, 12, 12, 50, 5, 1, 0), (16, 8, 8, 32, 3, 1, 1), (32, 4, 4, 64, 3, 1, 1), (8, 6, 6, 8, 3, 1, 1),
                     // The pointwise layers of MobileNetV2 (1×1 stride 1).
                     (16, 112, 112, 96, 1, 1, 0), (96, 56, 56, 24, 1, 1, 0), (24, 56, 56, 144, 1, 1, 0), (144, 28, 28, 32, 1, 1, 0), (192, 14, 14, 64, 1, 1, 0),
                     (384, 14, 14, 96, 1, 1, 0), (960, 7, 7, 320, 1, 1, 0), (320, 7, 7, 1280, 1, 1, 0), (32, 112, 112, 16, 1, 1, 0),
                     // The pointwise layers of the keyword-spotting DS-CNN (25×5 plane) and resnet8's 1×1 stride-2 shortcuts.
                     (64, 25, 5, 64, 1, 1, 0), (16, 32, 32, 32, 1, 2, 0), (32, 16, 16, 64, 1, 2, 0),
                 })
        {
            if (onlyPointwise && (kernel != 1 || pad != 0)) continue;
            int outputHeight = (height + 2 * pad - kernel) / stride + 1, outputWidth = (width + 2 * pad - kernel) / stride + 1;
            int[] geometry = { 2, height, width, outputHeight, outputWidth, kernel, kernel, stride, stride, 1, 1, pad, pad, pad, pad };
            var random = new Random(1);
            byte[] x = Enumerable.Range(0, channels * height * width).Select(_ => (byte)random.Next(256)).ToArray();
            byte[] xZero = { 131 };
            int depth = channels * kernel * kernel, outputSize = outputHeight * outputWidth;
            sbyte[] w = Enumerable.Range(0, outChannels * depth).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            int[] bias = Enumerable.Range(0, outChannels).Select(_ => random.Next(-5000, 5000)).ToArray();
            float[] multipliers = Enumerable.Range(0, outChannels).Select(_ => (float)(random.NextDouble() * 0.004)).ToArray();
            byte[] direct = new byte[outChannels * outputSize], gemm = new byte[outChannels * outputSize];

            var directWeights = Int8ConvWeights.Pack(w, Array.Empty<sbyte>(), outChannels, channels, kernel * kernel);
            int[] scratch = new int[Int8DirectConvolution.ScratchLength(channels, geometry)];
            void Direct() => Int8DirectConvolution.ConvolveToBytes<byte, byte>(x, xZero, directWeights, bias, multipliers, 7, direct, scratch, 1, geometry);
            // A pointwise layer also runs on the direct kernel as one row of H·W pixels.
            bool pointwise = kernel == 1 && stride == 1 && pad == 0;
            int[] row = { 2, 1, outputSize, 1, outputSize, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 };
            byte[] flat = new byte[outChannels * outputSize];
            int[] flatScratch = new int[Int8DirectConvolution.ScratchLength(channels, row)];
            void Flat() => Int8DirectConvolution.ConvolveToBytes<byte, byte>(x, xZero, directWeights, bias, multipliers, 7, flat, flatScratch, 1, row);
            byte[] pw = new byte[outChannels * outputSize];
            int[] pwScratch = new int[Int8PointwiseConvolution.ScratchLength(channels, outputSize)];
            void Pointwise() => Int8PointwiseConvolution.ConvolveToBytes<byte, byte>(x, xZero, directWeights, bias, multipliers, 7, pw, pwScratch, 1, geometry);

            var gemmWeights = Int8PackedWeights.Pack(w, Array.Empty<sbyte>(), outChannels, depth, transposed: false);
            byte[] columns = new byte[depth * outputSize];
            sbyte[] packedColumns = new sbyte[Int8Gemm.PackedColumnsLength(depth, outputSize)];
            int[] offsets = new int[outChannels], acc = new int[outChannels * outputSize];
            void Im2Col()
            {
                QuantizedConvolution.Im2ColGemm<byte>(x, xZero, gemmWeights, bias, acc, columns, packedColumns, offsets, 1, channels, outChannels, 1, geometry);
                Requantization.ToInteger<byte>(acc, ReadOnlySpan<int>.Empty, multipliers, true, 7, gemm, outChannels, outputSize);
            }

            byte[] fused = new byte[outChannels * outputSize];
            int[] blockAcc = new int[QuantizedConvolution.BlockAccumulatorLength(outChannels, outputSize)];
            void Fused() => QuantizedConvolution.Im2ColGemmToBytes<byte, byte>(x, xZero, gemmWeights, bias, multipliers, 7, fused, blockAcc, columns, packedColumns, offsets, 1, channels, outChannels, 1, geometry);

            bool winograd = Int8WinogradF2x3.Supports(geometry);
            byte[] wino = new byte[outChannels * outputSize];
            var winogradWeights = winograd ? Int8WinogradWeights.Pack(w, Array.Empty<sbyte>(), outChannels, channels) : null;
            int[] winogradScratch = winograd ? new int[Int8WinogradF2x3.ScratchLength(channels, geometry)] : Array.Empty<int>();
            void Winograd() => Int8WinogradF2x3.ConvolveToBytes<byte, byte>(x, xZero, winogradWeights!, bias, multipliers, 7, wino, winogradScratch, 1, geometry);

            Direct();
            Im2Col();
            if (winograd) Winograd();
            if (winograd && Environment.GetEnvironmentVariable("NOCHECK") is null && !wino.AsSpan().SequenceEqual(gemm)) throw new InvalidOperationException($"Winograd and im2col convolutions differ at {channels}→{outChannels} {height}x{width}");
            Fused();
            if (pointwise) Flat();
            if (kernel == 1 && pad == 0) Pointwise();
            if (kernel == 1 && pad == 0 && !pw.AsSpan().SequenceEqual(gemm)) throw new InvalidOperationException($"pointwise and im2col convolutions differ at {channels}→{outChannels} {height}x{width}");
            if (pointwise && !flat.AsSpan().SequenceEqual(gemm)) throw new InvalidOperationException($"one-row direct and im2col convolutions differ at {channels}→{outChannels} {height}x{width}");
            if (Environment.GetEnvironmentVariable("NOCHECK") is null && !direct.AsSpan().SequenceEqual(gemm)) throw new InvalidOperationException($"direct and im2col convolutions differ at {channels}→{outChannels} {height}x{width}");
            if (!fused.AsSpan().SequenceEqual(gemm)) throw new InvalidOperationException($"blocked and whole-plane im2col convolutions differ at {channels}→{outChannels} {height}x{width}");
            double macs = (double)outChannels * depth * outputSize;
            int reps = Math.Max(1, (int)(2e7 / macs));
            var directRate = Timing.Rate(Direct, macs, reps);
            var im2colRate = Timing.Rate(Im2Col, macs, reps);
            var fusedRate = Timing.Rate(Fused, macs, reps);
            string flatText = (winograd ? FormattableString.Invariant($", Winograd F(2x2,3x3) {macs / Timing.Rate(Winograd, macs, reps).Cpu / 1e3,6:F2} µs") : "") + (pointwise ? FormattableString.Invariant($", direct one row {macs / Timing.Rate(Flat, macs, reps).Cpu / 1e3,6:F2} µs") : "") +
                              (kernel == 1 && pad == 0 ? FormattableString.Invariant($", pointwise {macs / Timing.Rate(Pointwise, macs, reps).Cpu / 1e3,6:F2} µs") : "");
            Console.WriteLine(FormattableString.Invariant(
                $"{channels,3}→{outChannels,3} {height,3}x{width,-3} k{kernel} s{stride}: direct {macs / directRate.Cpu / 1e3,6:F2} µs ({directRate.Cpu,5:F1}), im2col {macs / im2colRate.Cpu / 1e3,6:F2} µs ({im2colRate.Cpu,5:F1}), im2col requantised per block {macs / fusedRate.Cpu / 1e3,6:F2} µs ({fusedRate.Cpu,5:F1}){flatText}"));
        }
    }
}
