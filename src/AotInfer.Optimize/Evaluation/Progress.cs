using System;
using System.Diagnostics;

namespace AotInfer.Optimize.Evaluation;

/// <summary>A one-line progress indicator on standard error, redrawn at most ten times a second.</summary>
public sealed class Progress
{
    readonly string _label;
    readonly int _total;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    long _lastDrawMs = -1000;

    /// <summary>Starts a progress line for <paramref name="total"/> steps.</summary>
    public Progress(string label, int total)
    {
        _label = label;
        _total = Math.Max(total, 1);
    }

    /// <summary>When false nothing is drawn (tests, quiet runs).</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Reports that <paramref name="done"/> steps are complete.</summary>
    public void Report(int done)
    {
        if (!Enabled) return;
        long now = _clock.ElapsedMilliseconds;
        if (done < _total && now - _lastDrawMs < 100) return;
        _lastDrawMs = now;
        int width = 30, filled = (int)((long)width * done / _total);
        Console.Error.Write($"\r{_label} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{_total} {now / 1000.0:F1}s ");
        if (done >= _total) Console.Error.WriteLine();
    }
}
