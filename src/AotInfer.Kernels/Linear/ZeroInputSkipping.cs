using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// The part of <see cref="VectorMatrixMultiply"/> that skips the weight rows of zero inputs. A fully-connected layer at
/// batch 1 is bound by how fast its weights stream in, and row p of the weights only matters where x[p] ≠ 0: after a
/// ReLU about half the inputs are exactly zero, and an image's background pixels are too (517 of Fashion-MNIST's first
/// test image's 784). So the non-zero inputs of a run of rows are first gathered (their row numbers and values), and
/// the blocks then read only those rows: fewer bytes from the caches or memory, and a layer whose weights are slightly
/// larger than L2 can stay in it.
/// </summary>
/// <remarks>
/// Skipping a row is exact when its weights are finite (0·w = 0; the caller checks <see cref="GemvWeights.AllFinite"/>),
/// up to the sign of an all-zero sum. A NaN input is not zero and is kept. The sums are those of the dense kernel over
/// the kept rows, in another association (different chains), so results agree with it to float rounding, not bit for bit.
/// </remarks>
static unsafe class ZeroInputSkipping
{
    /// <summary>Rows gathered at a time: their row numbers and values (32 KB) live on the stack.</summary>
    public const int ChunkRows = 4096;

    /// <summary>Non-zero inputs among <paramref name="count"/> at <paramref name="x"/> (NaN counts as non-zero).</summary>
    public static int CountNonZero(float* x, int count)
    {
        int nonZero = 0, p = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; p + 16 <= count; p += 16)
                nonZero += 16 - BitOperations.PopCount((uint)Vector512.Equals(Vector512.Load(x + p), Vector512<float>.Zero).ExtractMostSignificantBits());
        else if (Vector256.IsHardwareAccelerated)
            for (; p + 8 <= count; p += 8)
                nonZero += 8 - BitOperations.PopCount(Vector256.Equals(Vector256.Load(x + p), Vector256<float>.Zero).ExtractMostSignificantBits());
        for (; p < count; p++) nonZero += x[p] != 0 ? 1 : 0;
        return nonZero;
    }

    /// <summary>
    /// Writes the row numbers (from 0 at <paramref name="x"/>) and values of the non-zero inputs among
    /// <paramref name="count"/> (at most <see cref="ChunkRows"/>) into <paramref name="rows"/> and
    /// <paramref name="values"/> (each <see cref="ChunkRows"/> + 16 long: whole vectors are stored past the last kept
    /// one) and returns how many there are.
    /// </summary>
    public static int Gather(float* x, int count, int* rows, float* values)
    {
        int kept = 0, p = 0;
        if (Avx512F.IsSupported)
        {
            var indices = Vector512<int>.Indices;
            for (; p + 16 <= count; p += 16)
            {
                var v = Vector512.Load(x + p);
                var keep = ~Vector512.Equals(v, Vector512<float>.Zero);
                Avx512F.Compress(Vector512<float>.Zero, keep, v).Store(values + kept);
                Avx512F.Compress(Vector512<int>.Zero, keep.AsInt32(), indices + Vector512.Create(p)).Store(rows + kept);
                kept += BitOperations.PopCount((uint)keep.ExtractMostSignificantBits());
            }
        }
        for (; p < count; p++)
        {
            // Branch-free: the slot is written either way and kept only when the input is not zero.
            rows[kept] = p;
            values[kept] = x[p];
            kept += x[p] != 0 ? 1 : 0;
        }
        return kept;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary>
    /// y[0..64) (+)= Σ values[q]·w[rows[q]·64 ..+64) over the <paramref name="kept"/> rows of a 64-column block whose
    /// first row of this run is at <paramref name="w"/>; adds to y when <paramref name="accumulate"/> (a later run).
    /// Even and odd kept rows in separate accumulators, as the dense kernel does.
    /// </summary>
    public static void Wide512(int* rows, float* values, int kept, float* w, float* y, bool accumulate)
    {
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, o0 = default, o1 = default, o2 = default, o3 = default;
        if (accumulate)
        {
            e0 = Vector512.Load(y);
            e1 = Vector512.Load(y + 16);
            e2 = Vector512.Load(y + 32);
            e3 = Vector512.Load(y + 48);
        }
        int q = 0;
        for (; q + 1 < kept; q += 2)
        {
            float* re = w + ((nint)rows[q] << 6), ro = w + ((nint)rows[q + 1] << 6);
            var xe = Vector512.Create(values[q]);
            e0 = Fma(xe, Vector512.Load(re), e0);
            e1 = Fma(xe, Vector512.Load(re + 16), e1);
            e2 = Fma(xe, Vector512.Load(re + 32), e2);
            e3 = Fma(xe, Vector512.Load(re + 48), e3);
            var xo = Vector512.Create(values[q + 1]);
            o0 = Fma(xo, Vector512.Load(ro), o0);
            o1 = Fma(xo, Vector512.Load(ro + 16), o1);
            o2 = Fma(xo, Vector512.Load(ro + 32), o2);
            o3 = Fma(xo, Vector512.Load(ro + 48), o3);
        }
        if (q < kept)
        {
            float* re = w + ((nint)rows[q] << 6);
            var xe = Vector512.Create(values[q]);
            e0 = Fma(xe, Vector512.Load(re), e0);
            e1 = Fma(xe, Vector512.Load(re + 16), e1);
            e2 = Fma(xe, Vector512.Load(re + 32), e2);
            e3 = Fma(xe, Vector512.Load(re + 48), e3);
        }
        (e0 + o0).Store(y);
        (e1 + o1).Store(y + 16);
        (e2 + o2).Store(y + 32);
        (e3 + o3).Store(y + 48);
    }

    /// <summary><see cref="Wide512"/> for a 16-column panel: four chains.</summary>
    public static void Narrow512(int* rows, float* values, int kept, float* w, float* y, bool accumulate)
    {
        Vector512<float> s0 = accumulate ? Vector512.Load(y) : default, s1 = default, s2 = default, s3 = default;
        int q = 0;
        for (; q + 3 < kept; q += 4)
        {
            s0 = Fma(Vector512.Create(values[q]), Vector512.Load(w + ((nint)rows[q] << 4)), s0);
            s1 = Fma(Vector512.Create(values[q + 1]), Vector512.Load(w + ((nint)rows[q + 1] << 4)), s1);
            s2 = Fma(Vector512.Create(values[q + 2]), Vector512.Load(w + ((nint)rows[q + 2] << 4)), s2);
            s3 = Fma(Vector512.Create(values[q + 3]), Vector512.Load(w + ((nint)rows[q + 3] << 4)), s3);
        }
        for (; q < kept; q++) s0 = Fma(Vector512.Create(values[q]), Vector512.Load(w + ((nint)rows[q] << 4)), s0);
        ((s0 + s1) + (s2 + s3)).Store(y);
    }

    /// <summary><see cref="Wide512"/> as eight 256-bit accumulators (AVX2 has 16 registers: one chain).</summary>
    public static void Wide256(int* rows, float* values, int kept, float* w, float* y, bool accumulate)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        if (accumulate)
        {
            s0 = Vector256.Load(y); s1 = Vector256.Load(y + 8); s2 = Vector256.Load(y + 16); s3 = Vector256.Load(y + 24);
            s4 = Vector256.Load(y + 32); s5 = Vector256.Load(y + 40); s6 = Vector256.Load(y + 48); s7 = Vector256.Load(y + 56);
        }
        for (int q = 0; q < kept; q++)
        {
            float* r = w + ((nint)rows[q] << 6);
            var xq = Vector256.Create(values[q]);
            s0 = Fma(xq, Vector256.Load(r), s0);
            s1 = Fma(xq, Vector256.Load(r + 8), s1);
            s2 = Fma(xq, Vector256.Load(r + 16), s2);
            s3 = Fma(xq, Vector256.Load(r + 24), s3);
            s4 = Fma(xq, Vector256.Load(r + 32), s4);
            s5 = Fma(xq, Vector256.Load(r + 40), s5);
            s6 = Fma(xq, Vector256.Load(r + 48), s6);
            s7 = Fma(xq, Vector256.Load(r + 56), s7);
        }
        s0.Store(y); s1.Store(y + 8); s2.Store(y + 16); s3.Store(y + 24);
        s4.Store(y + 32); s5.Store(y + 40); s6.Store(y + 48); s7.Store(y + 56);
    }

    /// <summary><see cref="Narrow512"/> as two 256-bit halves, two chains each.</summary>
    public static void Narrow256(int* rows, float* values, int kept, float* w, float* y, bool accumulate)
    {
        Vector256<float> e0 = default, e1 = default, o0 = default, o1 = default;
        if (accumulate)
        {
            e0 = Vector256.Load(y);
            e1 = Vector256.Load(y + 8);
        }
        int q = 0;
        for (; q + 1 < kept; q += 2)
        {
            float* re = w + ((nint)rows[q] << 4), ro = w + ((nint)rows[q + 1] << 4);
            var xe = Vector256.Create(values[q]);
            e0 = Fma(xe, Vector256.Load(re), e0);
            e1 = Fma(xe, Vector256.Load(re + 8), e1);
            var xo = Vector256.Create(values[q + 1]);
            o0 = Fma(xo, Vector256.Load(ro), o0);
            o1 = Fma(xo, Vector256.Load(ro + 8), o1);
        }
        if (q < kept)
        {
            float* re = w + ((nint)rows[q] << 4);
            var xe = Vector256.Create(values[q]);
            e0 = Fma(xe, Vector256.Load(re), e0);
            e1 = Fma(xe, Vector256.Load(re + 8), e1);
        }
        (e0 + o0).Store(y);
        (e1 + o1).Store(y + 8);
    }
}
