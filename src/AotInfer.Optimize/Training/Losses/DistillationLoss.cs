using System;

namespace AotInfer.Optimize.Training.Losses;

/// <summary>
/// The distillation objective: α·(T²·KL to the teacher's softened outputs) + (1 − α)·cross-entropy on the labels.
/// </summary>
public sealed class DistillationLoss : ILoss
{
    readonly float _alpha;
    readonly KlDivergenceLoss _soft;
    readonly CrossEntropyLoss _hard = new();
    float[] _hardGradient = Array.Empty<float>();

    /// <summary>Mixes the two losses with weight <paramref name="alpha"/> ∈ [0, 1] on the soft one.</summary>
    public DistillationLoss(float temperature, float alpha)
    {
        if (alpha < 0 || alpha > 1) throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must be in [0, 1]");
        _alpha = alpha;
        _soft = new KlDivergenceLoss(temperature);
    }

    /// <inheritdoc />
    public bool NeedsTeacher => true;

    /// <inheritdoc />
    public double Compute(ReadOnlySpan<float> logits, int batch, int classes, ReadOnlySpan<int> labels, ReadOnlySpan<float> teacher, Span<float> gradient)
    {
        if (_hardGradient.Length < gradient.Length) _hardGradient = new float[gradient.Length];
        Span<float> hard = _hardGradient.AsSpan(0, gradient.Length);
        double soft = _soft.Compute(logits, batch, classes, labels, teacher, gradient);
        double crossEntropy = _hard.Compute(logits, batch, classes, labels, teacher, hard);
        for (int i = 0; i < gradient.Length; i++) gradient[i] = _alpha * gradient[i] + (1 - _alpha) * hard[i];
        return _alpha * soft + (1 - _alpha) * crossEntropy;
    }
}
