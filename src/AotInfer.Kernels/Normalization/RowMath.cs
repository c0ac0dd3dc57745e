using System;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Normalization;

/// <summary>
/// Vectorised element-wise helpers over contiguous rows that the normalisation kernels share: y = (x − a)·b,
/// y = x·a + b, e^x in place. Vector512, then Vector256, then a scalar tail.
/// </summary>
public static class RowMath
{
    /// <summary>y[i] = (x[i] − shift)·scale.</summary>
    public static void ShiftScale<T>(ReadOnlySpan<T> x, Span<T> y, T shift, T scale) where T : unmanaged, INumber<T>
    {
        int i = 0;
        ref T source = ref MemoryMarshal.GetReference(x);
        ref T target = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var s = Vector512.Create(shift); var m = Vector512.Create(scale);
            for (; i <= x.Length - Vector512<T>.Count; i += Vector512<T>.Count)
                ((Vector512.LoadUnsafe(ref source, (nuint)i) - s) * m).StoreUnsafe(ref target, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var s = Vector256.Create(shift); var m = Vector256.Create(scale);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                ((Vector256.LoadUnsafe(ref source, (nuint)i) - s) * m).StoreUnsafe(ref target, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = (x[i] - shift) * scale;
    }

    /// <summary>y[i] = x[i]·scale + bias.</summary>
    public static void MultiplyAdd<T>(ReadOnlySpan<T> x, Span<T> y, T scale, T bias) where T : unmanaged, INumber<T>
    {
        int i = 0;
        ref T source = ref MemoryMarshal.GetReference(x);
        ref T target = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var m = Vector512.Create(scale); var b = Vector512.Create(bias);
            for (; i <= x.Length - Vector512<T>.Count; i += Vector512<T>.Count)
                (Vector512.LoadUnsafe(ref source, (nuint)i) * m + b).StoreUnsafe(ref target, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            var m = Vector256.Create(scale); var b = Vector256.Create(bias);
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
                (Vector256.LoadUnsafe(ref source, (nuint)i) * m + b).StoreUnsafe(ref target, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = x[i] * scale + bias;
    }

    /// <summary>y[i] = y[i]·scale[i] + bias[i] (bias may be empty).</summary>
    public static void MultiplyAddRows<T>(Span<T> y, ReadOnlySpan<T> scale, ReadOnlySpan<T> bias) where T : unmanaged, INumber<T>
    {
        int i = 0;
        bool hasBias = !bias.IsEmpty;
        ref T target = ref MemoryMarshal.GetReference(y);
        ref T m = ref MemoryMarshal.GetReference(scale);
        ref T b = ref MemoryMarshal.GetReference(bias);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            for (; i <= y.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.LoadUnsafe(ref target, (nuint)i) * Vector256.LoadUnsafe(ref m, (nuint)i);
                if (hasBias) v += Vector256.LoadUnsafe(ref b, (nuint)i);
                v.StoreUnsafe(ref target, (nuint)i);
            }
        }
        for (; i < y.Length; i++) y[i] = y[i] * scale[i] + (hasBias ? bias[i] : T.Zero);
    }

    /// <summary>Σ(x[i] − mean)², for a two-pass variance.</summary>
    public static T SumSquaredDeviations<T>(ReadOnlySpan<T> x, T mean) where T : unmanaged, INumber<T>
    {
        int i = 0;
        T result = T.Zero;
        ref T source = ref MemoryMarshal.GetReference(x);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && x.Length >= Vector256<T>.Count)
        {
            var m = Vector256.Create(mean);
            var acc = Vector256<T>.Zero;
            for (; i <= x.Length - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var d = Vector256.LoadUnsafe(ref source, (nuint)i) - m;
                acc += d * d;
            }
            result = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++) { T d = x[i] - mean; result += d * d; }
        return result;
    }

    /// <summary>y[i] = e^(x[i] − shift); returns Σ y. Vectorised for float and double.</summary>
    public static T ExpShifted<T>(ReadOnlySpan<T> x, Span<T> y, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T sum = T.Zero;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            var xs = MemoryMarshal.Cast<T, float>(x);
            var ys = MemoryMarshal.Cast<T, float>(y);
            var s = Vector256.Create(float.CreateTruncating(shift));
            var acc = Vector256<float>.Zero;
            ref float source = ref MemoryMarshal.GetReference(xs);
            ref float target = ref MemoryMarshal.GetReference(ys);
            for (; i <= xs.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref source, (nuint)i) - s);
                e.StoreUnsafe(ref target, (nuint)i);
                acc += e;
            }
            sum = T.CreateTruncating(Vector256.Sum(acc));
        }
        else if (typeof(T) == typeof(double) && Vector256.IsHardwareAccelerated)
        {
            var xs = MemoryMarshal.Cast<T, double>(x);
            var ys = MemoryMarshal.Cast<T, double>(y);
            var s = Vector256.Create(double.CreateTruncating(shift));
            var acc = Vector256<double>.Zero;
            ref double source = ref MemoryMarshal.GetReference(xs);
            ref double target = ref MemoryMarshal.GetReference(ys);
            for (; i <= xs.Length - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref source, (nuint)i) - s);
                e.StoreUnsafe(ref target, (nuint)i);
                acc += e;
            }
            sum = T.CreateTruncating(Vector256.Sum(acc));
        }
        for (; i < x.Length; i++) { T e = T.Exp(x[i] - shift); y[i] = e; sum += e; }
        return sum;
    }
}
