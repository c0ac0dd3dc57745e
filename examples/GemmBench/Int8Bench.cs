using System;
using System.Globalization;
using System.Linq;
using AotInfer.Kernels.Quantization;

/// <summary>
/// The int8 mode of GemmBench: GMAC/s of <see cref="Int8Gemm"/> (u8 activations × s8 weights, random data, weights in
/// ±127 so the sign-transfer scheme runs, and in ±64 for the 7-bit scheme) in both loop shapes — rows (MatMul: A packed
/// per call) and columns (convolution: the column matrix packed per call), plus <see cref="Int8VectorMatrixMultiply"/> at
/// M = 1 — next to the widening
/// <see cref="QuantizedMatrixMultiply"/>; the result is checked against it before timing.
/// </summary>
static class Int8Bench
{
    public static void Run(string[] args)
    {
        // "novnni" anywhere keeps the column GEMM on vpmaddubsw on a CPU with AVX-VNNI (to compare the two).
        if (args.Contains("novnni", StringComparer.OrdinalIgnoreCase)) Int8Gemm.AllowVnni = false;
        args = args.Where(a => !a.Equals("novnni", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (args.Length > 0) QuantizedMatrixMultiply.Tier = Enum.Parse<QuantizedGemmTier>(args[0], ignoreCase: true);
        double peak = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 114.7; // 32 MAC/cycle × 3.585 GHz
        Console.WriteLine($"int8 tier {QuantizedMatrixMultiply.Tier}{(Int8Gemm.AllowVnni ? "" : " without VNNI")} (best {QuantizedMatrixMultiply.BestTier}); ceiling {peak} GMAC/s; GMAC/s by thread CPU time (wall clock)");
        foreach (var (m, n, k) in new[] { (256, 256, 256), (512, 512, 512), (64, 64, 64), (1, 1024, 1024), (1, 300, 784), (1, 10, 784), (1024, 16, 144), (256, 32, 288), (64, 64, 576) })
        {
            var random = new Random(1);
            byte[] a = Enumerable.Range(0, m * k).Select(_ => (byte)random.Next(256)).ToArray();
            byte[] aZero = { 131 };
            int[] c = new int[m * n], expected = new int[m * n];
            double macs = (double)m * n * k;
            int reps = Math.Max(1, (int)(5e7 / macs));
            string line = FormattableString.Invariant($"{m,4}x{n,4}x{k,4}:");
            foreach (int range in new[] { 127, 64 })
            {
                // Weights B (K×N) as MatMul stores them; packed once, as generated code does at type initialisation.
                sbyte[] b = Enumerable.Range(0, k * n).Select(_ => (sbyte)random.Next(-range, range + 1)).ToArray();
                var weights = Int8PackedWeights.Pack(b, Array.Empty<sbyte>(), n, k, transposed: true);
                var packedA = new sbyte[Int8Gemm.PackedRowsLength(m, k)];
                var offsets = new int[n];
                QuantizedMatrixMultiply.Multiply<byte>(a, aZero, QuantizedMatrixMultiply.PackB(b, Array.Empty<sbyte>(), k, n), expected, m, n, k, new int[QuantizedMatrixMultiply.PackedALength(m, k)]);
                Int8Gemm.Multiply<byte>(a, aZero, weights, ReadOnlySpan<int>.Empty, c, m, packedA, offsets);
                if (!c.AsSpan().SequenceEqual(expected)) throw new InvalidOperationException($"int8 GEMM differs from the reference at {m}x{n}x{k}");
                var rows = Timing.Rate(() => Int8Gemm.Multiply<byte>(a, aZero, weights, ReadOnlySpan<int>.Empty, c, m, packedA, offsets), macs, reps);

                // The convolution shape: weights as rows, A transposed as the K×M column matrix.
                byte[] columns = new byte[k * m];
                for (int i = 0; i < m; i++) for (int kk = 0; kk < k; kk++) columns[kk * m + i] = a[i * k + kk];
                var packedColumns = new sbyte[Int8Gemm.PackedColumnsLength(k, m)];
                int[] channelMajor = new int[n * m];
                var columnsRate = Timing.Rate(() =>
                {
                    Int8Gemm.PackColumns<byte>(columns, k, m, weights.Scheme, packedColumns);
                    weights.Offsets(Int8Gemm.DomainZeroPoint<byte>(aZero, weights.Scheme), ReadOnlySpan<int>.Empty, 0, offsets);
                    Int8Gemm.MultiplyColumns(weights, 0, n, packedColumns, m, offsets, channelMajor, m);
                }, macs, reps);
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++)
                    if (channelMajor[j * m + i] != expected[i * n + j]) throw new InvalidOperationException($"int8 column GEMM differs from the reference at {m}x{n}x{k}");
                line += FormattableString.Invariant($"  ±{range} {weights.Scheme}: rows {rows.Cpu,6:F1} ({rows.Wall,5:F1}) = {rows.Cpu / peak,4:P0}, columns {columnsRate.Cpu,6:F1} ({columnsRate.Wall,5:F1}) = {columnsRate.Cpu / peak,4:P0}");
                if (m == 1)
                {
                    // The batch-1 dense layer's own kernel: weights in panels of 16 outputs, no lane sums.
                    var gemvWeights = Int8GemvWeights.Pack(b, Array.Empty<sbyte>(), n, k, transposed: true);
                    var packedRow = new sbyte[Int8VectorMatrixMultiply.PackedActivationsLength(k)];
                    Int8VectorMatrixMultiply.Multiply<byte>(a, aZero, gemvWeights, ReadOnlySpan<int>.Empty, c, packedRow);
                    if (!c.AsSpan().SequenceEqual(expected)) throw new InvalidOperationException($"int8 GEMV differs from the reference at {n}x{k}");
                    var gemv = Timing.Rate(() => Int8VectorMatrixMultiply.Multiply<byte>(a, aZero, gemvWeights, ReadOnlySpan<int>.Empty, c, packedRow), macs, reps);
                    line += FormattableString.Invariant($", gemv {gemv.Cpu,6:F1} ({gemv.Wall,5:F1}) = {gemv.Cpu / peak,4:P0}");
                }
                line += ";";
            }
            short[] wideB = QuantizedMatrixMultiply.PackB(new sbyte[k * n], Array.Empty<sbyte>(), k, n);
            int[] wideA = new int[QuantizedMatrixMultiply.PackedALength(m, k)];
            var widening = Timing.Rate(() => QuantizedMatrixMultiply.Multiply<byte>(a, aZero, wideB, c, m, n, k, wideA), macs, reps);
            Console.WriteLine(line + FormattableString.Invariant($"  widening kernel {widening.Cpu,6:F1}"));
        }
    }
}
