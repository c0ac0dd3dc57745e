using System;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The final step of every ONNX Runtime contrib quantized kernel: a float already in the output's integer domain
/// is rounded half to even (the default MXCSR mode ONNX Runtime relies on) and saturated to the element type.
/// </summary>
public static class QLinearRounding
{
    /// <summary>Rounds <paramref name="value"/> half to even and saturates it to <typeparamref name="T"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T RoundAndSaturate<T>(float value) where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        // Clamping first keeps the float-to-int conversion in range (NaN maps to the minimum, like MINPS/MAXPS).
        float min = float.CreateTruncating(T.MinValue), max = float.CreateTruncating(T.MaxValue);
        float clamped = value >= min ? (value <= max ? value : max) : min;
        return T.CreateTruncating((int)MathF.Round(clamped, MidpointRounding.ToEven));
    }

    /// <summary>
    /// QuantizeLinear as ONNX Runtime's MLAS computes it: round(value / scale) half to even, then the zero point
    /// added and the result saturated.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Quantize<T>(float value, float scale, int zeroPoint) where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T> =>
        AddZeroPoint<T>(value / scale, zeroPoint);

    /// <summary>
    /// Rounds an already scaled value half to even, then adds the zero point and saturates (the zero point is
    /// added after rounding, which differs from rounding the sum at odd zero points).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T AddZeroPoint<T>(float scaled, int zeroPoint) where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        float min = float.CreateTruncating(T.MinValue) - zeroPoint, max = float.CreateTruncating(T.MaxValue) - zeroPoint;
        float clamped = scaled >= min ? (scaled <= max ? scaled : max) : min;
        return T.CreateTruncating((int)MathF.Round(clamped, MidpointRounding.ToEven) + zeroPoint);
    }
}
