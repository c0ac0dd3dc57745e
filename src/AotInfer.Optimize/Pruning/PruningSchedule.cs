using System;

namespace AotInfer.Optimize.Pruning;

/// <summary>
/// The gradual pruning schedule of Zhu &amp; Gupta ("To prune, or not to prune", 2017): sparsity rises from
/// <see cref="InitialSparsity"/> to <see cref="FinalSparsity"/> over training steps
/// [<see cref="BeginStep"/>, <see cref="EndStep"/>], pruning every <see cref="Frequency"/> steps, as
/// <c>s(t) = s_f + (s_i − s_f)·(1 − (t − t0)/(t_end − t0))³</c>. The cubic prunes fast while many weights are
/// redundant and slowly near the target, giving fine-tuning time to recover. A fine-tuning loop asks
/// <see cref="ShouldPrune"/> at each step and, when true, prunes to <see cref="SparsityAt"/> (for example with
/// <see cref="MagnitudePruning.PruneWeights"/>), then keeps the pruned weights at zero.
/// </summary>
public sealed class PruningSchedule
{
    /// <summary>A schedule; steps are the optimiser's step counter.</summary>
    /// <param name="finalSparsity">Sparsity reached at <paramref name="endStep"/> and kept after, in [0, 1).</param>
    /// <param name="beginStep">First step that prunes (t0).</param>
    /// <param name="endStep">Step at which the final sparsity is reached; greater than <paramref name="beginStep"/>.</param>
    /// <param name="frequency">Steps between two pruning events (Δt), at least 1.</param>
    /// <param name="initialSparsity">Sparsity applied at <paramref name="beginStep"/>, in [0, <paramref name="finalSparsity"/>].</param>
    public PruningSchedule(double finalSparsity, int beginStep, int endStep, int frequency = 100, double initialSparsity = 0)
    {
        if (!(finalSparsity >= 0 && finalSparsity < 1)) throw new ArgumentOutOfRangeException(nameof(finalSparsity), finalSparsity, "final sparsity must be in [0, 1)");
        if (!(initialSparsity >= 0 && initialSparsity <= finalSparsity)) throw new ArgumentOutOfRangeException(nameof(initialSparsity), initialSparsity, "initial sparsity must be in [0, final sparsity]");
        if (beginStep < 0) throw new ArgumentOutOfRangeException(nameof(beginStep), beginStep, "begin step must not be negative");
        if (endStep <= beginStep) throw new ArgumentOutOfRangeException(nameof(endStep), endStep, $"end step must be after the begin step ({beginStep})");
        if (frequency < 1) throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "frequency must be at least 1 step");
        FinalSparsity = finalSparsity;
        InitialSparsity = initialSparsity;
        BeginStep = beginStep;
        EndStep = endStep;
        Frequency = frequency;
    }

    /// <summary>Sparsity at <see cref="BeginStep"/> (s_i).</summary>
    public double InitialSparsity { get; }

    /// <summary>Sparsity from <see cref="EndStep"/> on (s_f).</summary>
    public double FinalSparsity { get; }

    /// <summary>First pruning step (t0).</summary>
    public int BeginStep { get; }

    /// <summary>Step at which <see cref="FinalSparsity"/> is reached.</summary>
    public int EndStep { get; }

    /// <summary>Steps between pruning events (Δt).</summary>
    public int Frequency { get; }

    /// <summary>
    /// The target sparsity at <paramref name="step"/>: 0 before <see cref="BeginStep"/>, the cubic in between, and
    /// <see cref="FinalSparsity"/> from <see cref="EndStep"/> on. Between pruning events the value of the last event holds.
    /// </summary>
    public double SparsityAt(int step)
    {
        if (step < BeginStep) return 0;
        if (step >= EndStep) return FinalSparsity;
        // The sparsity only changes at pruning events: round down to the last one.
        int lastEvent = BeginStep + (step - BeginStep) / Frequency * Frequency;
        double progress = (double)(lastEvent - BeginStep) / (EndStep - BeginStep);
        double remaining = 1 - progress;
        return FinalSparsity + (InitialSparsity - FinalSparsity) * remaining * remaining * remaining;
    }

    /// <summary>True at the steps where the mask is recomputed: every <see cref="Frequency"/> steps from <see cref="BeginStep"/>, and at <see cref="EndStep"/>.</summary>
    public bool ShouldPrune(int step) =>
        step == EndStep || (step >= BeginStep && step < EndStep && (step - BeginStep) % Frequency == 0);
}
