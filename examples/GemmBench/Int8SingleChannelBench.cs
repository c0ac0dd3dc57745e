using System;
using System.Globalization;
using System.Linq;
using AotInfer.Kernels.Quantization;

/// <summary>
/// The int8onechannel mode of GemmBench: the QLinearConv layers of one input channel of the small int8 models (DS-CNN's
/// 10×4 stride-2 stem, lenet5's 5×5 ones, digits_cnn's 3×3), batch 1, u8 image × s8 weights requantised to u8 —
/// <see cref="Int8SingleChannelConvolution"/> next to <see cref="Int8DirectConvolution"/> on the same horizontal tap quads
/// and the im2col path requantised per block (<see cref="QuantizedConvolution.Im2ColGemmToBytes{TX, TY}"/>); the outputs
/// are compared before timing. Microseconds per layer by thread CPU time.
/// </summary>
static class Int8SingleChannelBench
{
    public static void Run(string[] args)
    {
        if (args.Contains("novnni", StringComparer.OrdinalIgnoreCase)) Int8Gemm.AllowVnni = false;
        args = args.Where(a => !a.Equals("novnni", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (args.Length > 0) QuantizedMatrixMultiply.Tier = Enum.Parse<QuantizedGemmTier>(args[0], ignoreCase: true);
        Console.WriteLine($"int8 one-channel conv, tier {QuantizedMatrixMultiply.Tier}{(Int8Gemm.AllowVnni ? "" : " without VNNI")}; µs per layer by thread CPU time");
        foreach (var (name, height, width, outChannels, kh, kw, stride, padY, padX) in new[]
                 {
                     ("dscnn stem", 49, 10, 64, 10, 4, 2, 5, 1), ("lenet5 c1", 28, 28, 20, 5, 5, 1, 0, 0), ("lenet5 1→6", 28, 28, 6, 5, 5, 1, 0, 0),
                     ("digits_cnn c1", 8, 8, 16, 3, 3, 1, 1, 1),
                 })
        {
            int outputHeight = (height + 2 * padY - kh) / stride + 1, outputWidth = (width + 2 * padX - kw) / stride + 1, outputSize = outputHeight * outputWidth;
            int[] geometry = { 2, height, width, outputHeight, outputWidth, kh, kw, stride, stride, 1, 1, padY, padX, padY, padX };
            var random = new Random(1);
            byte[] x = Enumerable.Range(0, height * width).Select(_ => (byte)random.Next(256)).ToArray();
            byte[] xZero = { 131 };
            sbyte[] w = Enumerable.Range(0, outChannels * kh * kw).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            int[] bias = Enumerable.Range(0, outChannels).Select(_ => random.Next(-5000, 5000)).ToArray();
            float[] multipliers = Enumerable.Range(0, outChannels).Select(_ => (float)(random.NextDouble() * 0.002)).ToArray();

            var taps = Int8ConvWeights.PackSingleChannel(w, Array.Empty<sbyte>(), outChannels, kh, kw);
            byte[] oneChannel = new byte[outChannels * outputSize], direct = new byte[outChannels * outputSize], im2col = new byte[outChannels * outputSize];
            int[] oneChannelScratch = new int[Int8SingleChannelConvolution.ScratchLength(geometry)];
            void OneChannel() => Int8SingleChannelConvolution.ConvolveToBytes<byte, byte>(x, xZero, taps, bias, multipliers, 7, oneChannel, oneChannelScratch, 1, geometry);
            int[] directScratch = new int[Int8DirectConvolution.ScratchLength(1, geometry)];
            void Direct() => Int8DirectConvolution.ConvolveToBytes<byte, byte>(x, xZero, taps, bias, multipliers, 7, direct, directScratch, 1, geometry);

            int depth = kh * kw;
            var gemmWeights = Int8PackedWeights.Pack(w, Array.Empty<sbyte>(), outChannels, depth, transposed: false);
            byte[] columns = new byte[depth * outputSize];
            sbyte[] packedColumns = new sbyte[Int8Gemm.PackedColumnsLength(depth, outputSize)];
            int[] offsets = new int[outChannels], blockAcc = new int[QuantizedConvolution.BlockAccumulatorLength(outChannels, outputSize)];
            void Im2Col() => QuantizedConvolution.Im2ColGemmToBytes<byte, byte>(x, xZero, gemmWeights, bias, multipliers, 7, im2col, blockAcc, columns, packedColumns, offsets,
                1, 1, outChannels, 1, geometry);

            OneChannel();
            Direct();
            Im2Col();
            if (!oneChannel.AsSpan().SequenceEqual(im2col) || !direct.AsSpan().SequenceEqual(im2col))
                throw new InvalidOperationException($"the one-channel, direct and im2col convolutions differ on {name}");
            // Calls, not seconds, until tiered compilation has finished: Timing's 0.3 s of wall clock can pass on a loaded
            // machine with too few of them, and the first layer was then timed on unoptimised code (4–8 µs for the stem).
            for (int i = 0; i < 20000; i++)
            {
                OneChannel();
                Direct();
                Im2Col();
            }
            double macs = (double)outChannels * depth * outputSize;
            int reps = Math.Max(1, (int)(2e7 / macs));
            double Microseconds(Action run) => macs / Timing.Rate(run, macs, reps).Cpu / 1e3;
            Console.WriteLine(FormattableString.Invariant(
                $"{name,-14} 1→{outChannels,2} {height}x{width} k{kh}x{kw} s{stride}: one-channel {Microseconds(OneChannel),5:F2} µs, direct {Microseconds(Direct),5:F2} µs, im2col requantised per block {Microseconds(Im2Col),5:F2} µs"));
        }
    }
}
