using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear over run-time tensors. The quantisation parameters
/// (scale, zero point) are addressed through a geometry of seven ints computed at compile time:
/// <c>{ outer, axisLength, inner, blockSize, scaleStrideOuter, scaleStrideAxisBlock, scaleStrideInner }</c>: the
/// element at (o, d, i) of x viewed as [outer, axisLength, inner] uses parameter index
/// <c>o·so + (d / blockSize)·sd + i·si</c>. Per-tensor quantisation has all strides 0, per-axis sd = 1, blocked
/// quantisation so = ⌈axisLength / blockSize⌉·inner, sd = inner, si = 1.
/// </summary>
public static class LinearQuantization
{
    /// <summary>
    /// y = saturate(round_half_even(x / scale) + zero_point). An empty <paramref name="zeroPoint"/> means 0. The
    /// division runs in double when the scale is double, in float otherwise (as ONNX Runtime and the reference do).
    /// </summary>
    public static void Quantize<TIn, TScale, TOut>(ReadOnlySpan<TIn> x, ReadOnlySpan<TScale> scale, ReadOnlySpan<TOut> zeroPoint, Span<TOut> y, int[] geometry)
        where TIn : INumberBase<TIn> where TScale : INumberBase<TScale> where TOut : IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        int outer = geometry[0], axisLength = geometry[1], inner = geometry[2], block = geometry[3];
        int so = geometry[4], sd = geometry[5], si = geometry[6];
        double min = double.CreateTruncating(TOut.MinValue), max = double.CreateTruncating(TOut.MaxValue);
        bool wide = typeof(TScale) == typeof(double) || typeof(TIn) == typeof(double);
        // float → u8/s8 with one scale per run of inner elements: the vector path (LinearQuantizationRuns).
        bool runs = typeof(TIn) == typeof(float) && typeof(TScale) == typeof(float) && (typeof(TOut) == typeof(byte) || typeof(TOut) == typeof(sbyte)) && si == 0 && inner >= 16;
        int index = 0;
        for (int o = 0; o < outer; o++)
        {
            for (int d = 0; d < axisLength; d++)
            {
                int parameterBase = o * so + d / block * sd;
                if (runs && LinearQuantizationRuns.Quantize(Run<TIn, float>(x, index, inner), float.CreateTruncating(scale[parameterBase]),
                        zeroPoint.IsEmpty ? 0 : int.CreateTruncating(zeroPoint[parameterBase]), Run<TOut, byte>(y, index, inner), typeof(TOut) == typeof(sbyte)))
                {
                    index += inner;
                    continue;
                }
                for (int i = 0; i < inner; i++, index++)
                {
                    int p = parameterBase + i * si;
                    double quotient = wide
                        ? double.CreateTruncating(x[index]) / double.CreateTruncating(scale[p])
                        : float.CreateTruncating(x[index]) / float.CreateTruncating(scale[p]);
                    double zero = zeroPoint.IsEmpty ? 0 : double.CreateTruncating(zeroPoint[p]);
                    double value = Math.Round(quotient, MidpointRounding.ToEven) + zero;
                    // NaN quantises to the zero point's lower bound like numpy's clip of a NaN cast; infinities saturate.
                    y[index] = TOut.CreateTruncating(double.IsNaN(value) ? min : Math.Clamp(value, min, max));
                }
            }
        }
    }

    /// <summary>y = (x − zero_point) · scale, computed in float (double when the output is double).</summary>
    public static void Dequantize<TIn, TScale, TOut>(ReadOnlySpan<TIn> x, ReadOnlySpan<TScale> scale, ReadOnlySpan<TIn> zeroPoint, Span<TOut> y, int[] geometry)
        where TIn : INumberBase<TIn> where TScale : INumberBase<TScale> where TOut : IFloatingPoint<TOut>
    {
        int outer = geometry[0], axisLength = geometry[1], inner = geometry[2], block = geometry[3];
        int so = geometry[4], sd = geometry[5], si = geometry[6];
        bool wide = typeof(TOut) == typeof(double);
        // u8/s8 → float with one scale per run of inner elements: the vector path (LinearQuantizationRuns).
        bool runs = (typeof(TIn) == typeof(byte) || typeof(TIn) == typeof(sbyte)) && typeof(TScale) == typeof(float) && typeof(TOut) == typeof(float) && si == 0 && inner >= 16;
        int index = 0;
        for (int o = 0; o < outer; o++)
        {
            for (int d = 0; d < axisLength; d++)
            {
                int parameterBase = o * so + d / block * sd;
                if (runs && LinearQuantizationRuns.Dequantize(Run<TIn, byte>(x, index, inner), typeof(TIn) == typeof(sbyte),
                        zeroPoint.IsEmpty ? 0 : int.CreateTruncating(zeroPoint[parameterBase]), float.CreateTruncating(scale[parameterBase]), Run<TOut, float>(y, index, inner)))
                {
                    index += inner;
                    continue;
                }
                for (int i = 0; i < inner; i++, index++)
                {
                    int p = parameterBase + i * si;
                    if (wide)
                    {
                        double centred = double.CreateTruncating(x[index]) - (zeroPoint.IsEmpty ? 0 : double.CreateTruncating(zeroPoint[p]));
                        y[index] = TOut.CreateTruncating(centred * double.CreateTruncating(scale[p]));
                    }
                    else
                    {
                        float centred = float.CreateTruncating(x[index]) - (zeroPoint.IsEmpty ? 0 : float.CreateTruncating(zeroPoint[p]));
                        y[index] = TOut.CreateTruncating(centred * float.CreateTruncating(scale[p]));
                    }
                }
            }
        }
    }

    /// <summary><paramref name="count"/> elements of <paramref name="values"/> from <paramref name="start"/>, seen as <typeparamref name="TAs"/> (the same type, checked by the caller).</summary>
    static Span<TAs> Run<T, TAs>(Span<T> values, int start, int count) =>
        MemoryMarshal.CreateSpan(ref Unsafe.As<T, TAs>(ref values[start]), count);

    /// <inheritdoc cref="Run{T, TAs}(Span{T}, int, int)"/>
    static ReadOnlySpan<TAs> Run<T, TAs>(ReadOnlySpan<T> values, int start, int count) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<T, TAs>(ref MemoryMarshal.GetReference(values.Slice(start))), count);

    /// <summary>
    /// DynamicQuantizeLinear: uint8 quantisation of x over the range [min(0, min x), max(0, max x)]:
    /// scale = range / 255, zero point = saturate(round(−min / scale)), y = saturate(round(x / scale) + zero point).
    /// A tensor of zeros gets scale 0, zero point 0 and zeros. The scan and the quantisation run 32 values at a time
    /// with the scalar formula's operations (division, not a reciprocal multiply; round half to even), so both agree
    /// bit for bit.
    /// </summary>
    public static void DynamicQuantize(ReadOnlySpan<float> x, Span<byte> y, Span<float> scale, Span<byte> zeroPoint)
    {
        var (min, max) = Range(x);
        float s = (max - min) / 255f;
        scale[0] = s;
        if (s == 0)
        {
            zeroPoint[0] = 0;
            y.Slice(0, x.Length).Clear();
            return;
        }
        float zero = Math.Clamp(MathF.Round((0 - min) / s, MidpointRounding.ToEven), 0f, 255f);
        zeroPoint[0] = (byte)zero;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            if (y.Length < x.Length) throw new ArgumentException("y is shorter than x");
            ref float source = ref MemoryMarshal.GetReference(x);
            ref byte destination = ref MemoryMarshal.GetReference(y);
            Vector256<float> vs = Vector256.Create(s), vz = Vector256.Create(zero), high = Vector256.Create(255f);
            for (; i + 32 <= x.Length; i += 32)
            {
                var w0 = Vector256.Narrow(QuantizeToInt(ref source, i, vs, vz, high), QuantizeToInt(ref source, i + 8, vs, vz, high));
                var w1 = Vector256.Narrow(QuantizeToInt(ref source, i + 16, vs, vz, high), QuantizeToInt(ref source, i + 24, vs, vz, high));
                Vector256.Narrow(w0.AsUInt16(), w1.AsUInt16()).StoreUnsafe(ref destination, (nuint)i);
            }
        }
        for (; i < x.Length; i++)
            y[i] = (byte)Math.Clamp(MathF.Round(x[i] / s, MidpointRounding.ToEven) + zero, 0f, 255f);
    }

    /// <summary>clamp(round_half_even(x / scale) + zero, 0, 255) for 8 values, as int32 (0…255, so narrowing is exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> QuantizeToInt(ref float x, int at, Vector256<float> scale, Vector256<float> zero, Vector256<float> high) =>
        Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.LoadUnsafe(ref x, (nuint)at) / scale) + zero, Vector256<float>.Zero), high));

    /// <summary>(min(0, min x), max(0, max x)); a NaN anywhere makes both NaN, as the scalar MathF.Min/Max chain does.</summary>
    static (float Min, float Max) Range(ReadOnlySpan<float> x)
    {
        float min = 0, max = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            ref float source = ref MemoryMarshal.GetReference(x);
            Vector256<float> vmin = Vector256<float>.Zero, vmax = Vector256<float>.Zero;
            for (; i + 8 <= x.Length; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref source, (nuint)i);
                vmin = Vector256.Min(vmin, v);
                vmax = Vector256.Max(vmax, v);
            }
            for (int lane = 0; lane < 8; lane++)
            {
                min = MathF.Min(min, vmin[lane]);
                max = MathF.Max(max, vmax[lane]);
            }
        }
        for (; i < x.Length; i++)
        {
            min = MathF.Min(min, x[i]);
            max = MathF.Max(max, x[i]);
        }
        return (min, max);
    }
}
