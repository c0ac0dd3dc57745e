using System;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace AotInfer.Kernels.Threading;

/// <summary>A kernel's work split into parts: <see cref="Execute"/> computes part <c>part</c> of <c>parts</c>.</summary>
/// <remarks>
/// Implementations split the output into disjoint ranges whose values do not depend on how the work is split (whole
/// GEMM row blocks, whole GEMV column blocks), so multi-threaded results equal single-threaded ones bit for bit.
/// </remarks>
public interface IParallelWork
{
    /// <summary>Computes one part.</summary>
    void Execute(int part, int parts);
}

/// <summary>
/// A small fixed set of worker threads that kernels split their work over when a generated model was compiled with
/// more than one thread (<c>AotInferThreads</c>). The generated <c>Run</c> makes its pool <see cref="Current"/> for
/// the duration of the call; kernels that can split (GEMV, GEMM and the convolutions built on it) ask for it, and
/// run single-threaded when there is none. Nothing is allocated per call: the work is a struct on the caller's stack
/// that the workers reach through a pointer while the caller waits for them.
/// </summary>
/// <remarks>
/// Pools are shared per thread count and live as long as the process (background threads). When two calls on
/// different threads want the same pool at once, the second runs its parts inline: same partition, same result.
/// </remarks>
public sealed unsafe class WorkerPool
{
    [ThreadStatic] static WorkerPool? t_current;
    static readonly object s_sharedLock = new();
    static WorkerPool?[] s_shared = Array.Empty<WorkerPool?>();

    readonly SemaphoreSlim[] _start;
    readonly ManualResetEventSlim _done = new(false, spinCount: 200);
    int _busy;
    void* _work;
    delegate*<void*, int, int, void> _invoke;
    int _parts;
    int _remaining;
    ExceptionDispatchInfo? _failure;

    WorkerPool(int threads)
    {
        Threads = threads;
        _start = new SemaphoreSlim[threads - 1];
        for (int i = 0; i < _start.Length; i++)
        {
            _start[i] = new SemaphoreSlim(0);
            int part = i + 1;
            new Thread(() => WorkerLoop(part)) { IsBackground = true, Name = $"AotInfer worker {part}/{threads}" }.Start();
        }
    }

    /// <summary>Threads that compute parts, the calling thread included.</summary>
    public int Threads { get; }

    /// <summary>The pool the running generated model lets kernels use on this thread, or null (single-threaded).</summary>
    public static WorkerPool? Current => t_current;

    /// <summary>Makes <paramref name="pool"/> current on this thread; returns the previous one for <see cref="Exit"/>.</summary>
    public static WorkerPool? Enter(WorkerPool? pool)
    {
        var previous = t_current;
        t_current = pool;
        return previous;
    }

    /// <summary>Restores the pool <see cref="Enter"/> returned.</summary>
    public static void Exit(WorkerPool? previous) => t_current = previous;

    /// <summary>
    /// The process-wide pool of <paramref name="threads"/> threads (0: <see cref="Environment.ProcessorCount"/>), created
    /// on first use.
    /// </summary>
    public static WorkerPool Shared(int threads)
    {
        if (threads < 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "the thread count must be 0 (one per processor) or positive");
        if (threads == 0) threads = Environment.ProcessorCount;
        lock (s_sharedLock)
        {
            if (s_shared.Length <= threads) Array.Resize(ref s_shared, threads + 1);
            return s_shared[threads] ??= new WorkerPool(threads);
        }
    }

    /// <summary>
    /// Runs parts 0 … <paramref name="parts"/>−1 of <paramref name="work"/> (at most <see cref="Threads"/>): part 0 on the
    /// calling thread, the others on the workers; returns when all are done and rethrows the first failure.
    /// <paramref name="work"/> must live on the caller's stack (a local), as the workers read it through a pointer.
    /// </summary>
    public void Run<TWork>(ref TWork work, int parts) where TWork : struct, IParallelWork
    {
        parts = Math.Clamp(parts, 1, Threads);
        if (parts == 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int part = 0; part < parts; part++) work.Execute(part, parts);
            return;
        }
        try
        {
            _work = Unsafe.AsPointer(ref work);
            _invoke = &Invoke<TWork>;
            _parts = parts;
            _failure = null;
            _done.Reset();
            Volatile.Write(ref _remaining, parts - 1);
            for (int part = 1; part < parts; part++) _start[part - 1].Release();
            try { work.Execute(0, parts); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null); }
            _done.Wait();
            _failure?.Throw();
        }
        finally
        {
            _work = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    static void Invoke<TWork>(void* work, int part, int parts) where TWork : struct, IParallelWork =>
        Unsafe.AsRef<TWork>(work).Execute(part, parts);

    void WorkerLoop(int part)
    {
        var start = _start[part - 1];
        while (true)
        {
            start.Wait();
            try { _invoke(_work, part, _parts); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null); }
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Set();
        }
    }
}
