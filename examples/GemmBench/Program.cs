using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Linear;
using AotInfer.Kernels.Quantization;

// Measures single-threaded SGEMM (or int8 GEMM) throughput: median of several timed runs after warm-up. The machine may
// be shared, so each run is timed both by the wall clock and by this thread's CPU time (clock_gettime THREAD_CPUTIME on
// Linux); the CPU-time figure is the one that does not count time slices given to other processes.
// Usage: GemmBench [tier] [peakGflops] [--gemv-only]; tier is Scalar, Vector128, Fma256 or Avx512 (default: the best available).
//        Without peakGflops the peak is measured: the core clock by a chain of dependent integer additions (one per
//        cycle) and the fused multiply-adds per cycle by twelve independent chains of 512-bit (or 256-bit) FMAs.
//        GemmBench int8 [tier] [peakGmacs] [novnni]; tier is Scalar, Vector128, Avx2 or Avx512BW; novnni keeps vpmaddubsw on AVX-VNNI CPUs.
//        GemmBench int8conv [tier] [novnni] [pointwise]: the int8 convolution layers of the small models, direct vs im2col vs Winograd F(2x2,3x3) (pointwise: only the unpadded 1×1 ones).
//        GemmBench int8onechannel [tier] [novnni]: the int8 convolution layers of one input channel, one-channel kernel vs direct vs im2col.
//        GemmBench depthwise [tier|best] [label]: the int8 depthwise layers of DS-CNN and MobileNetV2 (only those whose label, e.g. "64  25x5", contains label), checked against the scalar tier.
//        GemmBench conv [tier] [name]: the float convolution kernels on the benchmark models' layer shapes (only layers whose name contains name).
switch (args.FirstOrDefault())
{
    case "int8conv": Int8ConvBench.Run(args[1..]); return;
    case "int8": Int8Bench.Run(args[1..]); return;
    case "int8onechannel": Int8SingleChannelBench.Run(args[1..]); return;
    case "conv": ConvBench.Run(args[1..]); return;
    case "depthwise": DepthwiseBench.Run(args[1..]); return;
}
string[] positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
if (positional.Length > 0) MatrixMultiply.Tier = Enum.Parse<GemmTier>(positional[0], ignoreCase: true);
double peak;
if (positional.Length > 1)
{
    peak = double.Parse(positional[1], CultureInfo.InvariantCulture);
}
else
{
    var clock = Timing.Rate(() => PeakProbe.AddChain(1 << 20), 2.0 * (1 << 20), 1);
    var fma = Timing.Rate(() => PeakProbe.FmaChains(1 << 16), PeakProbe.FlopsPerRun(1 << 16), 1);
    peak = fma.Cpu;
    Console.WriteLine(FormattableString.Invariant(
        $"measured: core clock {clock.Cpu:F2} GHz (dependent integer additions), fp32 peak {fma.Cpu:F1} GFLOP/s = {fma.Cpu / clock.Cpu:F0} FLOP/cycle ({PeakProbe.Width}-bit FMAs, 12 independent chains)"));
}
Console.WriteLine($"tier {MatrixMultiply.Tier} (best {MatrixMultiply.BestTier}); peak {peak:F1} GFLOP/s; GFLOP/s by thread CPU time (wall clock)");

if (!args.Contains("--gemv-only"))
foreach (var (m, n, k) in new[] { (256, 256, 256), (512, 512, 512), (64, 64, 64), (17, 33, 65), (1, 1024, 1024), (1, 4096, 1024), (128, 784, 300) })
{
    var random = new Random(1);
    float[] a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble()).ToArray();
    float[] b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble()).ToArray();
    float[] c = new float[m * n];
    var packed = PackedMatrix.Pack(b, n, false, k, n);
    double flops = 2.0 * m * n * k;
    int reps = Math.Max(1, (int)(1e8 / flops));
    var plain = Timing.Rate(() => MatrixMultiply.Multiply(a, k, b, n, c, n, m, n, k), flops, reps);
    var prepacked = Timing.Rate(() => MatrixMultiply.Multiply(a, k, packed, c, n, m), flops, reps);
    Console.WriteLine(FormattableString.Invariant(
        $"{m,4}x{n,4}x{k,4}: {plain.Cpu,6:F1} ({plain.Wall,6:F1}) GFLOP/s = {plain.Cpu / peak,4:P0} of peak; pre-packed B {prepacked.Cpu,6:F1} ({prepacked.Wall,6:F1}) = {prepacked.Cpu / peak,4:P0}"));
}

