using System;
using System.Runtime.CompilerServices;

namespace AotInfer.Kernels.Elementwise;

/// <summary>
/// Element type conversion with C semantics (as ONNX Runtime's Cast on x86-64): float to integer truncates (NaN and
/// out-of-range values give the hardware's "integer indefinite", see <see cref="TruncateToInt64"/>), integer to
/// integer wraps, anything to bool is "non-zero". The <c>typeof</c> tests fold away when the JIT or NativeAOT
/// specialises a pair of types, leaving one direct conversion in the loop.
/// </summary>
public static class Conversion
{
    /// <summary>y[i] = (TOut)x[i].</summary>
    public static void Convert<TIn, TOut>(ReadOnlySpan<TIn> x, Span<TOut> y) where TIn : unmanaged where TOut : unmanaged
    {
        if (x.Length != y.Length) throw new ArgumentException("input and output lengths differ");
        for (int i = 0; i < x.Length; i++) y[i] = One<TIn, TOut>(x[i]);
    }

    /// <summary>Converts one value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TOut One<TIn, TOut>(TIn value) where TIn : unmanaged where TOut : unmanaged
    {
        if (typeof(TIn) == typeof(TOut)) return Unsafe.As<TIn, TOut>(ref value);
        if (IsFloat<TIn>()) return FromDouble<TOut>(ToDouble(value));
        if (typeof(TIn) == typeof(ulong)) return FromUInt64<TOut>(Unsafe.As<TIn, ulong>(ref value));
        return FromInt64<TOut>(ToInt64(value));
    }

    static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);

    static double ToDouble<T>(T v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Unsafe.As<T, float>(ref v);
        if (typeof(T) == typeof(double)) return Unsafe.As<T, double>(ref v);
        if (typeof(T) == typeof(Half)) return (double)Unsafe.As<T, Half>(ref v);
        throw new NotSupportedException(typeof(T).Name);
    }

    static long ToInt64<T>(T v) where T : unmanaged
    {
        if (typeof(T) == typeof(bool)) return Unsafe.As<T, bool>(ref v) ? 1 : 0;
        if (typeof(T) == typeof(sbyte)) return Unsafe.As<T, sbyte>(ref v);
        if (typeof(T) == typeof(byte)) return Unsafe.As<T, byte>(ref v);
        if (typeof(T) == typeof(short)) return Unsafe.As<T, short>(ref v);
        if (typeof(T) == typeof(ushort)) return Unsafe.As<T, ushort>(ref v);
        if (typeof(T) == typeof(int)) return Unsafe.As<T, int>(ref v);
        if (typeof(T) == typeof(uint)) return Unsafe.As<T, uint>(ref v);
        if (typeof(T) == typeof(long)) return Unsafe.As<T, long>(ref v);
        throw new NotSupportedException(typeof(T).Name);
    }

    static TOut FromDouble<TOut>(double d) where TOut : unmanaged
    {
        if (typeof(TOut) == typeof(float)) { float r = (float)d; return Unsafe.As<float, TOut>(ref r); }
        if (typeof(TOut) == typeof(double)) return Unsafe.As<double, TOut>(ref d);
        if (typeof(TOut) == typeof(Half)) { Half r = (Half)d; return Unsafe.As<Half, TOut>(ref r); }
        if (typeof(TOut) == typeof(bool)) { bool r = d != 0; return Unsafe.As<bool, TOut>(ref r); }
        if (typeof(TOut) == typeof(ulong)) { ulong r = d >= TwoPow63 && d < 2 * TwoPow63 ? (ulong)d : unchecked((ulong)TruncateToInt64(d)); return Unsafe.As<ulong, TOut>(ref r); }
        if (typeof(TOut) == typeof(long) || typeof(TOut) == typeof(uint)) return FromInt64<TOut>(TruncateToInt64(d));
        return FromInt64<TOut>(TruncateToInt32(d));
    }

    const double TwoPow63 = 9223372036854775808.0;

    /// <summary>
    /// Float to 64-bit integer as x86-64 hardware (and so ONNX Runtime's static_cast) does it: truncation toward zero,
    /// and the "integer indefinite" value long.MinValue for NaN and out-of-range values (.NET would saturate).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long TruncateToInt64(double d) => d >= -TwoPow63 && d < TwoPow63 ? (long)d : long.MinValue;

    /// <summary>Float to 32-bit integer the same way (int.MinValue for NaN and out of range); narrower types wrap from it, as C compilers emit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TruncateToInt32(double d) => d > -2147483649.0 && d < 2147483648.0 ? (int)d : int.MinValue;

    static TOut FromUInt64<TOut>(ulong u) where TOut : unmanaged
    {
        if (typeof(TOut) == typeof(float)) { float r = u; return Unsafe.As<float, TOut>(ref r); }
        if (typeof(TOut) == typeof(double)) { double r = u; return Unsafe.As<double, TOut>(ref r); }
        if (typeof(TOut) == typeof(Half)) { Half r = (Half)(double)u; return Unsafe.As<Half, TOut>(ref r); }
        return FromInt64<TOut>(unchecked((long)u));
    }

    static TOut FromInt64<TOut>(long l) where TOut : unmanaged
    {
        if (typeof(TOut) == typeof(float)) { float r = l; return Unsafe.As<float, TOut>(ref r); }
        if (typeof(TOut) == typeof(double)) { double r = l; return Unsafe.As<double, TOut>(ref r); }
        if (typeof(TOut) == typeof(Half)) { Half r = (Half)(double)l; return Unsafe.As<Half, TOut>(ref r); }
        if (typeof(TOut) == typeof(bool)) { bool r = l != 0; return Unsafe.As<bool, TOut>(ref r); }
        if (typeof(TOut) == typeof(sbyte)) { sbyte r = unchecked((sbyte)l); return Unsafe.As<sbyte, TOut>(ref r); }
        if (typeof(TOut) == typeof(byte)) { byte r = unchecked((byte)l); return Unsafe.As<byte, TOut>(ref r); }
        if (typeof(TOut) == typeof(short)) { short r = unchecked((short)l); return Unsafe.As<short, TOut>(ref r); }
        if (typeof(TOut) == typeof(ushort)) { ushort r = unchecked((ushort)l); return Unsafe.As<ushort, TOut>(ref r); }
        if (typeof(TOut) == typeof(int)) { int r = unchecked((int)l); return Unsafe.As<int, TOut>(ref r); }
        if (typeof(TOut) == typeof(uint)) { uint r = unchecked((uint)l); return Unsafe.As<uint, TOut>(ref r); }
        if (typeof(TOut) == typeof(long)) return Unsafe.As<long, TOut>(ref l);
        if (typeof(TOut) == typeof(ulong)) { ulong r = unchecked((ulong)l); return Unsafe.As<ulong, TOut>(ref r); }
        throw new NotSupportedException(typeof(TOut).Name);
    }
}
