using System;
using AotInfer.Optimize.Training.Losses;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>The losses' values against hand-computed ones and their logit gradients against finite differences.</summary>
public class LossTests
{
    static readonly int[] Labels = { 2, 0, 3 };

    static double CheckGradient(ILoss loss, float[] logits, float[] teacher)
    {
        const int batch = 3, classes = 4;
        var gradient = new float[logits.Length];
        double value = loss.Compute(logits, batch, classes, Labels, teacher, gradient);
        var scratch = new float[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            // Losses are evaluated in double internally, so a small ε is fine here.
            const float h = 1e-3f;
            float original = logits[i];
            logits[i] = original + h;
            double plus = loss.Compute(logits, batch, classes, Labels, teacher, scratch);
            logits[i] = original - h;
            double minus = loss.Compute(logits, batch, classes, Labels, teacher, scratch);
            logits[i] = original;
            double numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) < 2e-3 + 1e-2 * Math.Abs(numeric), $"logit {i}: analytic {gradient[i]}, numeric {numeric}");
        }
        return value;
    }

    [Fact]
    public void CrossEntropyValueAndGradient()
    {
        var logits = GradientCheck.RandomValues(1, 12, 2f);
        double value = CheckGradient(new CrossEntropyLoss(), logits, Array.Empty<float>());
        double expected = 0;
        for (int n = 0; n < 3; n++)
        {
            double z = 0;
            for (int c = 0; c < 4; c++) z += Math.Exp(logits[n * 4 + c]);
            expected += Math.Log(z) - logits[n * 4 + Labels[n]];
        }
        Assert.Equal(expected / 3, value, 5);
    }

    [Fact]
    public void CrossEntropyRejectsLabelsOutsideTheClasses()
    {
        var e = Assert.Throws<ArgumentException>(() => new CrossEntropyLoss().Compute(new float[4], 1, 4, new[] { 7 }, default, new float[4]));
        Assert.Contains("label 7", e.Message);
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(4f)]
    public void KlDivergenceWithTemperatureValueAndGradient(float temperature)
    {
        var logits = GradientCheck.RandomValues(2, 12, 3f);
        var teacher = GradientCheck.RandomValues(3, 12, 3f);
        double value = CheckGradient(new KlDivergenceLoss(temperature), logits, teacher);
        Assert.True(value > 0);
        // Identical logits: zero divergence.
        Assert.Equal(0, new KlDivergenceLoss(temperature).Compute(teacher, 3, 4, Labels, teacher, new float[12]), 6);
    }

    [Fact]
    public void DistillationMixesSoftAndHardLosses()
    {
        var logits = GradientCheck.RandomValues(4, 12, 2f);
        var teacher = GradientCheck.RandomValues(5, 12, 2f);
        double mixed = CheckGradient(new DistillationLoss(3f, 0.7f), logits, teacher);
        double soft = new KlDivergenceLoss(3f).Compute(logits, 3, 4, Labels, teacher, new float[12]);
        double hard = new CrossEntropyLoss().Compute(logits, 3, 4, Labels, teacher, new float[12]);
        Assert.Equal(0.7 * soft + 0.3 * hard, mixed, 6);
    }
}
