using System;

namespace AotInfer.Optimize.Training.Losses;

/// <summary>
/// Softmax cross-entropy on logits: L = mean over the batch of −log softmax(z)[label]; dL/dz = (softmax(z) − onehot)/N.
/// </summary>
public sealed class CrossEntropyLoss : ILoss
{
    /// <inheritdoc />
    public bool NeedsTeacher => false;

    /// <inheritdoc />
    public double Compute(ReadOnlySpan<float> logits, int batch, int classes, ReadOnlySpan<int> labels, ReadOnlySpan<float> teacher, Span<float> gradient)
    {
        double total = 0;
        float inverseBatch = 1f / batch;
        for (int n = 0; n < batch; n++)
        {
            int label = labels[n];
            if ((uint)label >= (uint)classes) throw new ArgumentException($"label {label} of batch sample {n} is outside the model's {classes} classes");
            var row = logits.Slice(n * classes, classes);
            var g = gradient.Slice(n * classes, classes);
            double logPartition = LogSoftmax.Row(row, 1f, g);
            total += logPartition - row[label];
            for (int c = 0; c < classes; c++) g[c] *= inverseBatch;
            g[label] -= inverseBatch;
        }
        return total / batch;
    }
}
