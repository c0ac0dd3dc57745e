using System;
using System.Globalization;
using System.Linq;
using AotInfer.Kernels.Convolution;
using AotInfer.Kernels.Linear;

/// <summary>
/// The conv mode of GemmBench: per layer shape of the benchmark models, µs and GFLOP/s (thread CPU time, median) of the
/// float convolution kernels the compiler chooses between — channel-blocked (vectorised over output channels),
/// packed-gemm (vectorised over pixels), few-channel (vectorised along output rows, up to 4 input channels), Winograd F(2×2, 3×3) and F(4×4, 3×3) vectorised over output channels
/// (winograd-f4x3), and F(4×4, 5×5) likewise (winograd-f4x5), where they apply — with bias and fused Relu, on random
/// data; the outputs are checked against each other before timing. ConvLowering's choice rule quotes these numbers.
/// </summary>
static class ConvBench
{
    public static void Run(string[] args)
    {
        if (args.Length > 0) MatrixMultiply.Tier = Enum.Parse<GemmTier>(args[0], ignoreCase: true);
        Console.WriteLine($"conv, tier {MatrixMultiply.Tier}; µs (GFLOP/s) by thread CPU time, median");
        // conv [tier] [name]: every layer, or those whose name contains the second argument.
        var layers = new (string Name, int C, int H, int W, int M, int K, int Stride, int Pad)[]
        {
            ("resnet8 stem", 3, 32, 32, 16, 3, 1, 1), ("resnet8 a.0", 16, 32, 32, 16, 3, 1, 1), ("resnet8 a.0_1", 16, 32, 32, 32, 3, 2, 1),
            ("resnet8 sc", 16, 32, 32, 32, 1, 2, 0), ("resnet8 a.3_1", 32, 16, 16, 32, 3, 1, 1), ("resnet8 a.0_2", 32, 16, 16, 64, 3, 2, 1),
            ("resnet8 a.3_2", 64, 8, 8, 64, 3, 1, 1), ("digits_cnn c2", 16, 8, 8, 32, 3, 1, 1), ("digits_cnn c3", 32, 4, 4, 64, 3, 1, 1),
            ("bncnn f.0", 1, 28, 28, 32, 3, 1, 1), ("1->32 5x5 at 28x28", 1, 28, 28, 32, 5, 1, 2), ("1->20 3x3 at 26x26", 1, 28, 28, 20, 3, 1, 0), ("bncnn f.3", 32, 28, 28, 32, 3, 1, 1), ("bncnn f.7", 32, 14, 14, 64, 3, 1, 1), ("bncnn f.10", 64, 14, 14, 64, 3, 1, 1), ("mnist-8 c1", 1, 28, 28, 8, 5, 1, 2),
            ("mnist-8 c2", 8, 14, 14, 16, 5, 1, 2), ("lenet5 c1", 1, 28, 28, 20, 5, 1, 0), ("lenet5 c2", 20, 12, 12, 50, 5, 1, 0),
            ("5x5 32->64", 32, 16, 16, 64, 5, 1, 2), ("5x5 64->128", 64, 12, 12, 128, 5, 1, 2), ("burn-mnist conv2", 8, 26, 26, 16, 3, 1, 0), ("burn-mnist conv3", 16, 24, 24, 24, 3, 1, 0),
            ("3x3 16->16 at 16x16", 16, 16, 16, 16, 3, 1, 1), ("3x3 16->24 at 12x12", 16, 12, 12, 24, 3, 1, 1), ("3x3 8->16 at 32x32", 8, 32, 32, 16, 3, 1, 1),
            ("squeezenet c1", 3, 224, 224, 64, 3, 2, 0), ("mobilenet_v2 c1", 3, 224, 224, 32, 3, 2, 1),
            ("squeezenet 55x55", 16, 55, 55, 64, 3, 1, 1), ("squeezenet 13x13", 64, 13, 13, 256, 3, 1, 1),
            ("128 at 28x28", 128, 28, 28, 128, 3, 1, 1), ("256 at 14x14", 256, 14, 14, 256, 3, 1, 1), ("512 at 7x7", 512, 7, 7, 512, 3, 1, 1),
        };
        string only = args.Length > 1 ? args[1] : "";
        foreach (var layer in layers.Where(l => l.Name.Contains(only, StringComparison.Ordinal))) Measure(layer.Name, layer.C, layer.H, layer.W, layer.M, layer.K, layer.Stride, layer.Pad);
    }

