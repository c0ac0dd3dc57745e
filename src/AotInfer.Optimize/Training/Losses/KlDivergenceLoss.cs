using System;

namespace AotInfer.Optimize.Training.Losses;

/// <summary>
/// Knowledge-distillation loss (Hinton et al.): L = T²·mean over the batch of KL(softmax(t/T) ‖ softmax(s/T)) for
/// student logits s and teacher logits t. The T² keeps the gradient's scale independent of the temperature:
/// dL/ds = T·(softmax(s/T) − softmax(t/T))/N.
/// </summary>
public sealed class KlDivergenceLoss : ILoss
{
    readonly float _temperature;
    float[] _teacherProbabilities = Array.Empty<float>();

    /// <summary>A KL loss at <paramref name="temperature"/> (&gt; 0).</summary>
    public KlDivergenceLoss(float temperature)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), "the temperature must be positive");
        _temperature = temperature;
    }

    /// <inheritdoc />
    public bool NeedsTeacher => true;

    /// <inheritdoc />
    public double Compute(ReadOnlySpan<float> logits, int batch, int classes, ReadOnlySpan<int> labels, ReadOnlySpan<float> teacher, Span<float> gradient)
    {
        if (teacher.Length < batch * classes) throw new ArgumentException($"the teacher gave {teacher.Length} logits for a batch of {batch}×{classes}");
        if (_teacherProbabilities.Length < classes) _teacherProbabilities = new float[classes];
        Span<float> q = _teacherProbabilities.AsSpan(0, classes);
        float t = _temperature;
        double total = 0;
        for (int n = 0; n < batch; n++)
        {
            var s = logits.Slice(n * classes, classes);
            var p = gradient.Slice(n * classes, classes);
            double studentLogZ = LogSoftmax.Row(s, t, p);
            double teacherLogZ = LogSoftmax.Row(teacher.Slice(n * classes, classes), t, q);
            for (int c = 0; c < classes; c++)
            {
                if (q[c] > 0)
                {
                    double logQ = teacher[n * classes + c] / t - teacherLogZ, logP = s[c] / t - studentLogZ;
                    total += q[c] * (logQ - logP);
                }
                p[c] = t * (p[c] - q[c]) / batch;
            }
        }
        return t * t * total / batch;
    }
}
