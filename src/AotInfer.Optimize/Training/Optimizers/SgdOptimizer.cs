using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AotInfer.Optimize.Training.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional momentum (PyTorch's form: v = μv + g, w −= lr·v) and Nesterov's variant
/// (w −= lr·(g + μv)).
/// </summary>
public sealed class SgdOptimizer : IOptimizer
{
    readonly float _momentum;
    readonly bool _nesterov;
    readonly Dictionary<Parameter, float[]> _velocity = new();

    /// <summary>Plain SGD when <paramref name="momentum"/> is 0.</summary>
    public SgdOptimizer(float momentum, bool nesterov)
    {
        if (momentum < 0 || momentum >= 1) throw new ArgumentOutOfRangeException(nameof(momentum), "momentum must be in [0, 1)");
        _momentum = momentum;
        _nesterov = nesterov;
    }

    /// <inheritdoc />
    public void Step(IReadOnlyList<Parameter> parameters, float learningRate)
    {
        foreach (var p in parameters)
        {
            if (p.Frozen) continue;
            Span<float> w = p.Values.Span, g = p.Gradient.Span;
            if (_momentum == 0)
            {
                Kernels.Convolution.VectorMath.MultiplyAdd(w, g, -learningRate);
            }
            else
            {
                if (!_velocity.TryGetValue(p, out var velocity)) _velocity[p] = velocity = new float[p.Count];
                Update(w, g, velocity, learningRate);
            }
            p.ApplyMask();
        }
    }

    void Update(Span<float> w, Span<float> g, Span<float> v, float lr)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var wv = MemoryMarshal.Cast<float, Vector<float>>(w);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            for (int k = 0; k < wv.Length; k++)
            {
                vv[k] = vv[k] * _momentum + gv[k];
                wv[k] -= lr * (_nesterov ? gv[k] + vv[k] * _momentum : vv[k]);
            }
            i = wv.Length * Vector<float>.Count;
        }
        for (; i < w.Length; i++)
        {
            v[i] = v[i] * _momentum + g[i];
            w[i] -= lr * (_nesterov ? g[i] + v[i] * _momentum : v[i]);
        }
    }
}
