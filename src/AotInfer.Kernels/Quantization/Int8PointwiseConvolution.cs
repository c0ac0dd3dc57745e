using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// QLinearConv of a 1×1 kernel without padding (one group; unit strides, or any strides in 2-D): y[m, p] = saturate(round_half_even((Σ_c
/// (x[c, p] − zx)·(w[m, c] − zw[m]) + bias[m]) · multipliers[m]) + zy). The image, a [C][P] byte matrix per sample, is
/// interleaved once into four-channel quads along each pixel row (<see cref="QuadInterleavedImage"/>), the weights
/// are packed once (<see cref="Int8ConvWeights"/>, four output channels side by side), and a tile of four output
/// channels × up to four vectors of pixels accumulates on <c>vpdpbusd</c> where the CPU has AVX-VNNI
/// (<see cref="IInt8QuadDot{TV}"/>) from accumulators that start at the channel's offset, then requantises in
/// registers straight into the output bytes.
/// </summary>
/// <remarks>
/// The plane is one row of H·W pixels (the planes of small models are 25×5, 7×7: rows narrower than a vector; a 2-D
/// layer with strides gathers the pixels it reads into that row), and a
/// partial last vector moves back to end on the last pixel (the pixels it repeats get the same bytes again), so
/// every tile is whole. The byte GEMM <see cref="Int8Gemm.MultiplyColumns"/> did four channels ×
/// one panel per tile, then a second pass over int32 sums to requantise.
/// Activations are unsigned in the kernel (s8 images flip their top bit with their zero point); the activation zero
/// point folds into one offset per channel, bias − zx·Σ_c(w − zw).
/// </remarks>
public static class Int8PointwiseConvolution
{
    /// <summary>The most pixel vectors a tile holds: four channels × four vectors is 16 accumulators.</summary>
    const int MaxTileVectors = 4;

    /// <summary>Ints per channel quad of the laid-out image: the pixels (at least one vector) rounded up to a cache line.</summary>
    static int RowInts(int pixels) => (Math.Max(pixels, 1) + 15) / 16 * 16;

    /// <summary>Ints of scratch <see cref="ConvolveToBytes{TX, TY}"/> needs for <paramref name="inChannels"/> channels of <paramref name="pixels"/> pixels.</summary>
    public static int ScratchLength(int inChannels, int pixels) => (inChannels + 3) / 4 * RowInts(pixels);

