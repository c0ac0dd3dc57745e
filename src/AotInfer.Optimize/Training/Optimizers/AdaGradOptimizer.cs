using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AotInfer.Optimize.Training.Optimizers;

/// <summary>AdaGrad (Duchi et al.): s += g², w −= lr·g/(√s + ε); rarely updated weights keep large steps.</summary>
public sealed class AdaGradOptimizer : IOptimizer
{
    const float Epsilon = 1e-10f;
    readonly Dictionary<Parameter, float[]> _squares = new();

    /// <inheritdoc />
    public void Step(IReadOnlyList<Parameter> parameters, float learningRate)
    {
        foreach (var p in parameters)
        {
            if (p.Frozen) continue;
            if (!_squares.TryGetValue(p, out var squares)) _squares[p] = squares = new float[p.Count];
            Span<float> w = p.Values.Span, g = p.Gradient.Span, s = squares;
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var wv = MemoryMarshal.Cast<float, Vector<float>>(w);
                var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
                var sv = MemoryMarshal.Cast<float, Vector<float>>(s);
                for (int k = 0; k < wv.Length; k++)
                {
                    sv[k] += gv[k] * gv[k];
                    wv[k] -= learningRate * gv[k] / (Vector.SquareRoot(sv[k]) + new Vector<float>(Epsilon));
                }
                i = wv.Length * Vector<float>.Count;
            }
            for (; i < w.Length; i++)
            {
                s[i] += g[i] * g[i];
                w[i] -= learningRate * g[i] / (MathF.Sqrt(s[i]) + Epsilon);
            }
            p.ApplyMask();
        }
    }
}