// The batch-1 fully-connected layers of the small models (fashion_lenet300, digits_mlp, mnist-8): the GEMV kernel
// on weights laid out for it against the GEMM's M = 1 path on pre-packed B. Random weights serve in either layout.
// (800, 500) is fashion_lenet5's f1 and (11616, 32) burn-mnist's fc1: 1.6 and 1.5 MB of weights, more than the L2.
foreach (var (k, n) in new[] { (784, 300), (300, 100), (100, 10), (64, 128), (256, 10), (800, 500), (11616, 32), (1024, 1024) })
{
    var random = new Random(2);
    float[] x = Enumerable.Range(0, k).Select(_ => (float)random.NextDouble()).ToArray();
    float[] w = Enumerable.Range(0, (int)GemvWeights.PackedLength(k, n)).Select(_ => (float)random.NextDouble()).ToArray();
    float[] y = new float[n];
    var gemv = new GemvWeights(w, k, n);
    var packed = PackedMatrix.Pack(w, n, false, k, n);
    var relu = new FusedActivation(ActivationKind.Relu);
    double flops = 2.0 * n * k;
    int reps = Math.Max(1, (int)(2e7 / flops));
    var tGemv = Timing.Rate(() => VectorMatrixMultiply.Multiply(x, gemv, ReadOnlySpan<float>.Empty, relu, y), flops, reps);
    var tGemm = Timing.Rate(() => MatrixMultiply.Multiply(x, k, packed, y, n, 1), flops, reps);
    Console.WriteLine(FormattableString.Invariant(
        $"GEMV {k,4}x{n,4}: {flops / tGemv.Cpu / 1e3,7:F2} µs = {tGemv.Cpu,5:F1} GFLOP/s ({tGemv.Cpu / peak,4:P0} of peak, {4.0 * k * n / (flops / tGemv.Cpu),5:F0} GB/s of weights); GEMM M=1 on packed B {flops / tGemm.Cpu / 1e3,7:F2} µs"));
}

// The bound a batch-1 dense layer cannot beat: reading its weights once. A plain vector sum over buffers around the
// cache sizes gives the read bandwidth the GEMV lines above are compared with.
foreach (int kilobytes in new[] { 256, 1024, 1600, 8192 })
{
    float[] data = Enumerable.Range(0, kilobytes * 256).Select(i => (float)(i % 7)).ToArray();
    double bytes = 4.0 * data.Length;
    var read = Timing.Rate(() => ReadBandwidth.Sum(data), bytes, Math.Max(1, (int)(4e8 / bytes)));
    Console.WriteLine(FormattableString.Invariant($"read {kilobytes,5} KB: {bytes / read.Cpu / 1e3,7:F2} µs = {read.Cpu,5:F0} GB/s"));
}

/// <summary>Loops whose speed is the core's: the clock (one dependent addition per cycle) and the FMA throughput.</summary>
static class PeakProbe
{
    /// <summary>Vector width of <see cref="FmaChains"/>: 512 with AVX-512, else 256.</summary>
    public static int Width => Vector512.IsHardwareAccelerated ? 512 : 256;

    /// <summary>2·<paramref name="count"/> additions, each waiting for the one before (one cycle each).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static long AddChain(int count)
    {
        long a = 1, b = 3;
        for (int i = 0; i < count; i++)
        {
            a += b;
            b += a;
        }
        return a ^ b;
    }

    /// <summary>Floating-point operations <see cref="FmaChains"/>(<paramref name="count"/>) performs.</summary>
    public static double FlopsPerRun(int count) => count * 12.0 * (Width / 32) * 2;

