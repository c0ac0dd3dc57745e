using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Quantization;

namespace AotInfer.Optimize.Training.Quantization;

/// <summary>
/// Fake-quantised weights for quantisation-aware training: before each forward pass every layer weight is replaced by
/// its symmetric int8 quantisation (per output channel or per tensor, exactly <see cref="WeightQuantization.Symmetric"/>,
/// which the QDQ export uses) dequantised back to float; before the optimiser step the float weights come back. The
/// gradient computed at the quantised weights is applied to the float ones: the straight-through estimator (nothing is
/// clamped, since the scale covers the largest weight).
/// </summary>
public sealed class FakeQuantizedWeights : ITrainingHook
{
    readonly Dictionary<string, WeightedLayer> _layers;
    readonly bool _perChannel;
    readonly Dictionary<string, float[]> _float = new(StringComparer.Ordinal);

    /// <summary>Fake-quantises the weights of <paramref name="layers"/>.</summary>
    public FakeQuantizedWeights(IEnumerable<WeightedLayer> layers, bool perChannel)
    {
        _layers = layers.GroupBy(l => l.WeightName).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        _perChannel = perChannel;
    }

    /// <inheritdoc />
    public void BeforeForward(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            if (!_layers.TryGetValue(p.Name, out var layer)) continue;
            if (!_float.TryGetValue(p.Name, out var master)) _float[p.Name] = master = new float[p.Count];
            p.Values.Span.CopyTo(master);
            Quantize(master, layer, _perChannel, p.Values.Span);
        }
    }

    /// <inheritdoc />
    public void BeforeStep(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
            if (_float.TryGetValue(p.Name, out var master)) master.AsSpan(0, p.Count).CopyTo(p.Values.Span);
    }

    /// <inheritdoc />
    public void AfterSteps(IReadOnlyList<Parameter> parameters) { }

    /// <summary>Writes the dequantised int8 version of <paramref name="weights"/> into <paramref name="output"/>.</summary>
    public static void Quantize(float[] weights, WeightedLayer layer, bool perChannel, Span<float> output)
    {
        var q = WeightQuantization.Symmetric(weights, layer, perChannel);
        for (int u = 0; u < layer.OutputCount; u++)
        {
            float scale = q.ScaleOf(perChannel ? u : 0);
            for (int j = 0; j < layer.UnitSize; j++)
            {
                int index = layer.Index(u, j);
                output[index] = q.Values[index] * scale;
            }
        }
    }
}
