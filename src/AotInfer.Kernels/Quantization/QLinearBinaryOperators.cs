using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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

    /// <summary>
    /// y = <see cref="Invoke(T, T)"/> element by element for same-shape inputs, 16 bytes at a time for u8 / s8 (the
    /// same float operations in the same order, so the same results; residual-connection adds are a hot spot of
    /// quantised ResNets), on 512-bit floats on the AVX-512 tier of <see cref="QuantizedMatrixMultiply.Tier"/>.
    /// </summary>
    public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
    {
        int i = 0;
        if (Unsafe.SizeOf<T>() == 1 && Vector128.IsHardwareAccelerated && a.Length >= y.Length && b.Length >= y.Length)
        {
            bool signed = typeof(T) == typeof(sbyte);
            ref byte a0 = ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(a));
            ref byte b0 = ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(b));
            ref byte y0 = ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(y));
            var ratioA = Vector128.Create(_ratioA);
            var ratioB = Vector128.Create(_ratioB);
            var fixedPart = Vector128.Create(_fixedPart);
            var low = Vector128.Create(signed ? -128f : 0f);
            var high = Vector128.Create(signed ? 127f : 255f);
            if (QuantizedMatrixMultiply.Tier == QuantizedGemmTier.Avx512BW && Avx512BW.IsSupported)
                i = InvokeAvx512(ref a0, ref b0, ref y0, y.Length, signed);
            for (; i + 16 <= y.Length; i += 16)
            {
                Vector128<byte> va = Vector128.LoadUnsafe(ref a0, (nuint)i), vb = Vector128.LoadUnsafe(ref b0, (nuint)i);
                Widen(va, signed, out var a0i, out var a1i, out var a2i, out var a3i);
                Widen(vb, signed, out var b0i, out var b1i, out var b2i, out var b3i);
                Vector128<int> Quarter(Vector128<int> x, Vector128<int> z) =>
                    Vector128.ConvertToInt32(Vector128.Round(Vector128.Clamp(fixedPart + Vector128.ConvertToSingle(x) * ratioA + Vector128.ConvertToSingle(z) * ratioB, low, high)));
                var words0 = Vector128.Narrow(Quarter(a0i, b0i), Quarter(a1i, b1i));
                var words1 = Vector128.Narrow(Quarter(a2i, b2i), Quarter(a3i, b3i));
                Vector128<byte> bytes = signed ? Vector128.Narrow(words0, words1).AsByte() : Vector128.Narrow(words0.AsUInt16(), words1.AsUInt16());
                bytes.StoreUnsafe(ref y0, (nuint)i);
            }
        }
        for (; i < y.Length; i++) y[i] = Invoke(a[i], b[i]);
    }

    /// <summary>
    /// The 16-byte steps of <see cref="Invoke(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/> on AVX-512: one
    /// <c>vpmovzxbd</c>/<c>vpmovsxbd</c> per operand, the float operations on all 16 values at once (same operations,
    /// same order), <c>vpmovdb</c> to narrow. Returns how many elements it did.
    /// </summary>
    int InvokeAvx512(ref byte a0, ref byte b0, ref byte y0, int length, bool signed)
    {
        var ratioA = Vector512.Create(_ratioA);
        var ratioB = Vector512.Create(_ratioB);
        var fixedPart = Vector512.Create(_fixedPart);
        var low = Vector512.Create(signed ? -128f : 0f);
        var high = Vector512.Create(signed ? 127f : 255f);
        int i = 0;
        for (; i + 16 <= length; i += 16)
        {
            Vector128<byte> va = Vector128.LoadUnsafe(ref a0, (nuint)i), vb = Vector128.LoadUnsafe(ref b0, (nuint)i);
            Vector512<int> ai = signed ? Avx512F.ConvertToVector512Int32(va.AsSByte()) : Avx512F.ConvertToVector512Int32(va);
            Vector512<int> bi = signed ? Avx512F.ConvertToVector512Int32(vb.AsSByte()) : Avx512F.ConvertToVector512Int32(vb);
            // vmaxps/vminps give the bound for NaN like the scalar clamp; vcvtps2dq rounds half to even (the default
            // MXCSR mode) and the clamped values are in range: no separate round, no saturating conversion fix-ups.
            var value = Avx512F.Min(Avx512F.Max(fixedPart + Vector512.ConvertToSingle(ai) * ratioA + Vector512.ConvertToSingle(bi) * ratioB, low), high);
            Vector512<int> rounded = Avx512F.ConvertToVector512Int32(value);
            Vector128<byte> bytes = signed ? Avx512F.ConvertToVector128SByte(rounded).AsByte() : Avx512F.ConvertToVector128Byte(rounded);
            bytes.StoreUnsafe(ref y0, (nuint)i);
        }
        return i;
    }

    /// <summary>Sixteen bytes (u8 or s8) widened to four vectors of int32, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Widen(Vector128<byte> v, bool signed, out Vector128<int> q0, out Vector128<int> q1, out Vector128<int> q2, out Vector128<int> q3)
    {
        if (signed)
        {
            Vector128<short> low = Vector128.WidenLower(v.AsSByte()), high = Vector128.WidenUpper(v.AsSByte());
            (q0, q1, q2, q3) = (Vector128.WidenLower(low), Vector128.WidenUpper(low), Vector128.WidenLower(high), Vector128.WidenUpper(high));
            return;
        }
        Vector128<ushort> lowU = Vector128.WidenLower(v), highU = Vector128.WidenUpper(v);
        (q0, q1, q2, q3) = (Vector128.WidenLower(lowU).AsInt32(), Vector128.WidenUpper(lowU).AsInt32(), Vector128.WidenLower(highU).AsInt32(), Vector128.WidenUpper(highU).AsInt32());
    }
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
