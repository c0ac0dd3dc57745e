using System;
using System.Numerics;

namespace AotInfer.Kernels.Loss;

/// <summary>How a per-element loss is reduced (ONNX <c>reduction</c> attribute).</summary>
public enum LossReduction
{
    /// <summary>Keep one loss per target element.</summary>
    None,
    /// <summary>Sum of the weighted losses.</summary>
    Sum,
    /// <summary>Weighted losses divided by the sum of the weights.</summary>
    Mean,
}

/// <summary>
/// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. The input is viewed as [N, C, D] (D = product of the
/// trailing dims, 1 for 2-D input) and the target as [N, D]; an element whose target equals the ignore index
/// contributes nothing and weighs nothing. Sums run in double.
/// </summary>
public static class ClassificationLoss
{
    /// <summary>loss[n,d] = -weight[t]·logProb[n, t, d] with t = target[n,d], then reduced.</summary>
    public static void NegativeLogLikelihood<T, TIndex>(ReadOnlySpan<T> logProb, ReadOnlySpan<TIndex> target, ReadOnlySpan<T> weight,
        Span<T> loss, int n, int c, int d, LossReduction reduction, bool hasIgnoreIndex, long ignoreIndex)
        where T : IFloatingPointIeee754<T> where TIndex : IBinaryInteger<TIndex>
    {
        double total = 0, totalWeight = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                long t = long.CreateTruncating(target[i * d + j]);
                double value = 0, w = 0;
                if (!(hasIgnoreIndex && t == ignoreIndex))
                {
                    if (t < 0 || t >= c) throw new ArgumentOutOfRangeException(nameof(target), $"target {t} at [{i},{j}] is outside [0, {c})");
                    w = weight.IsEmpty ? 1 : double.CreateChecked(weight[(int)t]);
                    value = -double.CreateChecked(logProb[(i * c + (int)t) * d + j]) * w;
                }
                if (reduction == LossReduction.None) loss[i * d + j] = T.CreateChecked(value);
                total += value;
                totalWeight += w;
            }
        }
        if (reduction == LossReduction.Sum) loss[0] = T.CreateChecked(total);
        else if (reduction == LossReduction.Mean) loss[0] = T.CreateChecked(total / totalWeight);
    }

    /// <summary>logProb = log(softmax(scores)) over axis 1 of [N, C, D].</summary>
    public static void LogSoftmaxOverClasses<T>(ReadOnlySpan<T> scores, Span<T> logProb, int n, int c, int d)
        where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                int start = i * c * d + j;
                double max = double.NegativeInfinity;
                for (int k = 0; k < c; k++) max = Math.Max(max, double.CreateChecked(scores[start + k * d]));
                double sum = 0;
                for (int k = 0; k < c; k++) sum += Math.Exp(double.CreateChecked(scores[start + k * d]) - max);
                double logSum = Math.Log(sum);
                for (int k = 0; k < c; k++) logProb[start + k * d] = T.CreateChecked(double.CreateChecked(scores[start + k * d]) - max - logSum);
            }
        }
    }
}