    /// <summary>12·<paramref name="count"/> FMAs in twelve independent chains: enough to cover the latency on two pipes.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static float FmaChains(int count)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(0.999f);
            var c = Vector512.Create(1e-3f);
            Vector512<float> s0 = c, s1 = c, s2 = c, s3 = c, s4 = c, s5 = c, s6 = c, s7 = c, s8 = c, s9 = c, s10 = c, s11 = c;
            for (int i = 0; i < count; i++)
            {
                s0 = Vector512.FusedMultiplyAdd(s0, m, c); s1 = Vector512.FusedMultiplyAdd(s1, m, c); s2 = Vector512.FusedMultiplyAdd(s2, m, c);
                s3 = Vector512.FusedMultiplyAdd(s3, m, c); s4 = Vector512.FusedMultiplyAdd(s4, m, c); s5 = Vector512.FusedMultiplyAdd(s5, m, c);
                s6 = Vector512.FusedMultiplyAdd(s6, m, c); s7 = Vector512.FusedMultiplyAdd(s7, m, c); s8 = Vector512.FusedMultiplyAdd(s8, m, c);
                s9 = Vector512.FusedMultiplyAdd(s9, m, c); s10 = Vector512.FusedMultiplyAdd(s10, m, c); s11 = Vector512.FusedMultiplyAdd(s11, m, c);
            }
            return Vector512.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11);
        }
        var m8 = Vector256.Create(0.999f);
        var c8 = Vector256.Create(1e-3f);
        Vector256<float> t0 = c8, t1 = c8, t2 = c8, t3 = c8, t4 = c8, t5 = c8, t6 = c8, t7 = c8, t8 = c8, t9 = c8, t10 = c8, t11 = c8;
        for (int i = 0; i < count; i++)
        {
            t0 = Vector256.FusedMultiplyAdd(t0, m8, c8); t1 = Vector256.FusedMultiplyAdd(t1, m8, c8); t2 = Vector256.FusedMultiplyAdd(t2, m8, c8);
            t3 = Vector256.FusedMultiplyAdd(t3, m8, c8); t4 = Vector256.FusedMultiplyAdd(t4, m8, c8); t5 = Vector256.FusedMultiplyAdd(t5, m8, c8);
            t6 = Vector256.FusedMultiplyAdd(t6, m8, c8); t7 = Vector256.FusedMultiplyAdd(t7, m8, c8); t8 = Vector256.FusedMultiplyAdd(t8, m8, c8);
            t9 = Vector256.FusedMultiplyAdd(t9, m8, c8); t10 = Vector256.FusedMultiplyAdd(t10, m8, c8); t11 = Vector256.FusedMultiplyAdd(t11, m8, c8);
        }
        return Vector256.Sum(t0 + t1 + t2 + t3 + t4 + t5 + t6 + t7 + t8 + t9 + t10 + t11);
    }
}

/// <summary>A streaming read of a buffer: eight independent 512-bit accumulators, so only the loads limit it.</summary>
static class ReadBandwidth
{
    public static float Sum(float[] data)
    {
        ref float r = ref MemoryMarshal.GetArrayDataReference(data);
        var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0; var s4 = s0; var s5 = s0; var s6 = s0; var s7 = s0;
        for (nuint i = 0; i + 128 <= (nuint)data.Length; i += 128)
        {
            s0 += Vector512.LoadUnsafe(ref r, i); s1 += Vector512.LoadUnsafe(ref r, i + 16);
            s2 += Vector512.LoadUnsafe(ref r, i + 32); s3 += Vector512.LoadUnsafe(ref r, i + 48);
            s4 += Vector512.LoadUnsafe(ref r, i + 64); s5 += Vector512.LoadUnsafe(ref r, i + 80);
            s6 += Vector512.LoadUnsafe(ref r, i + 96); s7 += Vector512.LoadUnsafe(ref r, i + 112);
        }
        return Vector512.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
    }
}

/// <summary>Median throughput of a kernel call by thread CPU time and by wall clock.</summary>
static class Timing
{
    /// <summary>(work units per second by CPU time, by wall clock) / 1e9, median of 9 runs of <paramref name="reps"/> calls after warm-up.</summary>
    public static (double Cpu, double Wall) Rate(Action run, double work, int reps)
    {
        // Warm up so that tiered compilation has produced the final code: 0.3 s of this thread's CPU time, not of the
        // wall clock, which on a loaded machine left the first layers measured on unoptimised code (10× too slow).
        for (double start = ThreadCpuSeconds(); ThreadCpuSeconds() - start < 0.3;) run();
        var cpu = new double[9];
        var wall = new double[9];
        for (int t = 0; t < cpu.Length; t++)
        {
            long start = Stopwatch.GetTimestamp();
            double cpuStart = ThreadCpuSeconds();
            for (int r = 0; r < reps; r++) run();
            cpu[t] = (ThreadCpuSeconds() - cpuStart) / reps;
            wall[t] = Stopwatch.GetElapsedTime(start).TotalSeconds / reps;
        }
        Array.Sort(cpu);
        Array.Sort(wall);
        return (work / cpu[cpu.Length / 2] / 1e9, work / wall[wall.Length / 2] / 1e9);
    }

    static double ThreadCpuSeconds()
    {
        if (!OperatingSystem.IsLinux()) return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var ts);
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
