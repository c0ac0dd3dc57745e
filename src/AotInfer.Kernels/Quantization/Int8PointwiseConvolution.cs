using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// QLinearConv of a 1×1 kernel with unit strides and no padding (one group): y[m, p] = saturate(round_half_even((Σ_c
/// (x[c, p] − zx)·(w[m, c] − zw[m]) + bias[m]) · multipliers[m]) + zy). The image, a [C][P] byte matrix per sample, is
/// interleaved once into four-channel quads along each pixel row (<see cref="QuadInterleavedImage"/>), the weights
/// are packed once (<see cref="Int8ConvWeights"/>, four output channels side by side), and a tile of four output
/// channels × three vectors of pixels accumulates on <c>vpdpbusd</c> where the CPU has AVX-VNNI
/// (<see cref="IInt8QuadDot{TV}"/>) from accumulators that start at the channel's offset, then requantises in
/// registers straight into the output bytes.
/// </summary>
/// <remarks>
/// The plane is one row of H·W pixels (the planes of small models are 25×5, 7×7: rows narrower than a vector), and a
/// last tile that would run past the plane moves back to end on its last pixel (the pixels it repeats get the same
/// bytes again), so every tile is whole. The byte GEMM <see cref="Int8Gemm.MultiplyColumns"/> did four channels ×
/// one panel per tile, then a second pass over int32 sums to requantise.
/// Activations are unsigned in the kernel (s8 images flip their top bit with their zero point); the activation zero
/// point folds into one offset per channel, bias − zx·Σ_c(w − zw).
/// </remarks>
public static class Int8PointwiseConvolution
{
    /// <summary>Pixel vectors per tile: 12 accumulators + 3 activations + 1 weight broadcast fill the 16 registers VEX encodes.</summary>
    const int TileVectors = 3;

    /// <summary>Pixels per tile on the widest tier (eight int32 lanes per vector).</summary>
    const int WidestTile = TileVectors * 8;

    /// <summary>Ints per channel quad of the laid-out image: the pixels, at least one tile, rounded up to a cache line.</summary>
    static int RowInts(int pixels) => (Math.Max(pixels, WidestTile) + 15) / 16 * 16;

    /// <summary>Ints of scratch <see cref="ConvolveToBytes{TX, TY}"/> needs for <paramref name="inChannels"/> channels of <paramref name="pixels"/> pixels.</summary>
    public static int ScratchLength(int inChannels, int pixels) => (inChannels + 3) / 4 * RowInts(pixels);

