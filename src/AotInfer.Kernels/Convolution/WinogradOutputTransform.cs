using System.Runtime.CompilerServices;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// The one-dimensional output transform y = Aᵀ m of a Winograd F(4, r) algorithm on output-channel vectors: n = r + 3
/// values in, 4 out. A struct per algorithm, so that the JIT inlines it.
/// </summary>
internal unsafe interface IWinogradOutputTransform
{
    /// <summary>The values in, n (the tile's width).</summary>
    static abstract int Points { get; }

    /// <summary>y = Aᵀ m for the n values at <paramref name="m"/>, <paramref name="stride"/> floats apart.</summary>
    static abstract void Transform<TOps, TVector>(float* m, long stride, out TVector y0, out TVector y1, out TVector y2, out TVector y3)
        where TOps : IChannelVector<TVector> where TVector : struct;
}

/// <summary>The two-dimensional output transform Aᵀ M A of the Winograd kernels vectorised over output channels, for 4×4 output tiles.</summary>
internal static unsafe class WinogradOutputTransform
{
    /// <summary>
    /// Y = Aᵀ M A + bias for one tile and block (M[ξ] at <paramref name="m"/> + ξ·<paramref name="positionStride"/>, ξ = n·i
    /// + j), stored as 4 rows of 4 pixel vectors, rows <paramref name="rowStride"/> floats apart; <paramref name="rows"/>
    /// holds 4n vectors of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply<TOps, TVector, TTransform>(float* m, long positionStride, TVector bias, float* y, int rowStride, float* rows)
        where TOps : IChannelVector<TVector> where TVector : struct where TTransform : IWinogradOutputTransform
    {
        int lanes = TOps.Lanes, n = TTransform.Points;
        // Aᵀ along each of the n rows of M: rows[i][0..3].
        for (int i = 0; i < n; i++)
        {
            TTransform.Transform<TOps, TVector>(m + n * i * positionStride, positionStride, out var y0, out var y1, out var y2, out var y3);
            TOps.Store(y0, rows + 4 * i * lanes);
            TOps.Store(y1, rows + (4 * i + 1) * lanes);
            TOps.Store(y2, rows + (4 * i + 2) * lanes);
            TOps.Store(y3, rows + (4 * i + 3) * lanes);
        }
        // Then Aᵀ down each of the four columns: output column j, rows 0..3.
        for (int j = 0; j < 4; j++)
        {
            TTransform.Transform<TOps, TVector>(rows + j * lanes, 4 * lanes, out var y0, out var y1, out var y2, out var y3);
            float* pixel = y + j * lanes;
            TOps.Store(TOps.Add(y0, bias), pixel);
            TOps.Store(TOps.Add(y1, bias), pixel + rowStride);
            TOps.Store(TOps.Add(y2, bias), pixel + 2 * rowStride);
            TOps.Store(TOps.Add(y3, bias), pixel + 3 * rowStride);
        }
    }

    /// <summary>
    /// The 2×2 stride-2 max pool of a group's output tiles (per block, 4·<paramref name="tileRows"/> rows of
    /// <paramref name="pitch"/> pixel vectors, the blocks one after another), in place: pooled pixel (r, c) of a block
    /// goes where output pixel (r, c) was, once the four pixels it reads, (2r, 2c) to (2r + 1, 2c + 1), are read; in
    /// row-major order no pooled pixel overwrites one a later pooled pixel reads. The tiles are 4×4 at even offsets, so
    /// every window lies in one tile; those past the output's last full window are never stored.
    /// </summary>
    public static void Pool<TOps, TVector>(float* tiles, int blocks, int tileRows, int tileColumns, int pitch)
        where TOps : IChannelVector<TVector> where TVector : struct
    {
        int lanes = TOps.Lanes;
        long row = (long)pitch * lanes;
        for (int b = 0; b < blocks; b++, tiles += 4 * tileRows * row)
            for (int r = 0; r < 2 * tileRows; r++)
            {
                float* top = tiles + 2 * r * row, bottom = top + row, target = tiles + r * row;
                for (int c = 0; c < 2 * tileColumns; c++)
                {
                    float* left = top + 2 * c * lanes, below = bottom + 2 * c * lanes;
                    TVector upper = TOps.Max(TOps.Load(left), TOps.Load(left + lanes)), lower = TOps.Max(TOps.Load(below), TOps.Load(below + lanes));
                    TOps.Store(TOps.Max(upper, lower), target + c * lanes);
                }
            }
    }
}
