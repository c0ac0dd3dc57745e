using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// Splits a zero-padded image plane into its 16 phases (row mod 4, column mod 4): phase (a, b) holds padded pixel
/// (4v + a, 4u + b) at v·pitch + u. With them, the 6×6 input window of every 4×4 tile (ty, tx) is 36 reads at
/// tile-independent offsets from ty·pitch + tx, so a Winograd F(4×4, 3×3) input transform can run one vector loop
/// over all tiles.
/// </summary>
/// <remarks>
/// <see cref="Window2D.SplitPhases"/> does the same element by element, which on resnet8's 64 channels of 8×8 cost more
/// than the whole Winograd product. Here, with AVX-512, each image row is read as pairs of vectors straight from the
/// image (32 padded columns, 8 of each phase) and split with one permute and one mask per phase (the masks, which
/// zero the columns outside the image, built once per plane); rows whose vectors
/// would reach outside the image buffer go through a zero-bordered copy first.
/// </remarks>
internal static unsafe class FourPhaseImage
{
    /// <summary>Floats of the bordered row <see cref="Split"/> needs for <paramref name="pitch"/> phase columns.</summary>
    public static int RowSize(int pitch) => (pitch + 7) / 8 * 32;

    /// <summary>
    /// Writes phase rows 0 … <paramref name="rows"/> − 1 of the 16 phases of each of <paramref name="channels"/> planes
    /// (<paramref name="imageStride"/> floats apart in the image; phases <paramref name="planeSize"/> floats apart, 16 per
    /// channel), then zeroes the 16 floats after them (so planeSize ≥ rows·pitch + 16): a phase row is written as whole
    /// vectors, spilling into the next row, which is written after it, or into those 16 floats. Image reads stay within
    /// [<paramref name="lowest"/>, <paramref name="end"/>); <paramref name="row"/> holds <see cref="RowSize"/> floats of
    /// scratch.
    /// </summary>
    /// <remarks>
    /// All channels in one call: the column masks, the bordered row's zero columns and the loop set-up are the same for
    /// every channel, and on resnet8's 64 channels of 8×8 building them per channel cost about as much as the split.
    /// </remarks>
    public static void Split(float* image, int channels, int imageStride, int height, int width, int padTop, int padLeft, int rows, int pitch,
        int planeSize, float* planes, float* row, float* lowest, float* end)
    {
        int rowSize = RowSize(pitch);
        bool cleared = false;
        // Which lanes of each phase vector hold image columns: the same for every row, so built once (on the stack, up
        // to 8 KB: rows over 1024 padded columns take the element loop).
        int chunks = (pitch + 7) / 8;
        bool permutes = Avx512F.IsSupported && chunks <= 32;
        Span<Vector512<float>> inside = permutes ? stackalloc Vector512<float>[4 * chunks] : default;
        if (permutes) ColumnMasks(padLeft, width, inside);
        for (int c = 0; c < channels; c++, image += imageStride, planes += 16L * planeSize)
        {
            for (int v = 0; v < rows; v++)
            {
                for (int a = 0; a < 4; a++)
                {
                    float* phases = planes + (long)a * 4 * planeSize + (long)v * pitch;
                    int y = 4 * v + a - padTop;
                    if ((uint)y >= (uint)height)
                    {
                        for (int b = 0; b < 4; b++) Zero(phases + (long)b * planeSize, pitch);
                        continue;
                    }
                    // Padded column 0 of image row y, and the columns the whole vectors read from it.
                    float* source = image + (long)y * width - padLeft;
                    if (permutes && source >= lowest && source + rowSize <= end)
                    {
                        Deinterleave(source, pitch, inside, phases, planeSize);
                        continue;
                    }
                    if (!cleared)
                    {
                        new Span<float>(row, rowSize).Clear();
                        cleared = true;
                    }
                    // The bordered copy: the columns outside the image stay zero, every row copies the same ones.
                    int first = Math.Min(padLeft, rowSize), copied = Math.Clamp(rowSize - first, 0, width);
                    Window2D.CopyRow(image + (long)y * width, row + first, copied);
                    if (permutes) Deinterleave(row, pitch, inside, phases, planeSize);
                    else
                        for (int b = 0; b < 4; b++)
                            for (int u = 0; u < pitch; u++)
                                phases[(long)b * planeSize + u] = row[4 * u + b];
                }
            }
            for (int phase = 0; phase < 16; phase++) Zero(planes + (long)phase * planeSize + (long)rows * pitch, 16);
        }
    }

