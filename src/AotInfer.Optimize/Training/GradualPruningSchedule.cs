using System;

namespace AotInfer.Optimize.Training;

/// <summary>
/// Gradual magnitude pruning's sparsity targets (Zhu &amp; Gupta, "To prune, or not to prune", 2017): over
/// <see cref="Steps"/> rounds the sparsity rises as s·(1 − (1 − r/K)³), fast at first while many weights are
/// redundant and slowly near the end, when the network has less room to recover.
/// </summary>
/// <param name="FinalSparsity">Sparsity reached after the last round, in [0, 1).</param>
/// <param name="Steps">Number of prune-then-fine-tune rounds (≥ 1).</param>
public sealed record GradualPruningSchedule(double FinalSparsity, int Steps)
{
    /// <summary>The sparsity to prune to in round <paramref name="round"/> (1 … <see cref="Steps"/>).</summary>
    public double Target(int round)
    {
        if (FinalSparsity < 0 || FinalSparsity >= 1) throw new ArgumentOutOfRangeException(nameof(FinalSparsity), "sparsity must be in [0, 1)");
        if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), "the number of pruning steps must be at least 1");
        if (round < 1 || round > Steps) throw new ArgumentOutOfRangeException(nameof(round), $"round {round} is outside 1…{Steps}");
        // Rounds are the steps of the library's step-based schedule, pruning at every one of them from round 0.
        return new Pruning.PruningSchedule(FinalSparsity, beginStep: 0, endStep: Steps, frequency: 1).SparsityAt(round);
    }
}
