using System;
using System.Linq;
using AotInfer.Cli.Bench;
using Xunit;

namespace AotInfer.Tests.Cli;

/// <summary>The bench warm-up's steady-state rule: quiet JIT for long enough and a window median that stopped moving.</summary>
public class SteadyStateWarmupTests
{
    static double[] Repeat(double value, int count) => Enumerable.Repeat(value, count).ToArray();

    [Fact]
    public void StableTimesWithQuietJitAreSettled() =>
        Assert.True(SteadyStateWarmup.IsSettled(Repeat(10, 2 * SteadyStateWarmup.WindowBursts), SteadyStateWarmup.QuietMilliseconds));

    [Fact]
    public void RecentJitActivityIsNotSettled() =>
        Assert.False(SteadyStateWarmup.IsSettled(Repeat(10, 2 * SteadyStateWarmup.WindowBursts), SteadyStateWarmup.QuietMilliseconds - 1));

    [Fact]
    public void TooFewBurstsAreNotSettled() =>
        Assert.False(SteadyStateWarmup.IsSettled(Repeat(10, 2 * SteadyStateWarmup.WindowBursts - 1), 10 * SteadyStateWarmup.QuietMilliseconds));

    [Fact]
    public void TimesStillFallingAreNotSettled()
    {
        // The code is getting faster (tier-up still landing): the last window is 10% below the one before.
        var times = Repeat(11, SteadyStateWarmup.WindowBursts).Concat(Repeat(10, SteadyStateWarmup.WindowBursts)).ToArray();
        Assert.False(SteadyStateWarmup.IsSettled(times, 10 * SteadyStateWarmup.QuietMilliseconds));
    }

    [Fact]
    public void OneOutlierPerWindowDoesNotBlockSettling()
    {
        // Medians ignore a single preempted burst per window.
        var times = new double[] { 10, 10, 30, 10, 10, 10, 10, 10, 25, 10 };
        Assert.True(SteadyStateWarmup.IsSettled(times, SteadyStateWarmup.QuietMilliseconds));
    }

    [Fact]
    public void WarmupOfACheapCallSettlesAndSizesTheRound()
    {
        double sink = 0;
        var outcome = SteadyStateWarmup.Run(() => { for (int i = 0; i < 100; i++) sink += Math.Sqrt(i); }, minimumMilliseconds: 10, roundMilliseconds: 5, limitMilliseconds: 20_000);
        Assert.True(outcome.IterationsPerRound >= 1);
        Assert.True(outcome.Calls >= 200);
        Assert.True(sink > 0);
    }
}