    /// <summary>
    /// Zeroes <paramref name="count"/> floats, with AVX-512 as whole vectors that may run up to 15 floats on (into the
    /// next phase row or the zeroed floats after the last, as <see cref="Deinterleave"/>'s stores do): a call per row of
    /// a few floats cost more than the row.
    /// </summary>
    static void Zero(float* target, int count)
    {
        if (!Avx512F.IsSupported)
        {
            new Span<float>(target, count).Clear();
            return;
        }
        for (int i = 0; i < count; i += 16) Vector512<float>.Zero.Store(target + i);
    }

    /// <summary>
    /// The lanes of phase b's vector for columns u … u + 7 (u = 8·chunk) whose padded column 4u + b lies in the image's
    /// [padLeft, padLeft + width): <c>inside[4·chunk + b]</c>, all ones or zero per lane.
    /// </summary>
    static void ColumnMasks(int padLeft, int width, Span<Vector512<float>> inside)
    {
        var columns = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60);
        var first = Vector512.Create(padLeft);
        var last = Vector512.Create(padLeft + width - 1);
        for (int i = 0; i < inside.Length; i++)
        {
            var column = columns + Vector512.Create(i / 4 * 32 + i % 4);
            inside[i] = (Vector512.GreaterThanOrEqual(column, first) & Vector512.LessThanOrEqual(column, last)).AsSingle();
        }
    }

    /// <summary>
    /// phases[b·planeSize + u] = row[4u + b] for u &lt; pitch, zero outside the image's columns (the masks of
    /// <see cref="ColumnMasks"/>); 16 floats stored per 8 columns of each phase (the upper 8 are overwritten next).
    /// </summary>
    static void Deinterleave(float* row, int pitch, ReadOnlySpan<Vector512<float>> inside, float* phases, int planeSize)
    {
        for (int u = 0, chunk = 0; u < pitch; u += 8, chunk += 4)
        {
            var x0 = Vector512.Load(row + 4 * u);
            var x1 = Vector512.Load(row + 4 * u + 16);
            Vector512.Store(Avx512F.PermuteVar16x32x2(x0, Indices.Phase0, x1) & inside[chunk], phases + u);
            Vector512.Store(Avx512F.PermuteVar16x32x2(x0, Indices.Phase1, x1) & inside[chunk + 1], phases + planeSize + u);
            Vector512.Store(Avx512F.PermuteVar16x32x2(x0, Indices.Phase2, x1) & inside[chunk + 2], phases + 2 * planeSize + u);
            Vector512.Store(Avx512F.PermuteVar16x32x2(x0, Indices.Phase3, x1) & inside[chunk + 3], phases + 3 * planeSize + u);
        }
    }

    static class Indices
    {
        // Lane i < 8 takes float 4i + b of the 32 in a pair of vectors (lanes 8–15 repeat them and are overwritten).
        public static readonly Vector512<int> Phase0 = Every4th(0), Phase1 = Every4th(1), Phase2 = Every4th(2), Phase3 = Every4th(3);

        static Vector512<int> Every4th(int phase) =>
            Vector512.Create(phase, phase + 4, phase + 8, phase + 12, phase + 16, phase + 20, phase + 24, phase + 28,
                phase, phase + 4, phase + 8, phase + 12, phase + 16, phase + 20, phase + 24, phase + 28);
    }
}
