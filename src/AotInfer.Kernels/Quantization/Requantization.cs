using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        bool perColumnLayout = perRow || ((multipliers.Length == 1 || multipliers.Length == columns) && (bias.Length <= 1 || bias.Length == columns));
        if ((typeof(TOut) == typeof(byte) || typeof(TOut) == typeof(sbyte)) && perColumnLayout && columns >= Block && AllFinite(multipliers)
            && QuantizedMatrixMultiply.Tier >= QuantizedGemmTier.Vector128 && Vector128.IsHardwareAccelerated)
        {
            ToBytes(acc, columns, bias, multipliers, perRow, zeroPoint, MemoryMarshal.CreateSpan(ref Unsafe.As<TOut, byte>(ref MemoryMarshal.GetReference(y)), y.Length), columns,
                typeof(TOut) == typeof(sbyte), rows, columns);
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
    /// <see cref="ToInteger{TOut}"/> with per-row multipliers (one, or one per row) and no bias for a rows×columns block
    /// whose rows lie <paramref name="accStride"/> ints apart in <paramref name="acc"/> and <paramref name="yStride"/>
    /// values apart in <paramref name="y"/>: one call requantises a block of output positions of every channel (the
    /// per-row calls it replaces cost more than the conversion itself for blocks of a few hundred positions).
    /// </summary>
    public static void RowsToInteger<TOut>(ReadOnlySpan<int> acc, int accStride, ReadOnlySpan<float> multipliers, int zeroPoint, Span<TOut> y, int yStride, int rows, int columns)
        where TOut : IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        if (rows == 0 || columns == 0) return;
        if (acc.Length < (rows - 1) * accStride + columns || y.Length < (rows - 1) * yStride + columns || (multipliers.Length != 1 && multipliers.Length < rows))
            throw new ArgumentException("acc, y or the multipliers do not fit the given rows, columns and strides");
        if ((typeof(TOut) == typeof(byte) || typeof(TOut) == typeof(sbyte)) && columns >= Block && AllFinite(multipliers)
            && QuantizedMatrixMultiply.Tier >= QuantizedGemmTier.Vector128 && Vector128.IsHardwareAccelerated)
        {
            ToBytes(acc, accStride, ReadOnlySpan<int>.Empty, multipliers, true, zeroPoint, MemoryMarshal.CreateSpan(ref Unsafe.As<TOut, byte>(ref MemoryMarshal.GetReference(y)), y.Length),
                yStride, typeof(TOut) == typeof(sbyte), rows, columns);
            return;
        }
        for (int r = 0; r < rows; r++)
            ToInteger(acc.Slice(r * accStride, columns), ReadOnlySpan<int>.Empty, multipliers.Length == 1 ? multipliers : multipliers.Slice(r, 1), true, zeroPoint,
                y.Slice(r * yStride, columns), 1, columns);
    }

    /// <summary>Values <see cref="ToBytes"/> converts per step: four int32 vectors narrowed into one of bytes.</summary>
    const int Block = 16;

    /// <summary>
    /// <see cref="ToInteger{TOut}"/> into u8 or s8, 16 values at a time (a row's last 16 overlap the previous block
    /// rather than leaving a scalar tail): the same int32 bias add, float multiply, clamp to the output range
    /// (integral bounds, so clamping before rounding is the same as after), round half to even, zero point, narrow.
    /// Per-row parameters are broadcast; per-column ones are loaded (one value, or one per column).
    /// </summary>
    static void ToBytes(ReadOnlySpan<int> acc, int accStride, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, bool perRow, int zeroPoint, Span<byte> y, int yStride,
        bool signed, int rows, int columns)
    {
        var low = Vector128.Create((float)((signed ? -128 : 0) - zeroPoint));
        var high = Vector128.Create((float)((signed ? 127 : 255) - zeroPoint));
        var zero = Vector128.Create(zeroPoint);
        bool multiplierPerColumn = !perRow && multipliers.Length > 1, biasPerColumn = !perRow && bias.Length > 1;
        ref float m0 = ref MemoryMarshal.GetReference(multipliers);
        ref int b0 = ref MemoryMarshal.GetReference(bias);
        bool avx512 = QuantizedMatrixMultiply.Tier >= QuantizedGemmTier.Avx512BW && Avx512F.IsSupported;
        for (int r = 0; r < rows; r++)
        {
            ref int a = ref Unsafe.Add(ref MemoryMarshal.GetReference(acc), r * accStride);
            ref byte destination = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), r * yStride);
            float rowMultiplier = multipliers[perRow ? r % multipliers.Length : 0];
            int rowBias = bias.IsEmpty ? 0 : bias[perRow ? r % bias.Length : 0];
            if (avx512)
            {
                RowToBytesAvx512(ref a, ref b0, ref m0, rowBias, rowMultiplier, biasPerColumn, multiplierPerColumn, zeroPoint, signed, ref destination, columns);
                continue;
            }
            var scale = Vector128.Create(rowMultiplier);
            var offset = Vector128.Create(rowBias);
            for (int c = 0; ; c += Block)
            {
                if (c > columns - Block) c = columns - Block;
                var words0 = Vector128.Narrow(Quantize(ref a, ref b0, ref m0, c, offset, scale, biasPerColumn, multiplierPerColumn, low, high, zero),
                                              Quantize(ref a, ref b0, ref m0, c + 4, offset, scale, biasPerColumn, multiplierPerColumn, low, high, zero));
                var words1 = Vector128.Narrow(Quantize(ref a, ref b0, ref m0, c + 8, offset, scale, biasPerColumn, multiplierPerColumn, low, high, zero),
                                              Quantize(ref a, ref b0, ref m0, c + 12, offset, scale, biasPerColumn, multiplierPerColumn, low, high, zero));
                Vector128<byte> bytes = signed ? Vector128.Narrow(words0, words1).AsByte() : Vector128.Narrow(words0.AsUInt16(), words1.AsUInt16());
                bytes.StoreUnsafe(ref destination, (nuint)c);
                if (c == columns - Block) break;
            }
        }
    }

    /// <summary>
    /// One row of <see cref="ToBytes"/> on AVX-512, 16 values per vector: <c>vcvtps2dq</c> rounds half to even in the
    /// default rounding mode (so no separate round), and <c>vpmovdb</c> narrows the clamped values.
    /// </summary>
    static void RowToBytesAvx512(ref int acc, ref int bias, ref float multipliers, int rowBias, float rowMultiplier, bool biasPerColumn, bool multiplierPerColumn,
        int zeroPoint, bool signed, ref byte destination, int columns)
    {
        var low = Vector512.Create((float)((signed ? -128 : 0) - zeroPoint));
        var high = Vector512.Create((float)((signed ? 127 : 255) - zeroPoint));
        var zero = Vector512.Create(zeroPoint);
        var offset = Vector512.Create(rowBias);
        var scale = Vector512.Create(rowMultiplier);
        for (int c = 0; ; c += Block)
        {
            if (c > columns - Block) c = columns - Block;
            var sum = Vector512.LoadUnsafe(ref acc, (nuint)c) + (biasPerColumn ? Vector512.LoadUnsafe(ref bias, (nuint)c) : offset);
            var product = Avx512F.ConvertToVector512Single(sum) * (multiplierPerColumn ? Vector512.LoadUnsafe(ref multipliers, (nuint)c) : scale);
            var rounded = Avx512F.ConvertToVector512Int32(Avx512F.Min(Avx512F.Max(product, low), high)) + zero;
            Vector128<byte> bytes = signed ? Avx512F.ConvertToVector128SByte(rounded).AsByte() : Avx512F.ConvertToVector128Byte(rounded);
            bytes.StoreUnsafe(ref destination, (nuint)c);
            if (c == columns - Block) break;
        }
    }

    /// <summary>
    /// False when a multiplier is infinite or NaN (a zero output scale): the vector paths clamp NaN products unlike the
    /// scalar reference, so those layers take the reference.
    /// </summary>
    static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Four values of <see cref="ToBytes"/> at column <paramref name="at"/>, zero point added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<int> Quantize(ref int acc, ref int bias, ref float multipliers, int at, Vector128<int> rowBias, Vector128<float> rowMultiplier,
        bool biasPerColumn, bool multiplierPerColumn, Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint)
    {
        var sum = Vector128.LoadUnsafe(ref acc, (nuint)at) + (biasPerColumn ? Vector128.LoadUnsafe(ref bias, (nuint)at) : rowBias);
        var product = Vector128.ConvertToSingle(sum) * (multiplierPerColumn ? Vector128.LoadUnsafe(ref multipliers, (nuint)at) : rowMultiplier);
        return Vector128.ConvertToInt32(Vector128.Round(Vector128.Clamp(product, low, high))) + zeroPoint;
    }

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
