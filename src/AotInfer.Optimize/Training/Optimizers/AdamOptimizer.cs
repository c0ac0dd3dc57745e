using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AotInfer.Optimize.Training.Optimizers;

/// <summary>
/// Adam (Kingma &amp; Ba): m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², w −= lr·m̂/(√v̂ + ε) with bias-corrected m̂, v̂.
/// </summary>
public sealed class AdamOptimizer : IOptimizer
{
    readonly float _beta1, _beta2, _epsilon;
    readonly Dictionary<Parameter, (float[] M, float[] V)> _moments = new();
    int _step;

    /// <summary>Adam with the usual defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8.</summary>
    public AdamOptimizer(float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
    }

    /// <inheritdoc />
    public void Step(IReadOnlyList<Parameter> parameters, float learningRate)
    {
        _step++;
        // Bias correction folded into the step size: lr·√(1−β₂ᵗ)/(1−β₁ᵗ).
        float stepSize = learningRate * MathF.Sqrt(1 - MathF.Pow(_beta2, _step)) / (1 - MathF.Pow(_beta1, _step));
        float epsilon = _epsilon * MathF.Sqrt(1 - MathF.Pow(_beta2, _step));
        foreach (var p in parameters)
        {
            if (p.Frozen) continue;
            if (!_moments.TryGetValue(p, out var moments)) _moments[p] = moments = (new float[p.Count], new float[p.Count]);
            Update(p.Values.Span, p.Gradient.Span, moments.M, moments.V, stepSize, epsilon);
            p.ApplyMask();
        }
    }

    void Update(Span<float> w, Span<float> g, Span<float> m, Span<float> v, float stepSize, float epsilon)
    {
        float b1 = _beta1, b2 = _beta2;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var wv = MemoryMarshal.Cast<float, Vector<float>>(w);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            var eps = new Vector<float>(epsilon);
            for (int k = 0; k < wv.Length; k++)
            {
                mv[k] = mv[k] * b1 + gv[k] * (1 - b1);
                vv[k] = vv[k] * b2 + gv[k] * gv[k] * (1 - b2);
                wv[k] -= stepSize * mv[k] / (Vector.SquareRoot(vv[k]) + eps);
            }
            i = wv.Length * Vector<float>.Count;
        }
        for (; i < w.Length; i++)
        {
            m[i] = m[i] * b1 + g[i] * (1 - b1);
            v[i] = v[i] * b2 + g[i] * g[i] * (1 - b2);
            w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) + epsilon);
        }
    }
}