    /// <summary>
    /// The QLinearConv of the class summary for a batch of NCHW byte images of <paramref name="pixels"/> pixels per
    /// channel; one multiplier or one per output channel, an empty bias means none, an empty zero point 0.
    /// <paramref name="scratch"/>: <see cref="ScratchLength"/> ints.
    /// </summary>
    public static void ConvolveToBytes<TX, TY>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8ConvWeights weights, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TY> y, Span<int> scratch, int batch, int pixels)
        where TX : unmanaged, IBinaryInteger<TX> where TY : unmanaged, IBinaryInteger<TY>
    {
        if (Unsafe.SizeOf<TX>() != 1) throw new ArgumentException($"the input must be byte or sbyte, not {typeof(TX).Name}");
        if (Unsafe.SizeOf<TY>() != 1) throw new ArgumentException($"the output must be byte or sbyte, not {typeof(TY).Name}");
        if (weights.KernelSize != 1) throw new ArgumentException($"packed weights have {weights.KernelSize} kernel positions, a pointwise layer 1");
        int channels = weights.InChannels, outChannels = weights.OutChannels, rowInts = RowInts(pixels);
        if (multipliers.Length != 1 && multipliers.Length != outChannels) throw new ArgumentException($"expected 1 or {outChannels} multipliers, got {multipliers.Length}");
        if (scratch.Length < ScratchLength(channels, pixels)) throw new ArgumentException($"scratch holds {scratch.Length} ints, expected {ScratchLength(channels, pixels)}");
        if (x.Length < batch * channels * pixels) throw new ArgumentException("x is shorter than batch × channels × pixels");
        if (y.Length < batch * outChannels * pixels) throw new ArgumentException("y is shorter than batch × output channels × pixels");
        if (!bias.IsEmpty && bias.Length < outChannels) throw new ArgumentException($"bias holds {bias.Length} values, expected {outChannels}");

        // The kernel multiplies unsigned activations: s8 images (and their zero point) flip their top bit.
        byte flip = typeof(TX) == typeof(sbyte) ? (byte)0x80 : (byte)0;
        byte zero = (byte)((xZeroPoint.IsEmpty ? (byte)0 : byte.CreateTruncating(xZeroPoint[0])) ^ flip);
        var layer = new Layer
        {
            Weights = weights,
            Bias = bias,
            Zero = zero,
            Multipliers = multipliers,
            ZeroPoint = yZeroPoint,
            Signed = typeof(TY) == typeof(sbyte),
            Vector = Int8ByteRequantization.AllFinite(multipliers),
            Pixels = pixels,
            RowInts = rowInts,
        };
        Span<int> image = scratch.Slice(0, (channels + 3) / 4 * rowInts);
        ReadOnlySpan<byte> input = MemoryMarshal.AsBytes(x);
        Span<byte> output = MemoryMarshal.AsBytes(y);
        var tier = QuantizedMatrixMultiply.Tier;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<byte> sample = input.Slice(n * channels * pixels, channels * pixels);
            for (int cq = 0; 4 * cq < channels; cq++)
                QuadInterleavedImage.InterleaveRow(sample, channels, 4 * cq, 0, pixels, 0, pixels, flip, zero, image.Slice(cq * rowInts, rowInts), 0);
            Span<byte> planes = output.Slice(n * outChannels * pixels, outChannels * pixels);
            if (Int8Gemm.UsesVnni(tier)) Image<QuadDotAvxVnni, Vector256<int>>(image, layer, planes);
            else if (tier >= QuantizedGemmTier.Avx2 && Avx2.IsSupported) Image<QuadDotAvx2, Vector256<int>>(image, layer, planes);
            else if (tier >= QuantizedGemmTier.Vector128 && Sse2.IsSupported) Image<QuadDotSse2, Vector128<int>>(image, layer, planes);
            else Image<QuadDotScalar, int>(image, layer, planes);
        }
    }

    /// <summary>What every tile of a layer shares.</summary>
    ref struct Layer
    {
        public Int8ConvWeights Weights;
        public ReadOnlySpan<int> Bias;
        public int Zero;
        public ReadOnlySpan<float> Multipliers;
        public int ZeroPoint;
        public bool Signed;
        /// <summary>Whether 256-bit sums requantise as vectors (every multiplier finite).</summary>
        public bool Vector;
        public int Pixels;
        public int RowInts;
    }

    /// <summary>One laid-out image × every output channel, four channels × <see cref="TileVectors"/> pixel vectors per tile.</summary>
    static void Image<TIsa, TV>(ReadOnlySpan<int> image, scoped in Layer layer, Span<byte> y) where TIsa : IInt8QuadDot<TV> where TV : struct
    {
        int width = TileVectors * TIsa.Lanes, pixels = layer.Pixels, quads = layer.Weights.Quads, outChannels = layer.Weights.OutChannels;
        // Whole tiles when the plane holds one; else one tile over the plane (its lanes past the plane read the
        // layout's spare ints), through a buffer.
        int tileWidth = Math.Min(width, pixels);
        Span<int> offsets = stackalloc int[4];
        Span<float> scales = stackalloc float[4];
        Span<byte> partial = stackalloc byte[4 * WidestTile];
        Span<int> spill = stackalloc int[4 * WidestTile];
        var bounds = new Int8ByteRequantization.Bounds(layer.ZeroPoint, layer.Signed);
        var tile = new TileOutput { Scales = scales, Spill = spill, ZeroPoint = layer.ZeroPoint, Signed = layer.Signed, Vector = layer.Vector };
        ref int i0 = ref MemoryMarshal.GetReference(image);
        bool vector = typeof(TV) == typeof(Vector256<int>) && layer.Vector;
        for (int block = 0; 4 * block < outChannels; block++)
        {
            int rows = Math.Min(4, outChannels - 4 * block);
            for (int i = 0; i < 4; i++)
            {
                int channel = Math.Min(4 * block + i, outChannels - 1);
                offsets[i] = (layer.Bias.IsEmpty ? 0 : layer.Bias[channel]) - layer.Zero * layer.Weights.RowSums[channel];
                scales[i] = layer.Multipliers[layer.Multipliers.Length == 1 ? 0 : channel];
            }
            ref int w = ref layer.Weights.Values[block * quads * 4];
            bool direct = rows == 4 && pixels >= width;
            for (int p = 0; p < pixels; p += width)
            {
                int start = Math.Min(p, pixels - tileWidth);
                if (direct)
                {
                    Tile4x3<TIsa, TV>(ref Unsafe.Add(ref i0, start), layer.RowInts, ref w, quads, ref MemoryMarshal.GetReference(offsets), tile, bounds, ref y[4 * block * pixels + start], pixels);
                    if (!vector) SpilledToBytes(spill, TIsa.Lanes, tile, ref y[4 * block * pixels + start], pixels);
                    continue;
                }
                Tile4x3<TIsa, TV>(ref Unsafe.Add(ref i0, start), layer.RowInts, ref w, quads, ref MemoryMarshal.GetReference(offsets), tile, bounds, ref partial[0], width);
                if (!vector) SpilledToBytes(spill, TIsa.Lanes, tile, ref partial[0], width);
                for (int i = 0; i < rows; i++) partial.Slice(i * width, tileWidth).CopyTo(y.Slice((4 * block + i) * pixels + start, tileWidth));
            }
        }
    }

    /// <summary>How a tile's sums become bytes: per-row multipliers, the requantisation's constants, the sums of the narrow tiers.</summary>
    ref struct TileOutput
    {
        public Span<float> Scales;
        public Span<int> Spill;
        public int ZeroPoint;
        public bool Signed;
        public bool Vector;
    }

    /// <summary>
    /// Four output channels (weight quads side by side at <paramref name="w"/>, offsets at <paramref name="offsets"/>)
    /// × three pixel vectors from <paramref name="x"/> (channel quads <paramref name="rowInts"/> apart), requantised
    /// into y: channel i's bytes at y + i·<paramref name="yStride"/>.
    /// </summary>
    static void Tile4x3<TIsa, TV>(ref int x, int rowInts, ref int w, int quads, ref int offsets, scoped in TileOutput output, in Int8ByteRequantization.Bounds bounds,
        ref byte y, int yStride) where TIsa : IInt8QuadDot<TV> where TV : struct
    {
        int lanes = TIsa.Lanes;
        TV c00 = TIsa.Broadcast(ref offsets), c01 = c00, c02 = c00;
        TV c10 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 1)), c11 = c10, c12 = c10;
        TV c20 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 2)), c21 = c20, c22 = c20;
        TV c30 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 3)), c31 = c30, c32 = c30;
        for (int q = 0; q < quads; q++)
        {
            TV a0 = TIsa.Load(ref x), a1 = TIsa.Load(ref Unsafe.Add(ref x, lanes)), a2 = TIsa.Load(ref Unsafe.Add(ref x, 2 * lanes));
            TV weight = TIsa.Broadcast(ref w);
            c00 = TIsa.Dot(c00, a0, weight); c01 = TIsa.Dot(c01, a1, weight); c02 = TIsa.Dot(c02, a2, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 1));
            c10 = TIsa.Dot(c10, a0, weight); c11 = TIsa.Dot(c11, a1, weight); c12 = TIsa.Dot(c12, a2, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 2));
            c20 = TIsa.Dot(c20, a0, weight); c21 = TIsa.Dot(c21, a1, weight); c22 = TIsa.Dot(c22, a2, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 3));
            c30 = TIsa.Dot(c30, a0, weight); c31 = TIsa.Dot(c31, a1, weight); c32 = TIsa.Dot(c32, a2, weight);
            x = ref Unsafe.Add(ref x, rowInts);
            w = ref Unsafe.Add(ref w, 4);
        }
        if (typeof(TV) == typeof(Vector256<int>) && output.Vector)
        {
            // No calls here: a call would make the JIT keep the accumulators in memory across the loop.
            Emit(As256(c00), As256(c01), As256(c02), output.Scales[0], bounds, ref y);
            Emit(As256(c10), As256(c11), As256(c12), output.Scales[1], bounds, ref Unsafe.Add(ref y, yStride));
            Emit(As256(c20), As256(c21), As256(c22), output.Scales[2], bounds, ref Unsafe.Add(ref y, 2 * yStride));
            Emit(As256(c30), As256(c31), As256(c32), output.Scales[3], bounds, ref Unsafe.Add(ref y, 3 * yStride));
            return;
        }
        ref int spill = ref MemoryMarshal.GetReference(output.Spill);
        TIsa.Store(c00, ref spill); TIsa.Store(c01, ref Unsafe.Add(ref spill, lanes)); TIsa.Store(c02, ref Unsafe.Add(ref spill, 2 * lanes));
        TIsa.Store(c10, ref Unsafe.Add(ref spill, 3 * lanes)); TIsa.Store(c11, ref Unsafe.Add(ref spill, 4 * lanes)); TIsa.Store(c12, ref Unsafe.Add(ref spill, 5 * lanes));
        TIsa.Store(c20, ref Unsafe.Add(ref spill, 6 * lanes)); TIsa.Store(c21, ref Unsafe.Add(ref spill, 7 * lanes)); TIsa.Store(c22, ref Unsafe.Add(ref spill, 8 * lanes));
        TIsa.Store(c30, ref Unsafe.Add(ref spill, 9 * lanes)); TIsa.Store(c31, ref Unsafe.Add(ref spill, 10 * lanes)); TIsa.Store(c32, ref Unsafe.Add(ref spill, 11 * lanes));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> As256<TV>(TV value) where TV : struct => Unsafe.As<TV, Vector256<int>>(ref value);

    /// <summary>Requantises one channel's three vectors of sums (offset included) into consecutive bytes at y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Emit(Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, float scale, in Int8ByteRequantization.Bounds bounds, ref byte y)
    {
        var multiplier = Vector256.Create(scale);
        Int8ByteRequantization.Vector(s0, multiplier, bounds, ref y);
        Int8ByteRequantization.Vector(s1, multiplier, bounds, ref Unsafe.Add(ref y, 8));
        Int8ByteRequantization.Vector(s2, multiplier, bounds, ref Unsafe.Add(ref y, 16));
    }

    /// <summary>
    /// The tile's sums (left at tile[(row·TileVectors + vector)·lanes] by <see cref="Tile4x3{TIsa, TV}"/>) requantised a
    /// value at a time: the narrow tiers, and non-finite multipliers.
    /// </summary>
    static void SpilledToBytes(ReadOnlySpan<int> tile, int lanes, scoped in TileOutput output, ref byte y, int yStride)
    {
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < TileVectors * lanes; k++)
                Unsafe.Add(ref y, i * yStride + k) = Int8ByteRequantization.Scalar(tile[i * TileVectors * lanes + k], output.Scales[i], output.ZeroPoint, output.Signed);
    }
}
