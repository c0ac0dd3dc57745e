using System;

namespace AotInfer.Optimize.Training.Losses;

/// <summary>
/// A training loss over a batch of logits [batch, classes]: returns the batch-mean loss and writes its gradient
/// with respect to the logits.
/// </summary>
public interface ILoss
{
    /// <summary>True when the loss needs the teacher's logits (distillation).</summary>
    bool NeedsTeacher { get; }

    /// <summary>
    /// The mean loss of the batch; <paramref name="gradient"/> receives dLoss/dlogits. <paramref name="teacher"/> holds
    /// the teacher's logits in the same layout (empty when <see cref="NeedsTeacher"/> is false).
    /// </summary>
    double Compute(ReadOnlySpan<float> logits, int batch, int classes, ReadOnlySpan<int> labels, ReadOnlySpan<float> teacher, Span<float> gradient);
}

/// <summary>Numerically stable softmax helpers shared by the losses.</summary>
public static class LogSoftmax
{
    /// <summary>probabilities = softmax(logits / temperature); returns log Σ exp(logits/T − max) + max, the log-partition.</summary>
    public static double Row(ReadOnlySpan<float> logits, float temperature, Span<float> probabilities)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = MathF.Max(max, v / temperature);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float e = MathF.Exp(logits[i] / temperature - max);
            probabilities[i] = e;
            sum += e;
        }
        for (int i = 0; i < logits.Length; i++) probabilities[i] = (float)(probabilities[i] / sum);
        return Math.Log(sum) + max;
    }
}
