using System;
using System.Numerics;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// QuantizeLinear / DequantizeLinear whose quantised side is a raw tensor (float8, float4e2m1, 4-bit or 2-bit
/// integers; layout in <see cref="RawElementFormat"/>). Scales and zero points are addressed through the same
/// seven-int geometry as <see cref="LinearQuantization"/>; the zero point is raw too (empty means 0).
/// </summary>
public static class RawLinearQuantization
{
    /// <summary>
    /// Integers: y = saturate(round_half_even(x / scale) + zero_point). Float8 / float4: y = cast(x / scale +
    /// zero_point) with the ONNX Cast rounding and the <paramref name="saturate"/> rule. The division runs in double
    /// when x or the scale is double, in float otherwise, as in <see cref="LinearQuantization.Quantize"/>.
    /// </summary>
    public static void Quantize<TIn, TScale>(ReadOnlySpan<TIn> x, ReadOnlySpan<TScale> scale, ReadOnlySpan<byte> zeroPoint, Span<byte> y,
        int[] geometry, RawElementType type, bool saturate)
        where TIn : INumberBase<TIn> where TScale : INumberBase<TScale>
    {
        bool wide = typeof(TScale) == typeof(double) || typeof(TIn) == typeof(double);
        bool integer = RawElementFormat.IsInteger(type);
        // Packed elements are written by read-modify-write: clear first so the last byte's unused bits are zero.
        y.Slice(0, RawElementFormat.ByteLength(type, x.Length)).Clear();
        for (int index = 0; index < x.Length; index++)
        {
            int p = ParameterIndex(geometry, index);
            double quotient = wide
                ? double.CreateTruncating(x[index]) / double.CreateTruncating(scale[p])
                : float.CreateTruncating(x[index]) / float.CreateTruncating(scale[p]);
            double zero = zeroPoint.IsEmpty ? 0 : RawElementFormat.Decode(type, RawElementFormat.Read(type, zeroPoint, p));
            int code = integer
                ? RawElementFormat.EncodeSaturatedInteger(type, Math.Round(quotient, MidpointRounding.ToEven) + zero)
                : RawElementFormat.EncodeFloat(type, wide ? quotient + zero : (float)quotient + (float)zero, saturate);
            RawElementFormat.Write(type, y, index, code);
        }
    }

    /// <summary>y = (x − zero_point) · scale, computed in float (double when the output is double).</summary>
    public static void Dequantize<TScale, TOut>(ReadOnlySpan<byte> x, ReadOnlySpan<TScale> scale, ReadOnlySpan<byte> zeroPoint, Span<TOut> y,
        int[] geometry, RawElementType type)
        where TScale : INumberBase<TScale> where TOut : IFloatingPoint<TOut>
    {
        bool wide = typeof(TOut) == typeof(double);
        for (int index = 0; index < y.Length; index++)
        {
            int p = ParameterIndex(geometry, index);
            double value = RawElementFormat.Decode(type, RawElementFormat.Read(type, x, index));
            double zero = zeroPoint.IsEmpty ? 0 : RawElementFormat.Decode(type, RawElementFormat.Read(type, zeroPoint, p));
            y[index] = wide
                ? TOut.CreateTruncating((value - zero) * double.CreateTruncating(scale[p]))
                : TOut.CreateTruncating((float)(value - zero) * float.CreateTruncating(scale[p]));
        }
    }

    /// <summary>The scale / zero point index of element <paramref name="index"/> under the seven-int geometry.</summary>
    static int ParameterIndex(int[] geometry, int index)
    {
        int axisLength = geometry[1], inner = geometry[2], block = geometry[3];
        int i = index % inner, d = index / inner % axisLength, o = index / inner / axisLength;
        return o * geometry[4] + d / block * geometry[5] + i * geometry[6];
    }
}
