using System;
using System.Collections.Generic;

namespace AotInfer.Optimize.Training;

/// <summary>
/// L1 and L2 penalties on the weights (not biases or normalisation parameters), added to the gradient before the
/// optimiser step: g += λ₂·w + λ₁·sign(w). L2 is weight decay; L1 pushes small weights to zero, which helps pruning.
/// </summary>
public sealed record Regularization(float L1, float L2)
{
    /// <summary>No penalty.</summary>
    public static Regularization None { get; } = new(0, 0);

    /// <summary>Adds the penalties' gradients to every weight's gradient.</summary>
    public void AddGradients(IReadOnlyList<Parameter> parameters)
    {
        if (L1 == 0 && L2 == 0) return;
        foreach (var p in parameters)
        {
            if (p.Role != ParameterRole.Weight || p.Frozen) continue;
            Span<float> w = p.Values.Span, g = p.Gradient.Span;
            for (int i = 0; i < w.Length; i++) g[i] += L2 * w[i] + L1 * MathF.Sign(w[i]);
        }
    }

    /// <summary>The penalty itself, λ₁·Σ|w| + λ₂/2·Σw², for reporting.</summary>
    public double Penalty(IReadOnlyList<Parameter> parameters)
    {
        if (L1 == 0 && L2 == 0) return 0;
        double sum = 0;
        foreach (var p in parameters)
        {
            if (p.Role != ParameterRole.Weight) continue;
            foreach (float w in p.Values.Span) sum += L1 * Math.Abs(w) + 0.5 * L2 * w * w;
        }
        return sum;
    }
}
