using System;
using AotInfer.Kernels.Elementwise;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// Cast to and from raw tensors (float8, float4e2m1, 4-bit and 2-bit integers; layout in
/// <see cref="RawElementFormat"/>). Decoding is exact into every numeric type; encoding rounds to nearest even
/// for the small floats and truncates and wraps for the small integers, as the ONNX Cast specification says.
/// </summary>
public static class RawCast
{
    /// <summary>y[i] = value of raw element i, converted to <typeparamref name="TOut"/>.</summary>
    public static void Decode<TOut>(ReadOnlySpan<byte> x, RawElementType type, Span<TOut> y) where TOut : unmanaged
    {
        for (int i = 0; i < y.Length; i++)
            y[i] = Conversion.One<double, TOut>(RawElementFormat.Decode(type, RawElementFormat.Read(type, x, i)));
    }

    /// <summary>
    /// Raw element i = x[i] encoded; <paramref name="saturate"/> applies to the float8 types, <paramref name="rounding"/>
    /// to float8e8m0.
    /// </summary>
    public static void Encode<TIn>(ReadOnlySpan<TIn> x, Span<byte> y, RawElementType type, bool saturate, E8M0Rounding rounding = E8M0Rounding.Up)
        where TIn : unmanaged
    {
        bool integer = RawElementFormat.IsInteger(type);
        // Packed elements are written by read-modify-write: clear first so the last byte's unused bits are zero.
        y.Slice(0, RawElementFormat.ByteLength(type, x.Length)).Clear();
        for (int i = 0; i < x.Length; i++)
        {
            double value = Conversion.One<TIn, double>(x[i]);
            int code = integer ? RawElementFormat.EncodeWrappedInteger(type, value)
                : type == RawElementType.Float8E8M0 ? RawElementFormat.EncodeE8M0(value, saturate, rounding)
                : RawElementFormat.EncodeFloat(type, value, saturate);
            RawElementFormat.Write(type, y, i, code);
        }
    }
}