    /// <summary>
    /// The QLinearConv of the class summary for a batch of NCHW byte images; <paramref name="geometry"/> is the layer's
    /// window (<c>Window</c> packing): a 1×…×1 kernel without padding, unit strides (any rank) or, in 2-D, any strides
    /// (a stride-2 shortcut reads every other pixel of every other row). One multiplier or one per output channel, an
    /// empty bias means none, an empty zero point 0. <paramref name="scratch"/>: <see cref="ScratchLength"/>(C, output
    /// positions) ints.
    /// </summary>
    public static void ConvolveToBytes<TX, TY>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8ConvWeights weights, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TY> y, Span<int> scratch, int batch, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TY : unmanaged, IBinaryInteger<TY>
    {
        if (Unsafe.SizeOf<TX>() != 1) throw new ArgumentException($"the input must be byte or sbyte, not {typeof(TX).Name}");
        if (Unsafe.SizeOf<TY>() != 1) throw new ArgumentException($"the output must be byte or sbyte, not {typeof(TY).Name}");
        if (weights.KernelSize != 1) throw new ArgumentException($"packed weights have {weights.KernelSize} kernel positions, a pointwise layer 1");
        var window = new Window(geometry);
        bool unitStrides = true;
        for (int d = 0; d < window.Rank; d++)
        {
            if (window.Kernel(d) != 1 || window.PadBegin(d) != 0 || window.PadEnd(d) != 0)
                throw new ArgumentException($"the pointwise convolution takes a 1×1 kernel without padding, got {window.Kernel(d)} and pads {window.PadBegin(d)}, {window.PadEnd(d)} along dimension {d}");
            unitStrides &= window.Stride(d) == 1;
        }
        if (!unitStrides && window.Rank != 2) throw new ArgumentException($"the pointwise convolution takes strides other than 1 in 2-D only, got rank {window.Rank}");
        int channels = weights.InChannels, outChannels = weights.OutChannels, pixels = window.OutputSize, inputSize = window.InputSize, rowInts = RowInts(pixels);
        if (multipliers.Length != 1 && multipliers.Length != outChannels) throw new ArgumentException($"expected 1 or {outChannels} multipliers, got {multipliers.Length}");
        if (scratch.Length < ScratchLength(channels, pixels)) throw new ArgumentException($"scratch holds {scratch.Length} ints, expected {ScratchLength(channels, pixels)}");
        if (x.Length < batch * channels * inputSize) throw new ArgumentException("x is shorter than batch × channels × input size");
        if (y.Length < batch * outChannels * pixels) throw new ArgumentException("y is shorter than batch × output channels × output size");
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
            Evex = QuantizedMatrixMultiply.Tier >= QuantizedGemmTier.Avx512BW && Avx512F.VL.IsSupported,
        };
        Span<int> image = scratch.Slice(0, (channels + 3) / 4 * rowInts);
        ReadOnlySpan<byte> input = MemoryMarshal.AsBytes(x);
        Span<byte> output = MemoryMarshal.AsBytes(y);
        var tier = QuantizedMatrixMultiply.Tier;
        bool wide = QuadInterleavedImage.Wide;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<byte> sample = input.Slice(n * channels * inputSize, channels * inputSize);
            if (!unitStrides) QuadInterleavedImage.InterleaveStrided(sample, channels, window, flip, zero, image, rowInts, wide);
            else
                for (int cq = 0; 4 * cq < channels; cq++)
                    QuadInterleavedImage.InterleaveRow(sample, channels, 4 * cq, 0, pixels, 0, pixels, flip, zero, image.Slice(cq * rowInts, rowInts), 0, wide);
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
        /// <summary>Whether the tier in use is AVX-512's: 32 vector registers.</summary>
        public bool Evex;
    }

    /// <summary>
    /// One laid-out image × every output channel, eight channels (two blocks of four) at a time: the vectors of pixels
    /// (a partial last one moved back to end on the last pixel) in tiles of four channels × three vectors (four where
    /// EVEX gives the tile's loads registers of their own), then the vectors left over, ending on the last pixel, in
    /// tiles of eight channels, so that even the short tiles keep eight accumulators or more in flight (one
    /// <c>vpdpbusd</c> chain per accumulator: four alone wait on its latency). A plane narrower than a tile, and
    /// blocks past the last channel, go through a buffer.
    /// </summary>
    [SkipLocalsInit]
    static void Image<TIsa, TV>(ReadOnlySpan<int> image, scoped in Layer layer, Span<byte> y) where TIsa : IInt8QuadDot<TV> where TV : struct
    {
        int lanes = TIsa.Lanes, pixels = layer.Pixels, outChannels = layer.Weights.OutChannels, quads = layer.Weights.Quads;
        // A partial last vector counts as a whole one moved back to end on the last pixel: it repeats a few pixels and
        // writes their bytes again with the same values, instead of going through the buffer.
        int vectors = (pixels + lanes - 1) / lanes;
        // The JIT keeps vpdpbusd accumulators in the 16 VEX registers; with EVEX (the AVX-512 tier) the loads and
        // broadcasts use the other 16, which leaves room for a fourth vector (more products per weight broadcast).
        bool four = typeof(TV) == typeof(Vector256<int>) && layer.Evex;
        int mainVectors = four ? 4 : 3, mainWidth = mainVectors * lanes, mainTiles = vectors / mainVectors, left = vectors - mainTiles * mainVectors;
        // The vectors left over end on the last pixel (a plane narrower than them starts at 0 and goes through the buffer).
        int leftStart = pixels - left * lanes;
        Span<int> offsets = stackalloc int[8];
        Span<float> scales = stackalloc float[8];
        Span<int> spill = stackalloc int[8 * MaxTileVectors * 8];
        Span<byte> partial = stackalloc byte[8 * MaxTileVectors * 8];
        var tile = new Tile
        {
            X = ref MemoryMarshal.GetReference(image), RowInts = layer.RowInts, Quads = quads, Spill = spill, Partial = partial, Pixels = pixels,
            Bounds = new Int8ByteRequantization.Bounds(layer.ZeroPoint, layer.Signed), ZeroPoint = layer.ZeroPoint, Signed = layer.Signed,
            Vector = typeof(TV) == typeof(Vector256<int>) && layer.Vector,
            Evex = layer.Evex,
        };
        for (int first = 0; first < outChannels; first += 8)
        {
            int rows = Math.Min(8, outChannels - first);
            for (int i = 0; i < 8; i++)
            {
                int channel = Math.Min(first + i, outChannels - 1);
                offsets[i] = (layer.Bias.IsEmpty ? 0 : layer.Bias[channel]) - layer.Zero * layer.Weights.RowSums[channel];
                scales[i] = layer.Multipliers[layer.Multipliers.Length == 1 ? 0 : channel];
            }
            Span<byte> planes = y.Slice(first * pixels);
            ref int w = ref layer.Weights.Values[first * quads];
            // The main tiles, one block of four channels after the other (the last one moved back if the plane ends inside it).
            for (int b = 0; 4 * b < rows; b++)
            {
                ref int blockWeights = ref Unsafe.Add(ref w, b * quads * 4);
                Span<int> blockOffsets = offsets.Slice(4 * b);
                Span<float> blockScales = scales.Slice(4 * b);
                Span<byte> blockPlanes = planes.Slice(4 * b * pixels);
                int blockRows = Math.Min(4, rows - 4 * b);
                for (int t = 0; t < mainTiles; t++)
                {
                    int start = Math.Max(0, Math.Min(t * mainWidth, pixels - mainWidth));
                    if (four) Run<TIsa, TV, FourRows, FourVectors>(ref tile, ref blockWeights, blockOffsets, blockScales, start, blockRows, blockPlanes);
                    else Run<TIsa, TV, FourRows, ThreeVectors>(ref tile, ref blockWeights, blockOffsets, blockScales, start, blockRows, blockPlanes);
                }
                if (rows > 4 || left == 0) continue;
                // A last block of four channels or fewer: its short tiles are four channels high.
                if (left == 3) Run<TIsa, TV, FourRows, ThreeVectors>(ref tile, ref blockWeights, blockOffsets, blockScales, leftStart, blockRows, blockPlanes);
                if (left == 2) Run<TIsa, TV, FourRows, TwoVectors>(ref tile, ref blockWeights, blockOffsets, blockScales, leftStart, blockRows, blockPlanes);
                if (left == 1) Run<TIsa, TV, FourRows, OneVector>(ref tile, ref blockWeights, blockOffsets, blockScales, leftStart, blockRows, blockPlanes);
            }
            if (rows <= 4 || left == 0) continue;
            // Eight channels hold two vectors at most: three left over are two and one.
            if (left >= 2) Run<TIsa, TV, EightRows, TwoVectors>(ref tile, ref w, offsets, scales, leftStart, rows, planes);
            if (left == 3) Run<TIsa, TV, EightRows, OneVector>(ref tile, ref w, offsets, scales, leftStart + 2 * lanes, rows, planes);
            if (left == 1) Run<TIsa, TV, EightRows, OneVector>(ref tile, ref w, offsets, scales, leftStart, rows, planes);
        }
    }

    /// <summary>
    /// One tile of <typeparamref name="TRows"/> channels (weights at <paramref name="w"/>, <paramref name="rows"/> of them
    /// real) at pixel <paramref name="start"/> (a start before 0 is 0: a plane narrower than the tile) into the channels'
    /// planes: straight when every channel is real and the tile lies inside the plane, else through the buffer, which
    /// keeps the pixels of the plane.
    /// </summary>
    static void Run<TIsa, TV, TRows, TCount>(ref Tile tile, ref int w, Span<int> offsets, Span<float> scales, int start, int rows, Span<byte> planes)
        where TIsa : IInt8QuadDot<TV> where TV : struct where TRows : IRowCount where TCount : IVectorCount
    {
        int width = TCount.Count * TIsa.Lanes, pixels = tile.Pixels;
        start = Math.Max(start, 0);
        int count = Math.Min(width, pixels - start);
        if (rows == TRows.Count && count == width)
        {
            Multiply<TIsa, TV, TRows, TCount>(ref tile, ref w, offsets, scales, start, ref planes[start], pixels);
            if (!tile.Vector) SpilledToBytes(ref tile, scales, TRows.Count, width, ref planes[start], pixels);
            return;
        }
        Span<byte> partial = tile.Partial;
        Multiply<TIsa, TV, TRows, TCount>(ref tile, ref w, offsets, scales, start, ref partial[0], width);
        if (!tile.Vector) SpilledToBytes(ref tile, scales, TRows.Count, width, ref partial[0], width);
        for (int i = 0; i < rows; i++) partial.Slice(i * width, count).CopyTo(planes.Slice(i * pixels + start, count));
    }

    /// <summary>What every tile of a layer shares: the image, the requantisation, the buffers.</summary>
    ref struct Tile
    {
        public ref int X;
        public int RowInts;
        public int Quads;
        public int Pixels;
        /// <summary>The sums, when they are not requantised as vectors: spill[(row·vectors + vector)·lanes].</summary>
        public Span<int> Spill;
        /// <summary>The bytes of a tile that does not go straight to the planes.</summary>
        public Span<byte> Partial;
        public Int8ByteRequantization.Bounds Bounds;
        public int ZeroPoint;
        public bool Signed;
        /// <summary>Whether the sums requantise as 256-bit vectors in the tile (every multiplier finite, eight-lane tier).</summary>
        public bool Vector;
        /// <summary>Whether the tier in use is AVX-512's (pairs of vectors requantise as one).</summary>
        public bool Evex;
    }

    /// <summary>Pixel vectors per tile, as a type: the tile's loop is unrolled for it (the JIT drops the unused accumulators).</summary>
    interface IVectorCount
    {
        static abstract int Count { get; }
    }

    readonly struct OneVector : IVectorCount { public static int Count => 1; }

    readonly struct TwoVectors : IVectorCount { public static int Count => 2; }

    readonly struct ThreeVectors : IVectorCount { public static int Count => 3; }

    readonly struct FourVectors : IVectorCount { public static int Count => 4; }

    /// <summary>Output channels per tile, as a type: four (one block of packed weights) or eight (two; two vectors at most).</summary>
    interface IRowCount
    {
        static abstract int Count { get; }
    }

    readonly struct FourRows : IRowCount { public static int Count => 4; }

    readonly struct EightRows : IRowCount { public static int Count => 8; }

    /// <summary>
    /// <typeparamref name="TRows"/> output channels × <typeparamref name="TCount"/> pixel vectors from pixel
    /// <paramref name="start"/>, over every channel quad, from accumulators that start at the channels' offsets;
    /// requantised into y (channel i's bytes at y + i·<paramref name="yStride"/>) or left in the spill buffer. Eight
    /// channels read the second block's weight quads one block further on.
    /// </summary>
    static void Multiply<TIsa, TV, TRows, TCount>(ref Tile tile, ref int w, Span<int> offsetSpan, Span<float> scales, int start, ref byte y, int yStride)
        where TIsa : IInt8QuadDot<TV> where TV : struct where TRows : IRowCount where TCount : IVectorCount
    {
        int lanes = TIsa.Lanes, n = TCount.Count, rowInts = tile.RowInts, quads = tile.Quads;
        bool eight = TRows.Count == 8;
        ref int x = ref Unsafe.Add(ref tile.X, start);
        ref int w2 = ref Unsafe.Add(ref w, eight ? quads * 4 : 0);
        ref int offsets = ref MemoryMarshal.GetReference(offsetSpan);
        TV c00 = TIsa.Broadcast(ref offsets), c01 = c00, c02 = c00, c03 = c00;
        TV c10 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 1)), c11 = c10, c12 = c10, c13 = c10;
        TV c20 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 2)), c21 = c20, c22 = c20, c23 = c20;
        TV c30 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 3)), c31 = c30, c32 = c30, c33 = c30;
        TV c40 = eight ? TIsa.Broadcast(ref Unsafe.Add(ref offsets, 4)) : default, c41 = c40;
        TV c50 = eight ? TIsa.Broadcast(ref Unsafe.Add(ref offsets, 5)) : default, c51 = c50;
        TV c60 = eight ? TIsa.Broadcast(ref Unsafe.Add(ref offsets, 6)) : default, c61 = c60;
        TV c70 = eight ? TIsa.Broadcast(ref Unsafe.Add(ref offsets, 7)) : default, c71 = c70;
        for (int q = 0; q < quads; q++)
        {
            TV a0 = TIsa.Load(ref x);
            TV a1 = n > 1 ? TIsa.Load(ref Unsafe.Add(ref x, lanes)) : default;
            TV a2 = n > 2 ? TIsa.Load(ref Unsafe.Add(ref x, 2 * lanes)) : default;
            TV a3 = n > 3 ? TIsa.Load(ref Unsafe.Add(ref x, 3 * lanes)) : default;
            TV weight = TIsa.Broadcast(ref w);
            c00 = TIsa.Dot(c00, a0, weight);
            if (n > 1) c01 = TIsa.Dot(c01, a1, weight);
            if (n > 2) c02 = TIsa.Dot(c02, a2, weight);
            if (n > 3) c03 = TIsa.Dot(c03, a3, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 1));
            c10 = TIsa.Dot(c10, a0, weight);
            if (n > 1) c11 = TIsa.Dot(c11, a1, weight);
            if (n > 2) c12 = TIsa.Dot(c12, a2, weight);
            if (n > 3) c13 = TIsa.Dot(c13, a3, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 2));
            c20 = TIsa.Dot(c20, a0, weight);
            if (n > 1) c21 = TIsa.Dot(c21, a1, weight);
            if (n > 2) c22 = TIsa.Dot(c22, a2, weight);
            if (n > 3) c23 = TIsa.Dot(c23, a3, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 3));
            c30 = TIsa.Dot(c30, a0, weight);
            if (n > 1) c31 = TIsa.Dot(c31, a1, weight);
            if (n > 2) c32 = TIsa.Dot(c32, a2, weight);
            if (n > 3) c33 = TIsa.Dot(c33, a3, weight);
            if (eight)
            {
                weight = TIsa.Broadcast(ref w2);
                c40 = TIsa.Dot(c40, a0, weight);
                if (n > 1) c41 = TIsa.Dot(c41, a1, weight);
                weight = TIsa.Broadcast(ref Unsafe.Add(ref w2, 1));
                c50 = TIsa.Dot(c50, a0, weight);
                if (n > 1) c51 = TIsa.Dot(c51, a1, weight);
                weight = TIsa.Broadcast(ref Unsafe.Add(ref w2, 2));
                c60 = TIsa.Dot(c60, a0, weight);
                if (n > 1) c61 = TIsa.Dot(c61, a1, weight);
                weight = TIsa.Broadcast(ref Unsafe.Add(ref w2, 3));
                c70 = TIsa.Dot(c70, a0, weight);
                if (n > 1) c71 = TIsa.Dot(c71, a1, weight);
                w2 = ref Unsafe.Add(ref w2, 4);
            }
            x = ref Unsafe.Add(ref x, rowInts);
            w = ref Unsafe.Add(ref w, 4);
        }
        if (typeof(TV) == typeof(Vector256<int>) && tile.Vector)
        {
            // No calls here: a call would make the JIT keep the accumulators in memory across the loop.
            Emit<TCount>(As256(c00), As256(c01), As256(c02), As256(c03), scales[0], tile.Evex, tile.Signed, tile.Bounds, ref y);
            Emit<TCount>(As256(c10), As256(c11), As256(c12), As256(c13), scales[1], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, yStride));
            Emit<TCount>(As256(c20), As256(c21), As256(c22), As256(c23), scales[2], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 2 * yStride));
            Emit<TCount>(As256(c30), As256(c31), As256(c32), As256(c33), scales[3], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 3 * yStride));
            if (!eight) return;
            Emit<TCount>(As256(c40), As256(c41), default, default, scales[4], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 4 * yStride));
            Emit<TCount>(As256(c50), As256(c51), default, default, scales[5], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 5 * yStride));
            Emit<TCount>(As256(c60), As256(c61), default, default, scales[6], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 6 * yStride));
            Emit<TCount>(As256(c70), As256(c71), default, default, scales[7], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 7 * yStride));
            return;
        }
        ref int spill = ref MemoryMarshal.GetReference(tile.Spill);
        int row = n * lanes;
        Spill<TIsa, TV, TCount>(c00, c01, c02, c03, ref spill);
        Spill<TIsa, TV, TCount>(c10, c11, c12, c13, ref Unsafe.Add(ref spill, row));
        Spill<TIsa, TV, TCount>(c20, c21, c22, c23, ref Unsafe.Add(ref spill, 2 * row));
        Spill<TIsa, TV, TCount>(c30, c31, c32, c33, ref Unsafe.Add(ref spill, 3 * row));
        if (!eight) return;
        Spill<TIsa, TV, TCount>(c40, c41, default, default, ref Unsafe.Add(ref spill, 4 * row));
        Spill<TIsa, TV, TCount>(c50, c51, default, default, ref Unsafe.Add(ref spill, 5 * row));
        Spill<TIsa, TV, TCount>(c60, c61, default, default, ref Unsafe.Add(ref spill, 6 * row));
        Spill<TIsa, TV, TCount>(c70, c71, default, default, ref Unsafe.Add(ref spill, 7 * row));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> As256<TV>(TV value) where TV : struct => Unsafe.As<TV, Vector256<int>>(ref value);

    /// <summary>
    /// Requantises one channel's vectors of sums (offset included) into consecutive bytes at y: pairs of vectors as one
    /// 512-bit vector on the AVX-512 tier (<paramref name="wide"/>), four vectors clamped by saturating packs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Emit<TCount>(Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, Vector256<int> s3, float scale, bool wide, bool signed,
        in Int8ByteRequantization.Bounds bounds, ref byte y)
        where TCount : IVectorCount
    {
        if (TCount.Count > 1 && wide && Avx512F.IsSupported)
        {
            var multiplier512 = Vector512.Create(scale);
            if (TCount.Count > 3 && Avx512DQ.IsSupported)
            {
                Int8ByteRequantization.Vector(s0, s1, s2, s3, multiplier512, bounds, signed, ref y);
                return;
            }
            Int8ByteRequantization.Vector(s0, s1, multiplier512, bounds, ref y);
            if (TCount.Count > 3) Int8ByteRequantization.Vector(s2, s3, multiplier512, bounds, ref Unsafe.Add(ref y, 16));
            else if (TCount.Count > 2) Int8ByteRequantization.Vector(s2, Vector256.Create(scale), bounds, ref Unsafe.Add(ref y, 16));
            return;
        }
        var multiplier = Vector256.Create(scale);
        Int8ByteRequantization.Vector(s0, multiplier, bounds, ref y);
        if (TCount.Count > 1) Int8ByteRequantization.Vector(s1, multiplier, bounds, ref Unsafe.Add(ref y, 8));
        if (TCount.Count > 2) Int8ByteRequantization.Vector(s2, multiplier, bounds, ref Unsafe.Add(ref y, 16));
        if (TCount.Count > 3) Int8ByteRequantization.Vector(s3, multiplier, bounds, ref Unsafe.Add(ref y, 24));
    }

    /// <summary>Stores one channel's vectors of sums side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Spill<TIsa, TV, TCount>(TV s0, TV s1, TV s2, TV s3, ref int destination) where TIsa : IInt8QuadDot<TV> where TV : struct where TCount : IVectorCount
    {
        TIsa.Store(s0, ref destination);
        if (TCount.Count > 1) TIsa.Store(s1, ref Unsafe.Add(ref destination, TIsa.Lanes));
        if (TCount.Count > 2) TIsa.Store(s2, ref Unsafe.Add(ref destination, 2 * TIsa.Lanes));
        if (TCount.Count > 3) TIsa.Store(s3, ref Unsafe.Add(ref destination, 3 * TIsa.Lanes));
    }

    /// <summary>
    /// The tile's spilled sums (<paramref name="rows"/> channels of <paramref name="width"/>) requantised a value at a
    /// time: the narrow tiers, and non-finite multipliers.
    /// </summary>
    static void SpilledToBytes(ref Tile tile, Span<float> scales, int rows, int width, ref byte y, int yStride)
    {
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < width; k++)
                Unsafe.Add(ref y, i * yStride + k) = Int8ByteRequantization.Scalar(tile.Spill[i * width + k], scales[i], tile.ZeroPoint, tile.Signed);
    }
}
