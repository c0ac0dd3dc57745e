using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace AotInfer.Cli.Bench;

/// <summary>How a warm-up ended.</summary>
/// <param name="IterationsPerRound">Calls that fill one timed round.</param>
/// <param name="Settled">True when the JIT went quiet and the per-call time stopped moving before the time limit.</param>
/// <param name="Milliseconds">Wall time the warm-up took.</param>
/// <param name="Calls">Calls made during the warm-up.</param>
public sealed record WarmupOutcome(int IterationsPerRound, bool Settled, double Milliseconds, long Calls);

/// <summary>
/// Warms a benchmarked call up until it runs at steady state: tiered JIT has finished promoting the code it runs (tier 0
/// → OSR / instrumented tier → tier 1 with PGO, each step after a 100 ms call-counting delay and a compile on a
/// background thread that a loaded machine can starve for seconds) and repeated measurement shows the per-call time no
/// longer moving. A fixed warm-up time is not enough: under load it ends while partly optimised code still runs, and
/// the benchmark then reports tier-0 speed (seen: 1083 µs instead of 640 µs on ResNet-8).
/// </summary>
/// <remarks>
/// The signal is two-fold: <see cref="System.Runtime.JitInfo.GetCompiledMethodCount"/> must not have grown for
/// <see cref="QuietMilliseconds"/> (no code is still being promoted), and the median per-call time of that window must be within
/// <see cref="Tolerance"/> of the previous window's. Per-call time is the thread's CPU time where available: it does
/// not count time spent waiting for a core, so other processes' load does not look like instability.
/// </remarks>
public static class SteadyStateWarmup
{
    /// <summary>Bursts per window; each window's median is compared with the previous one.</summary>
    public const int WindowBursts = 5;

    /// <summary>Largest relative change between consecutive window medians that counts as settled.</summary>
    public const double Tolerance = 0.03;

    /// <summary>
    /// How long the JIT must have compiled nothing. Tier-up waits 100 ms after the last tier-0 compile before it
    /// counts calls, and the background compile can be starved on a loaded machine, so a short quiet spell (one
    /// window of bursts) is not proof that nothing is pending.
    /// </summary>
    public const double QuietMilliseconds = 1000;

    /// <summary>
    /// Runs <paramref name="run"/> for at least <paramref name="minimumMilliseconds"/>, then in bursts of about
    /// <paramref name="burstMilliseconds"/> until <see cref="IsSettled"/> holds or <paramref name="limitMilliseconds"/> pass;
    /// returns the number of calls that fills <paramref name="roundMilliseconds"/>.
    /// </summary>
    public static WarmupOutcome Run(Action run, double minimumMilliseconds, double roundMilliseconds, double burstMilliseconds = 25, double limitMilliseconds = 30_000)
    {
        var clock = Stopwatch.StartNew();
        long calls = 0;
        while (clock.Elapsed.TotalMilliseconds < minimumMilliseconds || calls < 200)
        {
            run();
            calls++;
        }

        double perCall = Math.Max(clock.Elapsed.TotalMicroseconds / calls, 1e-3);
        // (The first estimate is wall time over the minimum warm-up, mostly tier-0 code: deliberately pessimistic.)
        var times = new List<double>();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        double quietSince = clock.Elapsed.TotalMilliseconds;
        bool settled = false;
        while (!settled && clock.Elapsed.TotalMilliseconds < limitMilliseconds)
        {
            int burst = (int)Math.Clamp(burstMilliseconds * 1000 / perCall, 1, 10_000_000);
            double wall = TimeBurst(run, burst, out double cpu);
            calls += burst;
            // Size bursts and rounds by what a call costs this thread: on a loaded machine the wall time per call also
            // counts other processes' time slices, and bursts sized by it shrink to a call or two, too noisy to settle.
            perCall = Math.Max(double.IsNaN(cpu) ? wall : cpu, 1e-3);
            long compiledNow = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (compiledNow != compiled)
            {
                // Code was still being promoted: earlier bursts do not describe the code that runs from now on.
                compiled = compiledNow;
                quietSince = clock.Elapsed.TotalMilliseconds;
                times.Clear();
                continue;
            }
            times.Add(double.IsNaN(cpu) ? wall : cpu);
            settled = IsSettled(times, clock.Elapsed.TotalMilliseconds - quietSince);
        }
        int iterations = (int)Math.Clamp(roundMilliseconds * 1000 / perCall, 1, 1_000_000);
        return new WarmupOutcome(iterations, settled, clock.Elapsed.TotalMilliseconds, calls);
    }

    /// <summary>
    /// True when the JIT has compiled nothing for <see cref="QuietMilliseconds"/> and the median per-call time of the
    /// last <see cref="WindowBursts"/> bursts (all run since the JIT went quiet) is within <see cref="Tolerance"/> of
    /// the median of the <see cref="WindowBursts"/> bursts before them.
    /// </summary>
    public static bool IsSettled(IReadOnlyList<double> perCallTimes, double jitQuietMilliseconds)
    {
        int n = perCallTimes.Count;
        if (n < 2 * WindowBursts || jitQuietMilliseconds < QuietMilliseconds) return false;
        double last = Median(perCallTimes.Skip(n - WindowBursts));
        double previous = Median(perCallTimes.Skip(n - 2 * WindowBursts).Take(WindowBursts));
        return Math.Abs(last - previous) <= Tolerance * Math.Max(last, previous);
    }

    /// <summary>Wall-clock microseconds per call over <paramref name="iterations"/> calls, and this thread's CPU microseconds per call.</summary>
    internal static double TimeBurst(Action run, int iterations, out double cpuMicroseconds)
    {
        double cpuStart = ThreadCpuTime.Microseconds();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++) run();
        double wall = Stopwatch.GetElapsedTime(start).TotalMicroseconds / iterations;
        cpuMicroseconds = (ThreadCpuTime.Microseconds() - cpuStart) / iterations;
        return wall;
    }

    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
