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
//        GemmBench int8 [tier] [peakGmacs] [novnni]; tier is Scalar, Vector128, Avx2 or Avx512BW; novnni keeps vpmaddubsw on AVX-VNNI CPUs.
//        GemmBench int8conv [tier] [novnni] [pointwise]: the int8 convolution layers of the small models, direct vs im2col vs Winograd F(2x2,3x3) (pointwise: only the unpadded 1×1 ones).
//        GemmBench conv [tier] [name]: the float convolution kernels on the benchmark models' layer shapes (only layers whose name contains name).
switch (args.FirstOrDefault())
{
    case "int8conv": Int8ConvBench.Run(args[1..]); return;
    case "int8": Int8Bench.Run(args[1..]); return;
    case "conv": ConvBench.Run(args[1..]); return;
}
string[] positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
if (positional.Length > 0) MatrixMultiply.Tier = Enum.Parse<GemmTier>(positional[0], ignoreCase: true);
double peak = positional.Length > 1 ? double.Parse(positional[1], CultureInfo.InvariantCulture) : 114.7; // Zen 4: 2×8 FMA lanes × 2 flops × 3.585 GHz
Console.WriteLine($"tier {MatrixMultiply.Tier} (best {MatrixMultiply.BestTier}); peak {peak} GFLOP/s; GFLOP/s by thread CPU time (wall clock)");

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
