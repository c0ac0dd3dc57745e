using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// QLinearConv of a 2-D layer with one input channel (one group; any kernel, stride, dilation and padding):
/// y[m, p] = saturate(round_half_even((Σ_k (x[k(p)] − zx)·(w[m, k] − zw[m]) + bias[m]) · multipliers[m]) + zy), run as a
/// small GEMM of [M, K] weights × [K, P] activations. The image is laid out once per call as horizontal tap quads
/// (<see cref="HorizontalTapLayout"/>: four consecutive taps of a kernel row in one int, the ints of consecutive output
/// positions consecutive at every tap, so a vector of positions is one load), the weights are packed once as the same
/// quads (<see cref="Int8ConvWeights.PackSingleChannel{T}"/>), and a tile of four output channels × up to four vectors of
/// output positions accumulates on <c>vpdpbusd</c> where the CPU has AVX-VNNI (<see cref="IInt8QuadDot{TV}"/>) from
/// accumulators that start at the channel's offset, then requantises in registers straight into the output planes.
/// </summary>
/// <remarks>
/// The output plane is one flat row of positions (DS-CNN's stem: 25×5 = 125, four tiles of 32 per channel block), and a
/// last partial tile moves back to end on the last position (it writes a few bytes again with the same values), so
/// every tile is whole: only planes narrower than a tile and a last block of fewer than four channels go through a
/// buffer. <see cref="Int8DirectConvolution"/>
/// walks the same layout in tiles of three vectors whose last partial vector spills its sums and requantises them
/// through a buffer: 2.91 µs on the stem against 1.68 µs here (GemmBench int8onechannel, AVX-512 tier with AVX-VNNI,
/// thread CPU time); its 10 240 <c>vpdpbusd</c> alone take 5 120 cycles at two per cycle, 1.22 µs at 4.19 GHz.
/// Activations are unsigned in the kernel (s8 images flip their top bit with their zero point), and the activation zero
/// point folds into one offset per channel, bias − zx·Σ_k(w − zw), so padding (filled with zx) adds exactly 0.
/// </remarks>
public static class Int8SingleChannelConvolution
{
    /// <summary>The most pixel vectors a tile holds: four channels × four vectors is 16 accumulators.</summary>
    const int MaxTileVectors = 4;

    /// <summary>Ints of scratch <see cref="ConvolveToBytes{TX, TY}"/> needs for this <paramref name="geometry"/> (<c>Window</c> packing): the laid-out image and one tap offset per quad.</summary>
    public static int ScratchLength(int[] geometry)
    {
        var layout = new HorizontalTapLayout(new Window(geometry));
        return layout.Length + layout.Quads;
    }

