using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        if (bias.IsEmpty && (typeof(TOut) == typeof(byte) || typeof(TOut) == typeof(sbyte)))
        {
            ToBytes(acc, multipliers, perRow, zeroPoint, MemoryMarshal.CreateSpan(ref Unsafe.As<TOut, byte>(ref MemoryMarshal.GetReference(y)), y.Length), typeof(TOut) == typeof(sbyte), rows, columns);
            return;
        }
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
    /// <see cref="ToInteger{TOut}"/> without bias into u8 or s8, 16 values at a time: the same float multiply,
    /// clamp to the output range (integral bounds, so clamping before rounding is the same as after), round half to
    /// even, add the zero point, narrow.
    /// </summary>
    static void ToBytes(ReadOnlySpan<int> acc, ReadOnlySpan<float> multipliers, bool perRow, int zeroPoint, Span<byte> y, bool signed, int rows, int columns)
    {
        float min = (signed ? -128 : 0) - zeroPoint, max = (signed ? 127 : 255) - zeroPoint;
        var low = Vector128.Create(min);
        var high = Vector128.Create(max);
        var zero = Vector128.Create(zeroPoint);
        bool perColumn = !perRow && multipliers.Length > 1;
        ref float m0 = ref MemoryMarshal.GetReference(multipliers);
        for (int r = 0; r < rows; r++)
        {
            ref int a = ref Unsafe.Add(ref MemoryMarshal.GetReference(acc), r * columns);
            ref byte destination = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), r * columns);
            float rowMultiplier = multipliers[perRow ? r % multipliers.Length : 0];
            var scale = Vector128.Create(rowMultiplier);
            int c = 0;
            for (; c + 16 <= columns; c += 16)
            {
                var words0 = Vector128.Narrow(Quantize(ref a, c, perColumn ? Vector128.LoadUnsafe(ref m0, (nuint)c) : scale, low, high, zero),
                                              Quantize(ref a, c + 4, perColumn ? Vector128.LoadUnsafe(ref m0, (nuint)c + 4) : scale, low, high, zero));
                var words1 = Vector128.Narrow(Quantize(ref a, c + 8, perColumn ? Vector128.LoadUnsafe(ref m0, (nuint)c + 8) : scale, low, high, zero),
                                              Quantize(ref a, c + 12, perColumn ? Vector128.LoadUnsafe(ref m0, (nuint)c + 12) : scale, low, high, zero));
                Vector128<byte> bytes = signed ? Vector128.Narrow(words0, words1).AsByte() : Vector128.Narrow(words0.AsUInt16(), words1.AsUInt16());
                bytes.StoreUnsafe(ref destination, (nuint)c);
            }
            for (; c < columns; c++)
            {
                float value = Math.Clamp(Unsafe.Add(ref a, c) * (perColumn ? multipliers[c] : rowMultiplier), min, max);
                Unsafe.Add(ref destination, c) = (byte)((int)MathF.Round(value, MidpointRounding.ToEven) + zeroPoint);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<int> Quantize(ref int acc, int at, Vector128<float> multiplier, Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint) =>
        Vector128.ConvertToInt32(Vector128.Round(Vector128.Clamp(Vector128.ConvertToSingle(Vector128.LoadUnsafe(ref acc, (nuint)at)) * multiplier, low, high))) + zeroPoint;

    /// <summary>
    /// y[r, c] = (acc[r, c] + intBias) · (aScale · bScale) + floatBias, with per-column (or single) B scales and biases;
    /// empty biases mean none. The multiplier aScale · bScale is the float product <see cref="Multipliers{TScale}"/>
    /// forms (pass aScale = 1 with ready multipliers). Eight columns at a time with the scalar operations in the same
    /// order (int add, convert, multiply, add: never fused into an FMA), so every value is the one the scalar loop computes.
    /// </summary>
    public static void ToFloat(ReadOnlySpan<int> acc, ReadOnlySpan<int> intBias, float aScale, ReadOnlySpan<float> bScales, ReadOnlySpan<float> bias, Span<float> y, int rows, int columns)
    {
        var multipliers = bScales;
        if (rows == 0 || columns == 0) return;
        if (acc.Length < rows * columns || y.Length < rows * columns) throw new ArgumentException("acc or y is shorter than rows × columns");
        bool intPerColumn = intBias.Length > 1, scalePerColumn = multipliers.Length > 1, biasPerColumn = bias.Length > 1;
        if (intPerColumn && intBias.Length < columns || scalePerColumn && multipliers.Length < columns || biasPerColumn && bias.Length < columns)
            throw new ArgumentException("a per-column bias or multiplier is shorter than the columns");
        int intValue = intBias.IsEmpty ? 0 : intBias[0];
        float scaleValue = aScale * multipliers[0], biasValue = bias.IsEmpty ? 0f : bias[0];
        var va = Vector256.Create(aScale);
        ref int i0 = ref MemoryMarshal.GetReference(intBias);
        ref float m0 = ref MemoryMarshal.GetReference(multipliers);
        ref float b0 = ref MemoryMarshal.GetReference(bias);
        for (int r = 0; r < rows; r++)
        {
            ref int a = ref Unsafe.AsRef(in acc[r * columns]);
            ref float destination = ref y[r * columns];
            int c = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<int> vi = Vector256.Create(intValue);
                Vector256<float> vm = Vector256.Create(scaleValue), vb = Vector256.Create(biasValue);
                for (; c + 8 <= columns; c += 8)
                {
                    var sum = Vector256.LoadUnsafe(ref a, (nuint)c) + (intPerColumn ? Vector256.LoadUnsafe(ref i0, (nuint)c) : vi);
                    var value = Vector256.ConvertToSingle(sum) * (scalePerColumn ? va * Vector256.LoadUnsafe(ref m0, (nuint)c) : vm);
                    (value + (biasPerColumn ? Vector256.LoadUnsafe(ref b0, (nuint)c) : vb)).StoreUnsafe(ref destination, (nuint)c);
                }
            }
            for (; c < columns; c++)
            {
                int sum = Unsafe.Add(ref a, c) + (intPerColumn ? intBias[c] : intValue);
                Unsafe.Add(ref destination, c) = sum * (scalePerColumn ? aScale * multipliers[c] : scaleValue) + (biasPerColumn ? bias[c] : biasValue);
            }
        }
    }
}
