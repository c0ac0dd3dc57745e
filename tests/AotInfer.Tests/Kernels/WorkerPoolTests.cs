using System;
using System.Linq;
using System.Threading.Tasks;
using AotInfer.Kernels.Linear;
using AotInfer.Kernels.Threading;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// Splitting GEMMs between threads (<see cref="WorkerPool"/>) must give exactly the single-threaded bits, for row
/// counts that do and do not divide evenly, plain and pre-packed B, and when two callers want one pool at once.
/// </summary>
public class WorkerPoolTests
{
    static float[] Random(int seed, int count)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    static float[] Multiply(int m, int n, int k, bool packed, WorkerPool? pool)
    {
        float[] a = Random(m + k, m * k), b = Random(n * 3 + k, k * n), c = new float[m * n];
        var previous = WorkerPool.Enter(pool);
        try
        {
            if (packed) MatrixMultiply.Multiply(a, k, PackedMatrix.Pack(b, n, false, k, n), c, n, m);
            else MatrixMultiply.Multiply(a, k, b, n, c, n, m, n, k);
        }
        finally
        {
            WorkerPool.Exit(previous);
        }
        return c;
    }

    [Theory]
    [InlineData(24, 64, 100, false)]
    [InlineData(25, 130, 70, false)]
    [InlineData(37, 200, 129, true)]
    [InlineData(100, 33, 300, true)]
    [InlineData(26, 784, 200, false)]
    public void ThreadedGemmEqualsSingleThreaded(int m, int n, int k, bool packed)
    {
        var single = Multiply(m, n, k, packed, null);
        foreach (int threads in new[] { 2, 3, 4 })
            Assert.Equal(single, Multiply(m, n, k, packed, WorkerPool.Shared(threads)));
    }

    [Fact]
    public void ConcurrentCallersShareAPoolSafely()
    {
        var single = Multiply(48, 96, 256, false, null);
        var pool = WorkerPool.Shared(2);
        var results = new float[8][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = Multiply(48, 96, 256, false, pool));
        foreach (var r in results) Assert.Equal(single, r);
    }

    [Fact]
    public void ThreadCountZeroMeansOnePerProcessor()
    {
        Assert.Equal(Environment.ProcessorCount, WorkerPool.Shared(0).Threads);
        Assert.Same(WorkerPool.Shared(3), WorkerPool.Shared(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerPool.Shared(-1));
    }

    [Fact]
    public void AFailingPartIsRethrownOnTheCaller()
    {
        var work = new FailingWork();
        var e = Assert.Throws<InvalidOperationException>(() => WorkerPool.Shared(3).Run(ref work, 3));
        Assert.Contains("part", e.Message);
        // The pool still works afterwards.
        Assert.Equal(Multiply(24, 64, 100, false, null), Multiply(24, 64, 100, false, WorkerPool.Shared(3)));
    }

    struct FailingWork : IParallelWork
    {
        public void Execute(int part, int parts)
        {
            if (part == parts - 1) throw new InvalidOperationException($"part {part} of {parts} failed");
        }
    }
}
