using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Sparse;

/// <summary>
/// The conversions around a quantised product run by <see cref="BandSparseMultiply"/> in float: A's integers minus
/// their zero point become floats, and the float sums become the int32 accumulators the requantisation reads. Both
/// are exact: the centred values are at most 255 in magnitude, and the compiler only takes this path when every
/// partial sum stays below 2²⁴, where float adds integers exactly.
/// </summary>
public static class CentredIntegers
{
    /// <summary>
    /// centred[i] = a[i] − zero for uint8 or int8 <typeparamref name="T"/>; <paramref name="zero"/> is empty (0) or
    /// holds the one zero point.
    /// </summary>
    public static unsafe void Centre<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> zero, Span<float> centred) where T : unmanaged
    {
        if (centred.Length < a.Length) throw new ArgumentException($"centred has {centred.Length} elements, fewer than A's {a.Length}", nameof(centred));
        bool signed = typeof(T) == typeof(sbyte);
        if (!signed && typeof(T) != typeof(byte)) throw new NotSupportedException($"element type {typeof(T).Name}: uint8 and int8 are supported");
        var bytes = MemoryMarshal.AsBytes(a);
        float z = zero.IsEmpty ? 0 : signed ? (sbyte)MemoryMarshal.AsBytes(zero)[0] : MemoryMarshal.AsBytes(zero)[0];
        int i = 0;
        fixed (byte* from = bytes)
        fixed (float* to = centred)
        {
            if (Avx512F.IsSupported)
            {
                // 16 values per step: one widening load (vpmovzxbd / vpmovsxbd), one conversion, one subtraction.
                var shift = Vector512.Create(z);
                for (; i + 16 <= bytes.Length; i += 16)
                {
                    var wide = signed ? Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((sbyte*)from + i)) : Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(from + i));
                    Avx512F.Store(to + i, Avx512F.ConvertToVector512Single(wide) - shift);
                }
            }
            for (; i < bytes.Length; i++) to[i] = (signed ? (sbyte)from[i] : from[i]) - z;
        }
    }

    /// <summary>acc[i] = sums[i] as an int32 (the sums are integers).</summary>
    public static unsafe void ToIntegers(ReadOnlySpan<float> sums, Span<int> acc)
    {
        if (acc.Length < sums.Length) throw new ArgumentException($"acc has {acc.Length} elements, fewer than the {sums.Length} sums", nameof(acc));
        int i = 0;
        fixed (float* from = sums)
        fixed (int* to = acc)
        {
            if (Avx512F.IsSupported)
                for (; i + 16 <= sums.Length; i += 16) Avx512F.Store(to + i, Avx512F.ConvertToVector512Int32WithTruncation(Avx512F.LoadVector512(from + i)));
            for (; i < sums.Length; i++) to[i] = (int)from[i];
        }
    }
}
