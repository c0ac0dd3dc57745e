using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Small span loops the convolution and pooling kernels share, vectorised with Vector512, then Vector256, then a
/// scalar tail.
/// </summary>
public static class VectorMath
{
    /// <summary>target[i] += source[i].</summary>
    public static void Add(Span<float> target, ReadOnlySpan<float> source) => MultiplyAdd(target, source, 1f);

    /// <summary>target[i] += source[i] × scale.</summary>
    public static void MultiplyAdd(Span<float> target, ReadOnlySpan<float> source, float scale)
    {
        if (source.Length != target.Length) throw new ArgumentException("spans differ in length", nameof(source));
        ref float t = ref MemoryMarshal.GetReference(target);
        ref float s = ref MemoryMarshal.GetReference(source);
        int n = target.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var factor = Vector512.Create(scale);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref t, (nuint)i) + Vector512.LoadUnsafe(ref s, (nuint)i) * factor, ref t, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= Vector256<float>.Count)
        {
            var factor = Vector256.Create(scale);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref t, (nuint)i) + Vector256.LoadUnsafe(ref s, (nuint)i) * factor, ref t, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref t, i) += Unsafe.Add(ref s, i) * scale;
    }

    /// <summary>target[i] += value.</summary>
    public static void AddScalar(Span<float> target, float value)
    {
        ref float t = ref MemoryMarshal.GetReference(target);
        int n = target.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var v = Vector512.Create(value);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.StoreUnsafe(Vector512.LoadUnsafe(ref t, (nuint)i) + v, ref t, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= Vector256<float>.Count)
        {
            var v = Vector256.Create(value);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref t, (nuint)i) + v, ref t, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref t, i) += value;
    }

    /// <summary>target[i] = max(target[i], source[i]).</summary>
    public static void Max<T>(Span<T> target, ReadOnlySpan<T> source) where T : System.Numerics.INumber<T>
    {
        if (source.Length != target.Length) throw new ArgumentException("spans differ in length", nameof(source));
        int n = target.Length, i = 0;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && n >= Vector256<T>.Count)
        {
            ref T t = ref MemoryMarshal.GetReference(target);
            ref T s = ref MemoryMarshal.GetReference(source);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                Vector256.StoreUnsafe(Vector256.Max(Vector256.LoadUnsafe(ref t, (nuint)i), Vector256.LoadUnsafe(ref s, (nuint)i)), ref t, (nuint)i);
        }
        for (; i < n; i++) if (source[i] > target[i] || T.IsNaN(source[i])) target[i] = source[i];
    }
}
