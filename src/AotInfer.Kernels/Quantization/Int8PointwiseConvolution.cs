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

    /// <summary>
    /// Ints per channel quad of the laid-out image: the pixels (at least one vector) rounded up to a cache line, or to
    /// whole blocks of 64 for planes of 64 pixels or more (the blocks of <see cref="LaneOrderImage"/>).
    /// </summary>
    static int RowInts(int pixels) => pixels >= 64 ? (pixels + 63) / 64 * 64 : (Math.Max(pixels, 1) + 15) / 16 * 16;

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
        // The tier is a thread static: read once (DS-CNN's 64→64 layers take 2.4 µs; each read is a TLS lookup).
        var tier = QuantizedMatrixMultiply.Tier;
        bool wide = tier >= QuantizedGemmTier.Avx512BW && Avx512BW.IsSupported;
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
            Evex = wide && Avx512F.VL.IsSupported,
        };
        Span<int> image = scratch.Slice(0, (channels + 3) / 4 * rowInts);
        ReadOnlySpan<byte> input = MemoryMarshal.AsBytes(x);
        Span<byte> output = MemoryMarshal.AsBytes(y);
        // AVX-VNNI with the AVX-512 registers on a plane of whole blocks: two channels × 64 pixels a tile (see LaneOrderImage).
        bool laneOrder = unitStrides && LaneOrderFits(pixels) && layer.Evex && layer.Vector && Avx512DQ.IsSupported && Int8Gemm.UsesVnni(tier);
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<byte> sample = input.Slice(n * channels * inputSize, channels * inputSize);
            Span<byte> samplePlanes = output.Slice(n * outChannels * pixels, outChannels * pixels);
            if (laneOrder)
            {
                LaneOrderImage(sample, flip, image, layer, samplePlanes);
                continue;
            }
            if (!unitStrides) QuadInterleavedImage.InterleaveStrided(sample, channels, window, flip, zero, image, rowInts, wide);
            else
                for (int cq = 0; 4 * cq < channels; cq++)
                    QuadInterleavedImage.InterleaveRow(sample, channels, 4 * cq, 0, pixels, 0, pixels, flip, zero, image.Slice(cq * rowInts, rowInts), 0, wide);
            if (Int8Gemm.UsesVnni(tier)) Image<QuadDotAvxVnni, Vector256<int>>(image, layer, samplePlanes);
            else if (tier >= QuantizedGemmTier.Avx2 && Avx2.IsSupported) Image<QuadDotAvx2, Vector256<int>>(image, layer, samplePlanes);
            else if (tier >= QuantizedGemmTier.Vector128 && Sse2.IsSupported) Image<QuadDotSse2, Vector128<int>>(image, layer, samplePlanes);
            else Image<QuadDotScalar, int>(image, layer, samplePlanes);
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
    /// One image laid out in blocks of 64 pixels in lane order (<see cref="QuadInterleavedImage.InterleaveLaneOrder"/>),
    /// × every output channel, in tiles of two channels × one block: 16 accumulators of eight pixels, fed by eight loads
    /// and two weight broadcasts per channel quad (the EVEX registers hold them beside the accumulators), requantised
    /// with the packs that also undo the lane order (<see cref="Int8ByteRequantization.LaneOrderBlock"/>), so that each
    /// channel's 64 bytes go out in one store. The last block, moved back to end on the last pixel, writes the pixels it
    /// shares with the block before again, with the same values. Against four channels × 32 pixels with a permute per
    /// 32 bytes, this saves the lane transpose of the interleave and a third of the requantisation's shuffles, which
    /// compete with <c>vpdpbusd</c> for the same two pipes (DS-CNN's 64→64 layers of 125 pixels alone: 2.52 → 2.35 µs).
    /// </summary>
    [SkipLocalsInit]
    static void LaneOrderImage(ReadOnlySpan<byte> sample, byte flip, Span<int> image, scoped in Layer layer, Span<byte> y)
    {
        int pixels = layer.Pixels, outChannels = layer.Weights.OutChannels, quads = layer.Weights.Quads, rowInts = layer.RowInts;
        var bounds = new Int8ByteRequantization.Bounds(layer.ZeroPoint, layer.Signed);
        // An odd last channel computes a second row from the zero weights that pad its block of four, stored here.
        Span<byte> unused = stackalloc byte[64];
        ref int x = ref MemoryMarshal.GetReference(image);
        ref byte y0 = ref MemoryMarshal.GetReference(y);
        // The tile loop reads its per-channel values by reference, without bounds checks: where a block has few channel
        // quads (MobileNetV2's 16→96 on 112×112, four), the bookkeeping per tile weighs (120 against 113 µs).
        ref int weights = ref MemoryMarshal.GetArrayDataReference(layer.Weights.Values);
        ref float multipliers = ref MemoryMarshal.GetReference(layer.Multipliers);
        int multiplierStep = layer.Multipliers.Length == 1 ? 0 : 1;
        var offsets = new ChannelOffsets(layer);
        QuadInterleavedImage.InterleaveLaneOrder(sample, layer.Weights.InChannels, pixels, flip, (byte)layer.Zero, image, rowInts);
        // Block by block, every channel pair: the block's quads stay in L1 while the weights stream past (a 112×112 plane
        // is 50 KB of quads per channel; a block of it 256 bytes).
        for (int b = 0; 64 * b < pixels; b++)
        {
            ref byte row = ref Unsafe.Add(ref y0, Math.Min(64 * b, pixels - 64));
            for (int first = 0; first < outChannels; first += 2, row = ref Unsafe.Add(ref row, 2 * pixels))
            {
                bool pair = first + 1 < outChannels;
                ref float multiplier = ref Unsafe.Add(ref multipliers, multiplierStep * first);
                TwoChannelsOfBlock(ref Unsafe.Add(ref x, 64 * b), rowInts, quads, ref Unsafe.Add(ref weights, first / 4 * quads * 4 + first % 4),
                    offsets[first], pair ? offsets[first + 1] : 0, multiplier, Unsafe.Add(ref multiplier, pair ? multiplierStep : 0), bounds, layer.Signed,
                    ref row, ref pair ? ref Unsafe.Add(ref row, pixels) : ref MemoryMarshal.GetReference(unused));
            }
        }
    }

    /// <summary>
    /// The sums the channels' accumulators start at: the bias less the activation zero point's share, zx·Σ_c(w − zw),
    /// read by reference (the caller keeps the channel in range; no bias reads the row sums in its place, times 0).
    /// </summary>
    readonly ref struct ChannelOffsets
    {
        readonly ref int bias, rowSums;
        readonly int biasStep, zero;

        public ChannelOffsets(scoped in Layer layer)
        {
            rowSums = ref MemoryMarshal.GetArrayDataReference(layer.Weights.RowSums);
            bias = ref layer.Bias.IsEmpty ? ref rowSums : ref MemoryMarshal.GetReference(layer.Bias);
            biasStep = layer.Bias.IsEmpty ? 0 : 1;
            zero = layer.Zero;
        }

        public int this[int channel] => biasStep * Unsafe.Add(ref bias, channel) - zero * Unsafe.Add(ref rowSums, channel);
    }

    /// <summary>
    /// Whether a plane of <paramref name="pixels"/> goes in blocks of 64: 64 pixels or more, and the blocks (the last
    /// moved back) compute no more than 1/32 more pixels than vectors of eight do (125 pixels: 128 either way; 196: 256
    /// against 200, slower).
    /// </summary>
    static bool LaneOrderFits(int pixels)
    {
        int blocked = (pixels + 63) / 64 * 64, vectors = (pixels + 7) / 8 * 8;
        return pixels >= 64 && 32 * (blocked - vectors) <= vectors;
    }

    /// <summary>
    /// Two channels (weight quads at <paramref name="w"/> and the next int, four ints per channel quad) × the 64 pixels
    /// of the block at <paramref name="x"/> (<paramref name="rowInts"/> apart per channel quad), requantised into 64 bytes
    /// at <paramref name="y0"/> and at <paramref name="y1"/>. Inlined: a call per tile (its arguments on the stack, a
    /// vzeroupper on return) cost DS-CNN's 64→64 layers 2.40 against 2.34 µs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TwoChannelsOfBlock(ref int x, int rowInts, int quads, ref int w, int offset0, int offset1, in float multiplier0, in float multiplier1,
        in Int8ByteRequantization.Bounds bounds, bool signed, ref byte y0, ref byte y1)
    {
        var sums0 = new BlockSums(offset0);
        var sums1 = new BlockSums(offset1);
        for (int q = 0; q < quads; q++)
        {
            var pixels = new BlockQuads(ref x);
            sums0.Add(pixels, Vector256.Create(w).AsSByte());
            sums1.Add(pixels, Vector256.Create(Unsafe.Add(ref w, 1)).AsSByte());
            x = ref Unsafe.Add(ref x, rowInts);
            w = ref Unsafe.Add(ref w, 4);
        }
        // The multipliers come by reference and become vectors only here: a float argument (in xmm0, xmm1) or a vector made
        // before the loop holds one of the 16 registers that vpdpbusd's accumulators need (the JIT keeps them in
        // xmm0…15), and two accumulators then move in and out of it at every quad.
        sums0.Requantise(Vector512.Create(multiplier0), bounds, signed, ref y0);
        sums1.Requantise(Vector512.Create(multiplier1), bounds, signed, ref y1);
    }

    /// <summary>The quads of one channel quad at a block of 64 pixels, eight vectors (the JIT keeps the fields in registers).</summary>
    readonly struct BlockQuads
    {
        public readonly Vector256<byte> A0, A1, A2, A3, A4, A5, A6, A7;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public BlockQuads(ref int x)
        {
            A0 = Vector256.LoadUnsafe(ref x).AsByte();
            A1 = Vector256.LoadUnsafe(ref x, 8).AsByte();
            A2 = Vector256.LoadUnsafe(ref x, 16).AsByte();
            A3 = Vector256.LoadUnsafe(ref x, 24).AsByte();
            A4 = Vector256.LoadUnsafe(ref x, 32).AsByte();
            A5 = Vector256.LoadUnsafe(ref x, 40).AsByte();
            A6 = Vector256.LoadUnsafe(ref x, 48).AsByte();
            A7 = Vector256.LoadUnsafe(ref x, 56).AsByte();
        }
    }

    /// <summary>One channel's sums over a block of 64 pixels in lane order: eight accumulators of eight pixels.</summary>
    struct BlockSums
    {
        Vector256<int> s0, s1, s2, s3, s4, s5, s6, s7;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public BlockSums(int offset)
        {
            s0 = Vector256.Create(offset);
            (s1, s2, s3, s4, s5, s6, s7) = (s0, s0, s0, s0, s0, s0, s0);
        }

        /// <summary>Adds the products of <paramref name="pixels"/>' quads with one weight quad in every lane (<c>vpdpbusd</c>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(in BlockQuads pixels, Vector256<sbyte> weight)
        {
            s0 = AvxVnni.MultiplyWideningAndAdd(s0, pixels.A0, weight);
            s1 = AvxVnni.MultiplyWideningAndAdd(s1, pixels.A1, weight);
            s2 = AvxVnni.MultiplyWideningAndAdd(s2, pixels.A2, weight);
            s3 = AvxVnni.MultiplyWideningAndAdd(s3, pixels.A3, weight);
            s4 = AvxVnni.MultiplyWideningAndAdd(s4, pixels.A4, weight);
            s5 = AvxVnni.MultiplyWideningAndAdd(s5, pixels.A5, weight);
            s6 = AvxVnni.MultiplyWideningAndAdd(s6, pixels.A6, weight);
            s7 = AvxVnni.MultiplyWideningAndAdd(s7, pixels.A7, weight);
        }

        /// <summary>The block's 64 bytes in pixel order at <paramref name="y"/> (<see cref="Int8ByteRequantization.LaneOrderBlock"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Requantise(Vector512<float> multiplier, in Int8ByteRequantization.Bounds bounds, bool signed, ref byte y) =>
            Int8ByteRequantization.LaneOrderBlock(s0, s1, s2, s3, s4, s5, s6, s7, multiplier, bounds, signed, ref y);
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
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c00), Int8ChannelTiles.As256(c01), Int8ChannelTiles.As256(c02), Int8ChannelTiles.As256(c03), scales[0], tile.Evex, tile.Signed, tile.Bounds, ref y);
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c10), Int8ChannelTiles.As256(c11), Int8ChannelTiles.As256(c12), Int8ChannelTiles.As256(c13), scales[1], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, yStride));
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c20), Int8ChannelTiles.As256(c21), Int8ChannelTiles.As256(c22), Int8ChannelTiles.As256(c23), scales[2], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 2 * yStride));
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c30), Int8ChannelTiles.As256(c31), Int8ChannelTiles.As256(c32), Int8ChannelTiles.As256(c33), scales[3], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 3 * yStride));
            if (!eight) return;
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c40), Int8ChannelTiles.As256(c41), default, default, scales[4], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 4 * yStride));
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c50), Int8ChannelTiles.As256(c51), default, default, scales[5], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 5 * yStride));
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c60), Int8ChannelTiles.As256(c61), default, default, scales[6], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 6 * yStride));
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c70), Int8ChannelTiles.As256(c71), default, default, scales[7], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 7 * yStride));
            return;
        }
        ref int spill = ref MemoryMarshal.GetReference(tile.Spill);
        int row = n * lanes;
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c00, c01, c02, c03, ref spill);
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c10, c11, c12, c13, ref Unsafe.Add(ref spill, row));
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c20, c21, c22, c23, ref Unsafe.Add(ref spill, 2 * row));
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c30, c31, c32, c33, ref Unsafe.Add(ref spill, 3 * row));
        if (!eight) return;
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c40, c41, default, default, ref Unsafe.Add(ref spill, 4 * row));
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c50, c51, default, default, ref Unsafe.Add(ref spill, 5 * row));
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c60, c61, default, default, ref Unsafe.Add(ref spill, 6 * row));
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c70, c71, default, default, ref Unsafe.Add(ref spill, 7 * row));
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
