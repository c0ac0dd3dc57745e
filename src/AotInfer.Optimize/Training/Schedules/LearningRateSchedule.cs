using System;

namespace AotInfer.Optimize.Training.Schedules;

/// <summary>The learning rate as a function of training progress.</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The rate at optimiser step <paramref name="step"/> of <paramref name="totalSteps"/>, in epoch <paramref name="epoch"/> (from 0).</summary>
    public abstract float Rate(int step, int totalSteps, int epoch);

    /// <summary>"fixed", "exponential" (×<paramref name="decay"/> per epoch) or "cosine" (annealed to <paramref name="minimum"/> over all steps).</summary>
    public static LearningRateSchedule Create(string name, float rate, float decay = 0.9f, float minimum = 0f)
    {
        if (!(rate > 0)) throw new ArgumentException($"the learning rate must be positive, not {rate}");
        return name switch
        {
            "fixed" => new FixedRate(rate),
            "exponential" or "exp" => decay > 0 && decay <= 1 ? new ExponentialDecay(rate, decay) : throw new ArgumentException($"the decay must be in (0, 1], not {decay}"),
            "cosine" => new CosineAnnealing(rate, minimum),
            _ => throw new ArgumentException($"schedule '{name}' is unknown (fixed, exponential, cosine)"),
        };
    }
}

/// <summary>The same rate throughout.</summary>
public sealed class FixedRate(float rate) : LearningRateSchedule
{
    /// <inheritdoc />
    public override float Rate(int step, int totalSteps, int epoch) => rate;
}

/// <summary>rate·decay^epoch.</summary>
public sealed class ExponentialDecay(float rate, float decay) : LearningRateSchedule
{
    /// <inheritdoc />
    public override float Rate(int step, int totalSteps, int epoch) => rate * MathF.Pow(decay, epoch);
}

/// <summary>Cosine annealing (Loshchilov &amp; Hutter, without restarts): min + ½(rate − min)(1 + cos(π·step/total)).</summary>
public sealed class CosineAnnealing(float rate, float minimum) : LearningRateSchedule
{
    /// <inheritdoc />
    public override float Rate(int step, int totalSteps, int epoch) =>
        minimum + 0.5f * (rate - minimum) * (1 + MathF.Cos(MathF.PI * Math.Min(step, totalSteps) / Math.Max(totalSteps, 1)));
}
