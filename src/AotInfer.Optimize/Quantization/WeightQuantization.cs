using System;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Quantization;

/// <summary>A weight quantised to int8: values and one scale per tensor or per output unit (zero points are all 0).</summary>
/// <param name="Values">int8 values in the layer's weight layout.</param>
/// <param name="Scales">One scale, or one per output unit (<see cref="WeightedLayer.OutputCount"/>).</param>
public sealed record QuantizedWeight(sbyte[] Values, float[] Scales)
{
    /// <summary>The scale that applies to output unit <paramref name="unit"/>.</summary>
    public float ScaleOf(int unit) => Scales.Length == 1 ? Scales[0] : Scales[unit];
}

/// <summary>Symmetric int8 weight quantisation, shared by the QDQ, QOperator and dynamic writers.</summary>
public static class WeightQuantization
{
    /// <summary>
    /// Quantises <paramref name="w"/> (the weight of <paramref name="layer"/>) to [-127, 127] with scale
    /// max|w| / 127 per tensor or per output unit. The range is symmetric and excludes -128 so that int8 products
    /// never overflow the pairwise int16 sums of VNNI-style kernels.
    /// </summary>
    public static QuantizedWeight Symmetric(float[] w, WeightedLayer layer, bool perChannel)
    {
        int channels = perChannel ? layer.OutputCount : 1;
        var scales = new float[channels];
        var absMax = new double[channels];
        for (int u = 0; u < layer.OutputCount; u++)
            for (int j = 0; j < layer.UnitSize; j++)
            {
                int c = perChannel ? u : 0;
                absMax[c] = Math.Max(absMax[c], Math.Abs(w[layer.Index(u, j)]));
            }
        for (int c = 0; c < channels; c++) scales[c] = absMax[c] > 0 ? (float)(absMax[c] / 127) : 1;
        var q = new sbyte[w.Length];
        for (int u = 0; u < layer.OutputCount; u++)
        {
            double scale = scales[perChannel ? u : 0];
            for (int j = 0; j < layer.UnitSize; j++)
            {
                int index = layer.Index(u, j);
                q[index] = (sbyte)Math.Clamp((int)Math.Round(w[index] / scale), -127, 127);
            }
        }
        return new QuantizedWeight(q, scales);
    }

    /// <summary>The bias as int32 in the accumulator's scale (input scale × weight scale of each output unit).</summary>
    public static int[] Bias(float[] bias, float inputScale, QuantizedWeight weight)
    {
        var result = new int[bias.Length];
        for (int u = 0; u < bias.Length; u++)
        {
            double scale = (double)inputScale * weight.ScaleOf(u);
            result[u] = (int)Math.Clamp(Math.Round(bias[u] / scale), int.MinValue, int.MaxValue);
        }
        return result;
    }
}