    /// <summary>
    /// The QLinearConv of the class summary for a batch of NCHW byte images of one channel; <paramref name="weights"/>
    /// packed by <see cref="Int8ConvWeights.PackSingleChannel{T}"/> for this kernel. One multiplier or one per output
    /// channel, an empty bias means none, an empty zero point 0. <paramref name="scratch"/>: <see cref="ScratchLength"/> ints.
    /// </summary>
    public static void ConvolveToBytes<TX, TY>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8ConvWeights weights, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TY> y, Span<int> scratch, int batch, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TY : unmanaged, IBinaryInteger<TY>
    {
        if (Unsafe.SizeOf<TX>() != 1) throw new ArgumentException($"the input must be byte or sbyte, not {typeof(TX).Name}");
        if (Unsafe.SizeOf<TY>() != 1) throw new ArgumentException($"the output must be byte or sbyte, not {typeof(TY).Name}");
        var window = new Window(geometry);
        if (window.Rank != 2) throw new ArgumentException($"the one-channel int8 convolution is 2-D, got rank {window.Rank}");
        if (weights.InChannels != 1 || weights.KernelWidth != window.Kernel(1) || weights.KernelSize != window.KernelSize)
            throw new ArgumentException($"the weights must be packed by PackSingleChannel for a {window.Kernel(0)}×{window.Kernel(1)} kernel, got {weights.InChannels} input channels, " +
                                        $"{weights.KernelSize} kernel positions, kernel width {weights.KernelWidth}");
        int outChannels = weights.OutChannels, inputSize = window.InputSize, pixels = window.OutputSize;
        if (multipliers.Length != 1 && multipliers.Length != outChannels) throw new ArgumentException($"expected 1 or {outChannels} multipliers, got {multipliers.Length}");
        if (scratch.Length < ScratchLength(geometry)) throw new ArgumentException($"scratch holds {scratch.Length} ints, expected {ScratchLength(geometry)}");
        if (x.Length < batch * inputSize) throw new ArgumentException("x is shorter than batch × input size");
        if (y.Length < batch * outChannels * pixels) throw new ArgumentException("y is shorter than batch × output channels × output size");
        if (!bias.IsEmpty && bias.Length < outChannels) throw new ArgumentException($"bias holds {bias.Length} values, expected {outChannels}");

        // The kernel multiplies unsigned activations: s8 images (and their zero point) flip their top bit.
        byte flip = typeof(TX) == typeof(sbyte) ? (byte)0x80 : (byte)0;
        byte zero = (byte)((xZeroPoint.IsEmpty ? (byte)0 : byte.CreateTruncating(xZeroPoint[0])) ^ flip);
        var layout = new HorizontalTapLayout(window);
        Span<int> image = scratch.Slice(0, layout.Length), taps = scratch.Slice(layout.Length, layout.Quads);
        for (int ky = 0, q = 0; ky < window.Kernel(0); ky++)
            for (int kq = 0; kq < layout.RowQuads; kq++) taps[q++] = layout.TapOffset(ky, kq);
        var tier = QuantizedMatrixMultiply.Tier;
        var layer = new Layer
        {
            Weights = weights,
            Bias = bias,
            Zero = zero,
            Multipliers = multipliers,
            ZeroPoint = yZeroPoint,
            Signed = typeof(TY) == typeof(sbyte),
            Vector = Int8ByteRequantization.AllFinite(multipliers) && tier >= QuantizedGemmTier.Avx2 && Avx2.IsSupported,
            Evex = tier >= QuantizedGemmTier.Avx512BW && Avx512F.VL.IsSupported,
            Pixels = pixels,
        };
        ReadOnlySpan<byte> input = MemoryMarshal.AsBytes(x);
        Span<byte> output = MemoryMarshal.AsBytes(y);
        for (int n = 0; n < batch; n++)
        {
            HorizontalTapColumns.Build(input.Slice(n * inputSize, inputSize), layout, flip, zero, image, tier);
            Span<byte> planes = output.Slice(n * outChannels * pixels, outChannels * pixels);
            if (Int8Gemm.UsesVnni(tier)) Plane<QuadDotAvxVnni, Vector256<int>>(image, taps, layer, planes);
            else if (tier >= QuantizedGemmTier.Avx2 && Avx2.IsSupported) Plane<QuadDotAvx2, Vector256<int>>(image, taps, layer, planes);
            else if (tier >= QuantizedGemmTier.Vector128 && Sse2.IsSupported) Plane<QuadDotSse2, Vector128<int>>(image, taps, layer, planes);
            else Plane<QuadDotScalar, int>(image, taps, layer, planes);
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
        /// <summary>Whether 256-bit sums requantise as vectors in the tile (every multiplier finite, an eight-lane tier).</summary>
        public bool Vector;
        /// <summary>Whether the tier in use is AVX-512's: 32 vector registers (a fourth vector per tile) and 512-bit requantisation.</summary>
        public bool Evex;
        public int Pixels;
    }

    /// <summary>One laid-out image × every output channel: tiles as wide as the plane allows, up to <see cref="MaxTileVectors"/> vectors (three on VEX, whose 16 registers hold 12 accumulators).</summary>
    static void Plane<TIsa, TV>(ReadOnlySpan<int> image, ReadOnlySpan<int> taps, scoped in Layer layer, Span<byte> y) where TIsa : IInt8QuadDot<TV> where TV : struct
    {
        int most = typeof(TV) == typeof(Vector256<int>) && layer.Evex ? MaxTileVectors : 3;
        switch (Math.Min(most, (layer.Pixels + TIsa.Lanes - 1) / TIsa.Lanes))
        {
            case 4: Blocks<TIsa, TV, FourVectors>(image, taps, layer, y); break;
            case 3: Blocks<TIsa, TV, ThreeVectors>(image, taps, layer, y); break;
            case 2: Blocks<TIsa, TV, TwoVectors>(image, taps, layer, y); break;
            default: Blocks<TIsa, TV, OneVector>(image, taps, layer, y); break;
        }
    }

    /// <summary>
    /// Blocks of four output channels × tiles of <typeparamref name="TCount"/> vectors along the plane, the last tile moved
    /// back to end on the last position; tiles past the plane's end (a plane narrower than a tile) or holding channels
    /// past the last go through a buffer, of which only the plane's bytes are copied out.
    /// </summary>
    static void Blocks<TIsa, TV, TCount>(ReadOnlySpan<int> image, ReadOnlySpan<int> taps, scoped in Layer layer, Span<byte> y)
        where TIsa : IInt8QuadDot<TV> where TV : struct where TCount : IVectorCount
    {
        int width = TCount.Count * TIsa.Lanes, pixels = layer.Pixels, outChannels = layer.Weights.OutChannels, quads = layer.Weights.Quads;
        var buffers = new TileBuffers();
        var tile = new Tile
        {
            Taps = ref MemoryMarshal.GetReference(taps),
            Quads = quads,
            Bounds = new Int8ByteRequantization.Bounds(layer.ZeroPoint, layer.Signed),
            ZeroPoint = layer.ZeroPoint,
            Signed = layer.Signed,
            Vector = typeof(TV) == typeof(Vector256<int>) && layer.Vector,
            Evex = layer.Evex,
            Spill = buffers.Spill,
        };
        Span<int> offsets = buffers.Offsets;
        Span<float> scales = buffers.Scales;
        Span<byte> partial = buffers.Partial;
        ref int x0 = ref MemoryMarshal.GetReference(image);
        for (int first = 0; first < outChannels; first += 4)
        {
            int rows = Math.Min(4, outChannels - first);
            for (int i = 0; i < 4; i++)
            {
                // Channels past the last (zero weights) repeat it; their bytes stay in the buffer.
                int channel = Math.Min(first + i, outChannels - 1);
                offsets[i] = (layer.Bias.IsEmpty ? 0 : layer.Bias[channel]) - layer.Zero * layer.Weights.RowSums[channel];
                scales[i] = layer.Multipliers[layer.Multipliers.Length == 1 ? 0 : channel];
            }
            ref int w = ref layer.Weights.Values[first * quads];
            Span<byte> planes = y.Slice(first * pixels);
            for (int start = 0; start < pixels; start += width)
            {
                int at = Math.Max(0, Math.Min(start, pixels - width)), count = Math.Min(width, pixels - at);
                if (rows == 4 && count == width)
                {
                    Multiply<TIsa, TV, TCount>(ref tile, ref Unsafe.Add(ref x0, at), ref w, offsets, scales, ref planes[at], pixels);
                    continue;
                }
                Multiply<TIsa, TV, TCount>(ref tile, ref Unsafe.Add(ref x0, at), ref w, offsets, scales, ref partial[0], width);
                for (int i = 0; i < rows; i++) partial.Slice(i * width, count).CopyTo(planes.Slice(i * pixels + at, count));
            }
        }
    }

    /// <summary>
    /// The buffers of <see cref="Blocks{TIsa, TV, TCount}"/> as inline arrays rather than stackalloc, which would keep
    /// the method from tiering (no on-stack replacement): four channels' offsets and multipliers, a tile's int32 sums
    /// and a tile's bytes.
    /// </summary>
    struct TileBuffers
    {
        public FourInts Offsets;
        public FourFloats Scales;
        public TileInts Spill;
        public TileBytes Partial;
    }

    [InlineArray(4)]
    struct FourInts
    {
        int _first;
    }

    [InlineArray(4)]
    struct FourFloats
    {
        float _first;
    }

    /// <summary>Four channels × <see cref="MaxTileVectors"/> vectors of eight sums.</summary>
    [InlineArray(4 * MaxTileVectors * 8)]
    struct TileInts
    {
        int _first;
    }

    [InlineArray(4 * MaxTileVectors * 8)]
    struct TileBytes
    {
        byte _first;
    }

    /// <summary>What every tile of a layer shares: the tap offsets, the requantisation, the sum buffer.</summary>
    ref struct Tile
    {
        public ref int Taps;
        public int Quads;
        public Int8ByteRequantization.Bounds Bounds;
        public int ZeroPoint;
        public bool Signed;
        /// <summary>Whether the sums requantise as 256-bit vectors in the tile.</summary>
        public bool Vector;
        /// <summary>Whether pairs (and fours) of 256-bit vectors requantise as 512-bit ones.</summary>
        public bool Evex;
        /// <summary>The sums, when they are not requantised as vectors: spill[(row·vectors + vector)·lanes].</summary>
        public Span<int> Spill;
    }

    /// <summary>
    /// Four output channels (weight quads side by side at <paramref name="w"/>) × <typeparamref name="TCount"/> vectors
    /// of positions whose activations at tap offset 0 start at <paramref name="x"/>, over every quad of taps;
    /// requantised into y (channel i's bytes at y + i·<paramref name="yStride"/>).
    /// </summary>
    static void Multiply<TIsa, TV, TCount>(ref Tile tile, ref int x, ref int w, Span<int> offsetSpan, Span<float> scales, ref byte y, int yStride)
        where TIsa : IInt8QuadDot<TV> where TV : struct where TCount : IVectorCount
    {
        int lanes = TIsa.Lanes, n = TCount.Count, quads = tile.Quads;
        ref int taps = ref tile.Taps;
        ref int offsets = ref MemoryMarshal.GetReference(offsetSpan);
        TV c00 = TIsa.Broadcast(ref offsets), c01 = c00, c02 = c00, c03 = c00;
        TV c10 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 1)), c11 = c10, c12 = c10, c13 = c10;
        TV c20 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 2)), c21 = c20, c22 = c20, c23 = c20;
        TV c30 = TIsa.Broadcast(ref Unsafe.Add(ref offsets, 3)), c31 = c30, c32 = c30, c33 = c30;
        for (int q = 0; q < quads; q++)
        {
            ref int a = ref Unsafe.Add(ref x, Unsafe.Add(ref taps, q));
            TV a0 = TIsa.Load(ref a);
            TV a1 = n > 1 ? TIsa.Load(ref Unsafe.Add(ref a, lanes)) : default;
            TV a2 = n > 2 ? TIsa.Load(ref Unsafe.Add(ref a, 2 * lanes)) : default;
            TV a3 = n > 3 ? TIsa.Load(ref Unsafe.Add(ref a, 3 * lanes)) : default;
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
            w = ref Unsafe.Add(ref w, 4);
        }
        if (typeof(TV) == typeof(Vector256<int>) && tile.Vector)
        {
            // No calls here: a call would make the JIT keep the accumulators in memory across the loop.
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c00), Int8ChannelTiles.As256(c01), Int8ChannelTiles.As256(c02), Int8ChannelTiles.As256(c03), scales[0], tile.Evex, tile.Signed, tile.Bounds, ref y);
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c10), Int8ChannelTiles.As256(c11), Int8ChannelTiles.As256(c12), Int8ChannelTiles.As256(c13), scales[1], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, yStride));
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c20), Int8ChannelTiles.As256(c21), Int8ChannelTiles.As256(c22), Int8ChannelTiles.As256(c23), scales[2], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 2 * yStride));
            Int8ChannelTiles.Requantize<TCount>(Int8ChannelTiles.As256(c30), Int8ChannelTiles.As256(c31), Int8ChannelTiles.As256(c32), Int8ChannelTiles.As256(c33), scales[3], tile.Evex, tile.Signed, tile.Bounds, ref Unsafe.Add(ref y, 3 * yStride));
            return;
        }
        // The narrow tiers and non-finite multipliers: the sums through the buffer, one value at a time.
        ref int spill = ref MemoryMarshal.GetReference(tile.Spill);
        int width = n * lanes;
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c00, c01, c02, c03, ref spill);
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c10, c11, c12, c13, ref Unsafe.Add(ref spill, width));
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c20, c21, c22, c23, ref Unsafe.Add(ref spill, 2 * width));
        Int8ChannelTiles.Spill<TIsa, TV, TCount>(c30, c31, c32, c33, ref Unsafe.Add(ref spill, 3 * width));
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < width; k++)
                Unsafe.Add(ref y, i * yStride + k) = Int8ByteRequantization.Scalar(Unsafe.Add(ref spill, i * width + k), scales[i], tile.ZeroPoint, tile.Signed);
    }
}
