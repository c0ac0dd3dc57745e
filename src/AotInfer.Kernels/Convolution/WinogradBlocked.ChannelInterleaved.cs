using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Convolution;

public static unsafe partial class WinogradBlocked
{
    /// <summary>
    /// The input transform vectorised over input channels instead of tiles, for AVX-512 and whole blocks of 16 input
    /// channels: the image is transposed into a zero-padded, channel-interleaved copy (16 channels per pixel, one
    /// in-register 16×16 transpose per 16 pixels), each tile's 36 inputs are then 36 vectors at fixed offsets, and
    /// V[ξ][c / 16][t][c mod 16] is written per tile and block of channels.
    /// </summary>
    /// <remarks>
    /// The tile-contiguous path splits every channel into 16 phase planes and transforms a vector of 16 tiles per
    /// channel; on small planes most of that vector is dummy or absent tiles (resnet8's 8×8 planes have 4 tiles in 6
    /// slots) and the split's per-row work dominates. Here no lane is wasted whatever the plane size. The products read
    /// V through <see cref="InterleavedChannels"/>.
    /// </remarks>
    static class ChannelInterleavedInput
    {
        /// <summary>
        /// Whether this path runs: AVX-512, input channels in whole blocks of 16, and the whole image in one band (V and
        /// the padded copy then fit the regions of the tile-contiguous path).
        /// </summary>
        public static bool Pays(WinogradBlockedFilter filter, in Tiling tiling, int channels) =>
            filter.Tier == GemmTier.Avx512 && Avx512F.IsSupported && channels % 16 == 0 && tiling.BandRows == tiling.TileRows;

        /// <summary>
        /// V for every tile and input channel of one image: the padded copy in <paramref name="padded"/> ((4·TH + 2) ×
        /// (4·TW + 2) pixels of 16 floats per block of channels), V at <paramref name="v"/>, positions
        /// <paramref name="positionStride"/> floats apart.
        /// </summary>
        public static void Transform(float* image, int channels, in Window2D window, in Tiling tiling, float* padded, float* v, long positionStride)
        {
            int rows = 4 * tiling.TileRows + 2, columns = 4 * tiling.TileColumns + 2, tiles = tiling.TileRows * tiling.TileColumns;
            long blockSize = 16L * rows * columns;
            Pad(image, channels, window, rows, columns, blockSize, padded);
            float* transformed = stackalloc float[Positions * 16];
            for (int block = 0; block < channels / 16; block++)
            {
                float* source = padded + block * blockSize, target = v + (long)block * 16 * tiles;
                for (int ty = 0; ty < tiling.TileRows; ty++)
                {
                    for (int tx = 0; tx < tiling.TileColumns; tx++)
                    {
                        float* d = source + 16L * (4 * ty * columns + 4 * tx);
                        // The rows of d B, each through the row transform, then the columns through Bᵀ: position 6i + j.
                        for (int k = 0; k < 6; k++)
                        {
                            float* row = d + 16L * k * columns;
                            Transform6<ChannelVector512, Vector512<float>>(Vector512.Load(row), Vector512.Load(row + 16), Vector512.Load(row + 32),
                                Vector512.Load(row + 48), Vector512.Load(row + 64), Vector512.Load(row + 80), transformed + 6 * k * 16, 16);
                        }
                        float* tile = target + 16L * (ty * tiling.TileColumns + tx);
                        for (int j = 0; j < 6; j++)
                        {
                            float* column = transformed + j * 16;
                            Transform6<ChannelVector512, Vector512<float>>(Vector512.Load(column), Vector512.Load(column + 96), Vector512.Load(column + 192),
                                Vector512.Load(column + 288), Vector512.Load(column + 384), Vector512.Load(column + 480), tile + j * positionStride,
                                6 * positionStride);
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The zero-padded, channel-interleaved copy: pixel (r, c) of block b at b·blockSize + 16·(r·columns + c). Whole
        /// 16-pixel runs of each plane go through the 16×16 transpose (a run may span image rows: each pixel has its own
        /// target), the last few pixels one by one.
        /// </summary>
        static void Pad(float* image, int channels, in Window2D window, int rows, int columns, long blockSize, float* padded)
        {
            int height = window.InputHeight, width = window.InputWidth, pixels = height * width, whole = pixels / 16 * 16;
            int padTop = window.PadTop, padLeft = window.PadLeft;
            // Only the border is zeroed: the image's pixels are all written below, and zeroing the whole copy first wrote
            // every line twice (74 KB on 32×32 planes, more than L1).
            for (int block = 0; block < channels / 16; block++)
            {
                float* target = padded + block * blockSize;
                ZeroPixels(target, padTop * columns);
                ZeroPixels(target + 16L * (padTop + height) * columns, (rows - padTop - height) * columns);
                for (int r = padTop; r < padTop + height; r++)
                {
                    float* row = target + 16L * r * columns;
                    ZeroPixels(row, padLeft);
                    ZeroPixels(row + 16L * (padLeft + width), columns - padLeft - width);
                }
            }
            int* offsets = stackalloc int[16];
            for (int block = 0; block < channels / 16; block++)
            {
                float* planes = image + (long)block * 16 * pixels, target = padded + block * blockSize;
                for (int p = 0; p < whole; p += 16)
                {
                    for (int j = 0; j < 16; j++) offsets[j] = Offset(p + j);
                    Transpose16x16.Transpose(planes + p, pixels, 16, new ScatteredRows(target, offsets));
                }
                for (int p = whole; p < pixels; p++)
                {
                    int offset = Offset(p);
                    for (int c = 0; c < 16; c++) target[offset + c] = planes[(long)c * pixels + p];
                }
            }

            static void ZeroPixels(float* target, long pixels)
            {
                for (long i = 0; i < pixels; i++) Vector512<float>.Zero.Store(target + 16 * i);
            }

            int Offset(int pixel)
            {
                int y = pixel / width, x = pixel - y * width;
                return 16 * ((y + padTop) * columns + x + padLeft);
            }
        }
    }
}
