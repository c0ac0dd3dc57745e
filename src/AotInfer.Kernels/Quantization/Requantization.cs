using System;
using System.Numerics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The epilogues of integer products: int32 accumulators → output scale → round half to even → zero point →
/// saturate to u8/s8 (QLinearMatMul, QLinearConv, QGemm), or → float (MatMulIntegerToFloat, DynamicQuantizeMatMul).
/// The multiplier is computed in float as ONNX Runtime does (a_scale·b_scale / y_scale).
/// </summary>
public static class Requantization
{
    /// <summary>
    /// multipliers[j] = aScale · bScales[j] / yScale, in the scales' own precision (float16 scales multiply in
    /// float16 like the reference), for every B scale (one per tensor or one per channel). A zero yScale is passed
    /// as 1 (float outputs).
    /// </summary>
    public static void Multipliers<TScale>(TScale aScale, ReadOnlySpan<TScale> bScales, TScale yScale, Span<float> multipliers)
        where TScale : IFloatingPoint<TScale>
    {
        for (int j = 0; j < bScales.Length; j++) multipliers[j] = float.CreateTruncating(aScale * bScales[j] / yScale);
    }

    /// <summary>
    /// y[r, c] = saturate(round_half_even((acc[r, c] + bias) · multiplier) + zeroPoint) for a rows×columns block;
    /// the multiplier (and the optional int32 bias) is per row when <paramref name="perRow"/>, else per column; one
    /// multiplier means per tensor. An empty <paramref name="bias"/> means none. Per-row parameters repeat every
    /// <c>multipliers.Length</c> rows, so batched convolution output (batch × channels rows) needs no loop.
    /// </summary>
    public static void ToInteger<TOut>(ReadOnlySpan<int> acc, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, bool perRow, int zeroPoint,
        Span<TOut> y, int rows, int columns)
        where TOut : IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        float min = float.CreateTruncating(TOut.MinValue) - zeroPoint, max = float.CreateTruncating(TOut.MaxValue) - zeroPoint;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                int j = perRow ? r : c;
                int index = r * columns + c;
                float value = (acc[index] + (bias.IsEmpty ? 0 : bias[j % bias.Length])) * multipliers[j % multipliers.Length];
                value = Math.Clamp(value, min, max);
                y[index] = TOut.CreateTruncating((int)MathF.Round(value, MidpointRounding.ToEven) + zeroPoint);
            }
        }
    }

    /// <summary>
    /// y[r, c] = (acc[r, c] + intBias) · multiplier + floatBias, with per-column (or single) multipliers and biases;
    /// empty biases mean none.
    /// </summary>
    public static void ToFloat(ReadOnlySpan<int> acc, ReadOnlySpan<int> intBias, ReadOnlySpan<float> multipliers, ReadOnlySpan<float> bias, Span<float> y, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                int index = r * columns + c;
                int sum = acc[index] + (intBias.IsEmpty ? 0 : intBias[intBias.Length == 1 ? 0 : c]);
                y[index] = sum * multipliers[multipliers.Length == 1 ? 0 : c] + (bias.IsEmpty ? 0f : bias[bias.Length == 1 ? 0 : c]);
            }
        }
    }
}
