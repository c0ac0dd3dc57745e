using System;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Linear;

/// <summary>
/// The part of <see cref="VectorMatrixMultiply"/> that skips the weight rows of zero inputs. A fully-connected layer at
/// batch 1 is bound by how fast its weights stream in, and row p of the weights only matters where x[p] ≠ 0: after a
/// ReLU about half the inputs are exactly zero, and an image's background pixels are too (517 of Fashion-MNIST's first
/// test image's 784). So the non-zero inputs of a run of rows are first gathered (their row numbers and values), and
/// the blocks then read only those rows (<see cref="GatheredRows"/>, summed by the same block kernels as every row): fewer bytes from the caches or memory, and a layer whose weights are slightly
/// larger than L2 can stay in it.
/// </summary>
/// <remarks>
/// Skipping a row is exact when its weights are finite (0·w = 0; the caller checks <see cref="GemvWeights.AllFinite"/>),
/// up to the sign of an all-zero sum. A NaN input is not zero and is kept. The kept rows are paired into the kernels'
/// chains differently from the dense walk, so results agree with it to float rounding, not bit for bit.
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
}