    static void Measure(string name, int c, int h, int w, int m, int k, int stride, int pad)
    {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        int[] geometry = { 2, h, w, oh, ow, k, k, stride, stride, 1, 1, pad, pad, pad, pad };
        var random = new Random(1);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float[] x = Random(c * h * w), weights = Random(m * c * k * k), bias = Random(m), expected = new float[m * oh * ow], y = new float[expected.Length];
        var relu = new FusedActivation(ActivationKind.Relu);
        var blocked = ChannelBlockedFilter.Pack(weights, m, geometry);
        var blockedScratch = new float[ChannelBlockedConvolution.ScratchSize(c, geometry)];
        var packed = PackedFilter.Pack(weights, 1, m, c * k * k);
        var packedScratch = new float[Convolution.PackedGemmScratchSize(c, 1, geometry)];
        bool winograd = k == 3 && stride == 1;
        var transformed = winograd ? Winograd.PackFilter(weights, m, c) : null;
        var winogradScratch = winograd ? new float[Winograd.ScratchSize(c, m, geometry)] : Array.Empty<float>();
        var blockedWinograd = winograd ? WinogradBlockedFilter.Pack(weights, m, c) : null;
        var blockedWinogradScratch = winograd ? new float[WinogradBlocked.ScratchSize(c, geometry)] : Array.Empty<float>();
        var fiveByFive = k == 5 && stride == 1 ? WinogradF4x5Filter.Pack(weights, m, c) : null;
        var fiveByFiveScratch = fiveByFive is null ? Array.Empty<float>() : new float[WinogradF4x5.ScratchSize(c, geometry)];
        Convolution.PackedGemm(x, packed, bias, expected, packedScratch, 1, c, geometry, relu);
        ChannelBlockedConvolution.Convolve(x, blocked, bias, y, blockedScratch, 1, c, geometry, relu);
        double worst = expected.Zip(y, (a, b) => Math.Abs(a - b) / (1 + Math.Abs(a))).Max();
        if (worst > 1e-4) throw new InvalidOperationException($"{name}: channel-blocked and packed-gemm differ by {worst}");
        if (blockedWinograd is not null)
        {
            // Winograd's rounding error grows with the channels (Σ|w·x|), not with the output: compared on that scale.
            WinogradBlocked.Convolve(x, blockedWinograd, bias, y, blockedWinogradScratch, 1, c, geometry, relu);
            worst = expected.Zip(y, (a, b) => Math.Abs(a - b)).Max() / Math.Sqrt(c);
            if (worst > 1e-4) throw new InvalidOperationException($"{name}: winograd-f4x3 and packed-gemm differ by {worst}·√C");
        }
        if (fiveByFive is not null)
        {
            WinogradF4x5.Convolve(x, fiveByFive, bias, y, fiveByFiveScratch, 1, c, geometry, relu);
            worst = expected.Zip(y, (a, b) => Math.Abs(a - b)).Max() / Math.Sqrt(c);
            if (worst > 1e-4) throw new InvalidOperationException($"{name}: winograd-f4x5 and packed-gemm differ by {worst}·√C");
        }

        double flops = 2.0 * m * c * k * k * oh * ow;
        int reps = Math.Max(1, (int)(2e7 / flops));
        string Time(Action run)
        {
            double rate = Timing.Rate(run, flops, reps).Cpu;
            return FormattableString.Invariant($"{flops / rate / 1e3,8:F2} ({rate,4:F0})");
        }
        string line = FormattableString.Invariant($"{name,-17} {c,3}->{m,-3} {k}x{k}/{stride} at {oh,2}x{ow,-2}: channel-blocked ") +
                      Time(() => ChannelBlockedConvolution.Convolve(x, blocked, bias, y, blockedScratch, 1, c, geometry, relu)) +
                      "  packed-gemm " + Time(() => Convolution.PackedGemm(x, packed, bias, y, packedScratch, 1, c, geometry, relu));
        if (c <= 4 && FewChannelConvolution.Supports(geometry))
        {
            var fewScratch = new float[FewChannelConvolution.ScratchSize(c, geometry)];
            FewChannelConvolution.Convolve(x, weights, bias, y, fewScratch, 1, c, m, geometry, relu);
            worst = expected.Zip(y, (a, b) => Math.Abs(a - b) / (1 + Math.Abs(a))).Max();
            if (worst > 1e-4) throw new InvalidOperationException($"{name}: few-channel and packed-gemm differ by {worst}");
            line += "  few-channel " + Time(() => FewChannelConvolution.Convolve(x, weights, bias, y, fewScratch, 1, c, m, geometry, relu));
        }
        if (c == 1 && SingleChannelFlatRows.Supports(geometry))
        {
            var flatScratch = new float[SingleChannelFlatRows.ScratchSize(geometry)];
            SingleChannelFlatRows.Convolve(x, weights, bias, y, flatScratch, 1, m, geometry, relu);
            worst = expected.Zip(y, (a, b) => Math.Abs(a - b) / (1 + Math.Abs(a))).Max();
            if (worst > 1e-4) throw new InvalidOperationException($"{name}: single-channel-flat and packed-gemm differ by {worst}");
            line += "  single-channel-flat " + Time(() => SingleChannelFlatRows.Convolve(x, weights, bias, y, flatScratch, 1, m, geometry, relu));
        }
        if (transformed is not null) line += "  winograd " + Time(() => Winograd.Convolve(x, transformed, bias, y, winogradScratch, 1, c, geometry, relu));
        if (blockedWinograd is not null)
            line += "  winograd-f4x3 " + Time(() => WinogradBlocked.Convolve(x, blockedWinograd, bias, y, blockedWinogradScratch, 1, c, geometry, relu));
        if (fiveByFive is not null)
        {
            line += "  winograd-f4x5 " + Time(() => WinogradF4x5.Convolve(x, fiveByFive, bias, y, fiveByFiveScratch, 1, c, geometry, relu));
            // With the following 2×2 stride-2 MaxPool fused (LeNet's c2 → MaxPool_1): the same FLOPs, a quarter of the stores.
            line += "  +maxpool " + Time(() => WinogradF4x5.Convolve(x, fiveByFive, bias, y, fiveByFiveScratch, 1, c, geometry, relu, maxPool2x2: true));
        }
        Console.WriteLine(line);
    }
}
