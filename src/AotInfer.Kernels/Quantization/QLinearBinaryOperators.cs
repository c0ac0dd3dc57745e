using System.Numerics;
using System.Runtime.CompilerServices;
using AotInfer.Kernels.Elementwise;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// com.microsoft QLinearAdd on 8-bit values, as ONNX Runtime's MLAS computes it:
/// c = round(fixedPart + a·(sa/sc) + b·(sb/sc)) saturated, where
/// fixedPart = zc − (sa/sc·za + sb/sc·zb). Driven by the shared broadcasting loop.
/// </summary>
public readonly struct QLinearAddOperator<T> : IBinaryOperator<T, T> where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
{
    readonly float _ratioA, _ratioB, _fixedPart;

    /// <summary>Creates the operator from the scales and zero points (all compile-time constants).</summary>
    public QLinearAddOperator(float scaleA, int zeroPointA, float scaleB, int zeroPointB, float scaleC, int zeroPointC)
    {
        _ratioA = scaleA / scaleC;
        _ratioB = scaleB / scaleC;
        _fixedPart = zeroPointC - (_ratioA * zeroPointA + _ratioB * zeroPointB);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke(T a, T b) =>
        QLinearRounding.RoundAndSaturate<T>(_fixedPart + float.CreateTruncating(a) * _ratioA + float.CreateTruncating(b) * _ratioB);
}

/// <summary>
/// com.microsoft QLinearMul on 8-bit values: c = round((a − za)·(b − zb)·(sa·sb/sc)) + zc, saturated (the
/// product of two centred 8-bit values is exact in float; one multiplication by the combined scale rounds it).
/// </summary>
public readonly struct QLinearMulOperator<T> : IBinaryOperator<T, T> where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
{
    readonly float _scale;
    readonly int _zeroPointA, _zeroPointB, _zeroPointC;

    /// <summary>Creates the operator from the scales and zero points (all compile-time constants).</summary>
    public QLinearMulOperator(float scaleA, int zeroPointA, float scaleB, int zeroPointB, float scaleC, int zeroPointC)
    {
        _scale = scaleA * scaleB / scaleC;
        _zeroPointA = zeroPointA;
        _zeroPointB = zeroPointB;
        _zeroPointC = zeroPointC;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Invoke(T a, T b)
    {
        int product = (int.CreateTruncating(a) - _zeroPointA) * (int.CreateTruncating(b) - _zeroPointB);
        return QLinearRounding.AddZeroPoint<T>(product * _scale, _zeroPointC);
    }
}
