using System;
using System.Collections.Generic;
using AotInfer.Optimize.Datasets;

namespace AotInfer.Optimize.Evaluation;

/// <summary>Accuracy of one class.</summary>
/// <param name="Label">The class label.</param>
/// <param name="Count">Samples of this class.</param>
/// <param name="Correct">Samples of this class predicted correctly.</param>
public sealed record ClassAccuracy(int Label, int Count, int Correct)
{
    /// <summary>Correct / Count (0 when the class is empty).</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}

/// <summary>What <see cref="AccuracyEvaluator.Evaluate"/> measured.</summary>
/// <param name="Samples">Samples evaluated.</param>
/// <param name="Correct">Top-1 predictions equal to the label.</param>
/// <param name="ReferenceCorrect">Top-1 predictions of the reference model equal to the label (-1 without a reference).</param>
/// <param name="Agreement">Samples where model and reference predict the same class (-1 without a reference).</param>
/// <param name="PerClass">Per-class accuracy of the model.</param>
/// <param name="Seconds">Wall time of the evaluation.</param>
public sealed record EvaluationResult(int Samples, int Correct, int ReferenceCorrect, int Agreement, IReadOnlyList<ClassAccuracy> PerClass, double Seconds)
{
    /// <summary>Top-1 accuracy.</summary>
    public double Accuracy => Samples == 0 ? 0 : (double)Correct / Samples;

    /// <summary>Top-1 accuracy of the reference, or NaN.</summary>
    public double ReferenceAccuracy => ReferenceCorrect < 0 || Samples == 0 ? double.NaN : (double)ReferenceCorrect / Samples;

    /// <summary>Fraction of samples where model and reference agree, or NaN.</summary>
    public double AgreementRate => Agreement < 0 || Samples == 0 ? double.NaN : (double)Agreement / Samples;
}

/// <summary>Top-1 classification accuracy of a model (and optionally its agreement with a reference model).</summary>
public static class AccuracyEvaluator
{
    /// <summary>Runs every sample through <paramref name="model"/> (and <paramref name="reference"/>) and counts.</summary>
    public static EvaluationResult Evaluate(IModelRunner model, IModelRunner? reference, LabeledImages data, string label = "eval")
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int classes = data.ClassCount;
        var counts = new int[classes];
        var correctByClass = new int[classes];
        int correct = 0, referenceCorrect = 0, agreement = 0;
        var progress = new Progress(label, data.Count);
        for (int i = 0; i < data.Count; i++)
        {
            var sample = data.Sample(i);
            int predicted = ArgMax(model.Run(sample)[0]);
            int expected = data.Labels[i];
            counts[expected]++;
            if (predicted == expected) { correct++; correctByClass[expected]++; }
            if (reference is not null)
            {
                int referencePredicted = ArgMax(reference.Run(sample)[0]);
                if (referencePredicted == expected) referenceCorrect++;
                if (referencePredicted == predicted) agreement++;
            }
            progress.Report(i + 1);
        }
        var perClass = new List<ClassAccuracy>();
        for (int c = 0; c < classes; c++) perClass.Add(new ClassAccuracy(c, counts[c], correctByClass[c]));
        return new EvaluationResult(data.Count, correct, reference is null ? -1 : referenceCorrect, reference is null ? -1 : agreement, perClass, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Index of the largest value (the first on ties, as NumPy's argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
