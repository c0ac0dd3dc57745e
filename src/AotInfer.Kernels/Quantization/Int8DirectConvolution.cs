using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// 2-D integer convolution (one group, any kernel, stride, dilation and padding) without im2col: the image is laid out
/// once per call as four-channel quads in padded, stride-phased planes (<see cref="QuadImageLayout"/>), where the quads
/// of consecutive output pixels at any kernel position are consecutive ints. A tile of four output channels × two
/// vectors of output pixels then loads its activations straight from that image and broadcasts one weight quad per
/// channel (<see cref="Int8ConvWeights"/>), on 256-bit <c>vpdpbusd</c> where the CPU has AVX-VNNI
/// (<see cref="IInt8QuadDot{TV}"/>). The tile's int32 sums are requantised to bytes (or stored as int32) in the same
/// pass, straight into the NCHW output planes: no column matrix, no packed panels, no int32 output plane.
/// Weights of one input channel packed as horizontal tap quads (<see cref="Int8ConvWeights.PackSingleChannel{T}"/>)
/// read a compact column matrix instead (<see cref="HorizontalTapLayout"/>), whose vectors run over the whole output
/// plane: a quarter of the quads, and no vector lanes lost to narrow output rows.
/// </summary>
/// <remarks>
/// im2col copied each input byte KH·KW times per call and the separate requantisation pass re-read every int32; with
/// 16 to 64 channels on 8×8 to 32×32 planes those passes cost about as much as the multiply itself.
/// Activations are unsigned in the kernel (s8 images flip their top bit with their zero point), and the activation
/// zero point folds into one offset per channel, bias − za·Σ_k(w − zw), so padding (filled with za) adds exactly 0.
/// </remarks>
public static class Int8DirectConvolution
{
    /// <summary>Output vectors per tile: three keep 12 accumulators + 3 activations + 1 weight broadcast in the 16 registers VEX encodes.</summary>
    const int TileVectors = 3;

    /// <summary>
    /// Ints of scratch <see cref="Convolve{TX}"/> and <see cref="ConvolveToBytes{TX, TY}"/> need for an image of
    /// <paramref name="inChannels"/> channels and this <paramref name="geometry"/> (<c>Window</c> packing).
    /// </summary>
    public static int ScratchLength(int inChannels, int[] geometry)
    {
        var window = new Window(geometry);
        int channelQuads = new QuadImageLayout(window, inChannels).Length + (inChannels + 3) / 4 * window.KernelSize;
        if (inChannels != 1) return channelQuads;
        // One channel's weights may be packed either way.
        var columns = new HorizontalTapLayout(window);
        return Math.Max(channelQuads, columns.Length + columns.Quads);
    }

    /// <summary>
    /// y[n, m, oy, ox] = Σ (x − zx)·(w[m] − zw[m]) + bias[m] as int32 (ConvInteger) for a batch of NCHW byte images;
    /// an empty bias means none, an empty zero point 0. <paramref name="scratch"/>: <see cref="ScratchLength"/> ints.
    /// </summary>
    public static void Convolve<TX>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8ConvWeights weights, ReadOnlySpan<int> bias, Span<int> y,
        Span<int> scratch, int batch, int[] geometry) where TX : unmanaged, IBinaryInteger<TX>
    {
        var output = new Output { Ints = y };
        Run(x, xZeroPoint, weights, bias, output, scratch, batch, geometry);
    }

    /// <summary>
    /// QLinearConv: y = saturate(round_half_even((Σ (x − zx)·(w[m] − zw[m]) + bias[m]) · multipliers[m]) + zy) as u8
    /// or s8, like <see cref="Requantization.ToInteger{TOut}"/> with per-channel (or one) multipliers.
    /// </summary>
    public static void ConvolveToBytes<TX, TY>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8ConvWeights weights, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TY> y, Span<int> scratch, int batch, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TY : unmanaged, IBinaryInteger<TY>
    {
        if (Unsafe.SizeOf<TY>() != 1) throw new ArgumentException($"the output must be byte or sbyte, not {typeof(TY).Name}");
        if (multipliers.Length != 1 && multipliers.Length != weights.OutChannels) throw new ArgumentException($"expected 1 or {weights.OutChannels} multipliers, got {multipliers.Length}");
        var output = new Output
        {
            Bytes = MemoryMarshal.AsBytes(y),
            Signed = typeof(TY) == typeof(sbyte),
            Multipliers = multipliers,
            ZeroPoint = yZeroPoint,
            VectorRequantize = Int8ByteRequantization.AllFinite(multipliers) && Vector256.IsHardwareAccelerated && QuantizedMatrixMultiply.Tier >= QuantizedGemmTier.Avx2,
        };
        Run(x, xZeroPoint, weights, bias, output, scratch, batch, geometry);
    }

    /// <summary>Where a tile's sums go: int32 planes, or bytes through the requantisation.</summary>
    ref struct Output
    {
        public Span<int> Ints;
        public Span<byte> Bytes;
        public bool Signed;
        public ReadOnlySpan<float> Multipliers;
        public int ZeroPoint;
        public bool VectorRequantize;
    }

    static void Run<TX>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8ConvWeights weights, ReadOnlySpan<int> bias, scoped in Output output,
        Span<int> scratch, int batch, int[] geometry) where TX : unmanaged, IBinaryInteger<TX>
    {
        if (Unsafe.SizeOf<TX>() != 1) throw new ArgumentException($"the input must be byte or sbyte, not {typeof(TX).Name}");
        var window = new Window(geometry);
        if (window.Rank != 2) throw new ArgumentException($"the direct int8 convolution is 2-D, got rank {window.Rank}");
        if (window.KernelSize != weights.KernelSize) throw new ArgumentException($"packed weights have {weights.KernelSize} kernel positions, the layer {window.KernelSize}");
        int channels = weights.InChannels, outChannels = weights.OutChannels, inputSize = window.InputSize, outputSize = window.OutputSize;
        bool horizontal = weights.KernelWidth > 0;
        if (horizontal && window.Kernel(1) != weights.KernelWidth) throw new ArgumentException($"packed weights have kernel width {weights.KernelWidth}, the layer {window.Kernel(1)}");
        if (scratch.Length < ScratchLength(channels, geometry)) throw new ArgumentException($"scratch holds {scratch.Length} ints, expected {ScratchLength(channels, geometry)}");
        if (x.Length < batch * channels * inputSize) throw new ArgumentException("x is shorter than batch × channels × input size");
        if (output.Ints.Length + output.Bytes.Length < batch * outChannels * outputSize) throw new ArgumentException("y is shorter than batch × output channels × output size");
        if (!bias.IsEmpty && bias.Length < outChannels) throw new ArgumentException($"bias holds {bias.Length} values, expected {outChannels}");

        // The kernel multiplies unsigned activations: s8 images (and their zero point) flip their top bit.
        byte flip = typeof(TX) == typeof(sbyte) ? (byte)0x80 : (byte)0;
        byte zero = (byte)((xZeroPoint.IsEmpty ? (byte)0 : byte.CreateTruncating(xZeroPoint[0])) ^ flip);
        var layout = new QuadImageLayout(window, channels);
        var columns = new HorizontalTapLayout(window);
        int imageInts = horizontal ? columns.Length : layout.Length;
        Span<int> image = scratch.Slice(0, imageInts), taps = scratch.Slice(imageInts, weights.Quads);
        // Horizontal tap columns: one flat row of every output position. Channel quads: output rows a stride of padded rows apart.
        var grid = horizontal ? new PixelGrid(1, outputSize, 0) : new PixelGrid(window.Output(0), window.Output(1), layout.PixelOffset(1, 0));
        if (horizontal)
        {
            for (int ky = 0, q = 0; ky < window.Kernel(0); ky++)
                for (int kq = 0; kq < columns.RowQuads; kq++) taps[q++] = columns.TapOffset(ky, kq);
        }
        else
        {
            int kernelHeight = window.Kernel(0), kernelWidth = window.Kernel(1);
            for (int cq = 0, q = 0; cq < layout.ChannelQuads; cq++)
                for (int ky = 0; ky < kernelHeight; ky++)
                    for (int kx = 0; kx < kernelWidth; kx++) taps[q++] = layout.TapOffset(cq, ky, kx);
        }
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(x);
        var tier = QuantizedMatrixMultiply.Tier;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<byte> sample = bytes.Slice(n * channels * inputSize, channels * inputSize);
            if (horizontal) HorizontalTapColumns.Build(sample, columns, flip, zero, image, tier);
            else QuadInterleavedImage.Build(sample, channels, layout, flip, zero, image);
            int outputBase = n * outChannels * outputSize;
            if (Int8Gemm.UsesVnni(tier)) Images<QuadDotAvxVnni, Vector256<int>>(image, taps, weights, grid, bias, zero, output, outputBase);
            else if (tier >= QuantizedGemmTier.Avx2 && Avx2.IsSupported) Images<QuadDotAvx2, Vector256<int>>(image, taps, weights, grid, bias, zero, output, outputBase);
            else if (tier >= QuantizedGemmTier.Vector128 && Sse2.IsSupported) Images<QuadDotSse2, Vector128<int>>(image, taps, weights, grid, bias, zero, output, outputBase);
            else Images<QuadDotScalar, int>(image, taps, weights, grid, bias, zero, output, outputBase);
        }
    }

    /// <summary>
    /// The output pixels as the tiles walk them: <paramref name="Height"/> rows of <paramref name="Width"/> pixels, whose
    /// activations at tap offset 0 start at <see cref="PixelOffset"/> in the laid-out image.
    /// </summary>
    readonly record struct PixelGrid(int Height, int Width, int RowInts)
    {
        public int Size => Height * Width;

        public int PixelOffset(int oy, int ox) => oy * RowInts + ox;
    }

    /// <summary>One laid-out image × every output channel, four channels × <see cref="TileVectors"/> pixel vectors per tile.</summary>
    static void Images<TIsa, TV>(ReadOnlySpan<int> image, ReadOnlySpan<int> taps, Int8ConvWeights weights, PixelGrid grid, ReadOnlySpan<int> bias,
        int zero, scoped in Output output, int outputBase) where TIsa : IInt8QuadDot<TV> where TV : struct
    {
        int lanes = TIsa.Lanes, outputHeight = grid.Height, outputWidth = grid.Width, outputSize = grid.Size;
        // Rows of at most half a vector: each vector holds two output rows, one per half (RowPairs).
        if (lanes >= 4 && outputWidth <= lanes / 2)
        {
            RowPairImages<TIsa, TV>(image, taps, weights, grid, bias, zero, output, outputBase);
            return;
        }
        int perRow = (outputWidth + lanes - 1) / lanes, vectors = outputHeight * perRow, quads = weights.Quads;
        ref int i0 = ref MemoryMarshal.GetReference(image);
        ref int t0 = ref MemoryMarshal.GetReference(taps);
        // Buffers as inline arrays rather than stackalloc, which kept this method from tiering (no on-stack
        // replacement), so it ran unoptimised by profile and re-read static fields.
        var tileBuffer = new TileSums();
        Span<int> tile = tileBuffer;
        ref int tileStart = ref MemoryMarshal.GetReference(tile);
        bool fastBytes = lanes == 8 && output.VectorRequantize;
        var bounds = new Int8ByteRequantization.Bounds(output.ZeroPoint, output.Signed);
        for (int block = 0; block * 4 < weights.OutChannels; block++)
        {
            int rows = Math.Min(4, weights.OutChannels - 4 * block);
            var (offsets, multipliers) = BlockTerms(weights, bias, zero, output, block, rows);
            ref int w = ref weights.Values[block * quads * 4];
            int blockBase = outputBase + 4 * block * outputSize;
            // The vectors walk the grid row by row: a cursor steps to the next instead of dividing each index by perRow.
            var cursor = new VectorCursor(grid, lanes, perRow);
            for (int v = 0; v < vectors; v += TileVectors)
            {
                // A short last tile runs two vectors (one alone is computed twice, stored once).
                int count = Math.Min(TileVectors, vectors - v);
                VectorCursor c0 = cursor, c1 = count > 1 ? c0.Next() : c0, c2 = count > 2 ? c1.Next() : c1;
                cursor = c2.Next();
                if (fastBytes && count == TileVectors && rows == 4 && c0.Full && c1.Full && c2.Full)
                {
                    // The common tile requantises its sums in registers: no store and reload of 12 vectors of int32.
                    var bytes = new TileBytes(offsets, multipliers, ref Unsafe.Add(ref MemoryMarshal.GetReference(output.Bytes), blockBase), c0.Output, c1.Output,
                        c2.Output, outputSize);
                    Tile4x3<TIsa, TV, WholeVectors>(ref i0, c0.Offset, c1.Offset, c2.Offset, 0, ref t0, ref w, quads, ref tileStart, bounds, bytes);
                    continue;
                }
                if (count == TileVectors) Tile4x3<TIsa, TV, WholeVectors>(ref i0, c0.Offset, c1.Offset, c2.Offset, 0, ref t0, ref w, quads, ref tileStart, bounds, default);
                else Tile4x2<TIsa, TV, WholeVectors>(ref i0, c0.Offset, c1.Offset, 0, ref t0, ref w, quads, ref tileStart);
                int at0 = blockBase + c0.Output, at1 = blockBase + c1.Output, at2 = blockBase + c2.Output;
                bool full = c0.Full && (count < 2 || c1.Full) && (count < 3 || c2.Full);
                if (fastBytes && full && rows == 4)
                {
                    TileToBytes(ref tileStart, count, offsets, multipliers, bounds, ref MemoryMarshal.GetReference(output.Bytes), at0, at1, at2, outputSize);
                    continue;
                }
                for (int j = 0; j < count; j++)
                {
                    var c = j == 0 ? c0 : j == 1 ? c1 : c2;
                    int width = Math.Min(lanes, outputWidth - c.Ox);
                    int at = j == 0 ? at0 : j == 1 ? at1 : at2;
                    for (int i = 0; i < rows; i++)
                        Emit(output, bounds, ref Unsafe.Add(ref tileStart, (i * TileVectors + j) * lanes), width, offsets.GetElement(i), 4 * block + i, at + i * outputSize);
                }
            }
        }
    }

    /// <summary>
    /// The offsets bias − za·Σ(w − zw) and the multipliers of output channels 4·block…4·block + rows − 1 (lanes past
    /// <paramref name="rows"/> 0).
    /// </summary>
    static (Vector128<int> Offsets, Vector128<float> Multipliers) BlockTerms(Int8ConvWeights weights, ReadOnlySpan<int> bias, int zero, scoped in Output output,
        int block, int rows)
    {
        int first = 4 * block;
        bool perTensor = output.Multipliers.Length == 1;
        if (rows == 4)
        {
            var sums = Vector128.Create(weights.RowSums.AsSpan(first, 4));
            var offsets = (bias.IsEmpty ? Vector128<int>.Zero : Vector128.Create(bias.Slice(first, 4))) - Vector128.Create(zero) * sums;
            var multipliers = output.Bytes.IsEmpty ? Vector128<float>.Zero
                : perTensor ? Vector128.Create(output.Multipliers[0]) : Vector128.Create(output.Multipliers.Slice(first, 4));
            return (offsets, multipliers);
        }
        Vector128<int> partialOffsets = Vector128<int>.Zero;
        Vector128<float> partialMultipliers = Vector128<float>.Zero;
        for (int i = 0; i < rows; i++)
        {
            partialOffsets = partialOffsets.WithElement(i, (bias.IsEmpty ? 0 : bias[first + i]) - zero * weights.RowSums[first + i]);
            if (!output.Bytes.IsEmpty) partialMultipliers = partialMultipliers.WithElement(i, output.Multipliers[perTensor ? 0 : first + i]);
        }
        return (partialOffsets, partialMultipliers);
    }

    /// <summary>The int32 sums of one tile: four channels × <see cref="TileVectors"/> vectors of up to 16 lanes.</summary>
    [InlineArray(4 * TileVectors * 16)]
    struct TileSums
    {
        int _first;
    }

    /// <summary>
    /// Pixel vector (<see cref="Oy"/>, <see cref="Ox"/>) of a <see cref="PixelGrid"/> walked row by row,
    /// <paramref name="perRow"/> vectors of <paramref name="lanes"/> pixels per row.
    /// </summary>
    readonly struct VectorCursor(PixelGrid grid, int lanes, int perRow, int oy = 0, int column = 0)
    {
        public int Oy => oy;

        /// <summary>The vector's first output column.</summary>
        public int Ox => column * lanes;

        /// <summary>Its activations' offset in the laid-out image.</summary>
        public int Offset => grid.PixelOffset(oy, column * lanes);

        /// <summary>Its first output's index in an output plane.</summary>
        public int Output => oy * grid.Width + column * lanes;

        /// <summary>Whether all its lanes are outputs of the row.</summary>
        public bool Full => (column + 1) * lanes <= grid.Width;

        public VectorCursor Next() => column + 1 < perRow ? new(grid, lanes, perRow, oy, column + 1) : new(grid, lanes, perRow, oy + 1, 0);
    }

    /// <summary>
    /// <see cref="Images{TIsa, TV}"/> for output rows of at most Lanes/2 pixels: vector v holds output rows 2v (lower
    /// half) and 2v + 1 (upper half), so 4-pixel rows still fill 8-lane vectors. An odd last row pairs with the row
    /// after it, which the layout's slack covers; its results are dropped.
    /// </summary>
    static void RowPairImages<TIsa, TV>(ReadOnlySpan<int> image, ReadOnlySpan<int> taps, Int8ConvWeights weights, PixelGrid grid, ReadOnlySpan<int> bias,
        int zero, scoped in Output output, int outputBase) where TIsa : IInt8QuadDot<TV> where TV : struct
    {
        int half = TIsa.Lanes / 2, outputHeight = grid.Height, outputWidth = grid.Width, outputSize = grid.Size;
        int vectors = (outputHeight + 1) / 2, quads = weights.Quads, rowStride = grid.RowInts;
        ref int i0 = ref MemoryMarshal.GetReference(image);
        ref int t0 = ref MemoryMarshal.GetReference(taps);
        Span<int> tile = stackalloc int[4 * TileVectors * 16 + 16];
        ref int tileStart = ref MemoryMarshal.GetReference(tile);
        bool fastBytes = half == 4 && output.VectorRequantize;
        var bounds = new Int8ByteRequantization.Bounds(output.ZeroPoint, output.Signed);
        for (int block = 0; block * 4 < weights.OutChannels; block++)
        {
            int rows = Math.Min(4, weights.OutChannels - 4 * block);
            ref int w = ref weights.Values[block * quads * 4];
            for (int v = 0; v < vectors; v += TileVectors)
            {
                int count = Math.Min(TileVectors, vectors - v);
                int p0 = grid.PixelOffset(2 * v, 0), p1 = grid.PixelOffset(2 * (v + Math.Min(1, count - 1)), 0);
                if (count == TileVectors) Tile4x3<TIsa, TV, RowPairs>(ref i0, p0, p1, grid.PixelOffset(2 * (v + 2), 0), rowStride, ref t0, ref w, quads, ref tileStart, bounds, default);
                else Tile4x2<TIsa, TV, RowPairs>(ref i0, p0, p1, rowStride, ref t0, ref w, quads, ref tileStart);
                for (int j = 0; j < count; j++)
                {
                    int oy = 2 * (v + j);
                    for (int i = 0; i < rows; i++)
                    {
                        int channel = 4 * block + i, offset = (bias.IsEmpty ? 0 : bias[channel]) - zero * weights.RowSums[channel];
                        ref int sums = ref Unsafe.Add(ref tileStart, (i * TileVectors + j) * TIsa.Lanes);
                        int at = outputBase + channel * outputSize + oy * outputWidth;
                        if (fastBytes)
                        {
                            // Eight sums requantised at once: bytes 0…3 are row oy, bytes 4…7 row oy + 1.
                            ulong eight = 0;
                            float multiplier = output.Multipliers[output.Multipliers.Length == 1 ? 0 : channel];
                            Int8ByteRequantization.Vector(Vector256.LoadUnsafe(ref sums), Vector256.Create(offset), Vector256.Create(multiplier), bounds, ref Unsafe.As<ulong, byte>(ref eight));
                            ref byte y = ref output.Bytes[at];
                            for (int k = 0; k < outputWidth; k++) Unsafe.Add(ref y, k) = (byte)(eight >> (8 * k));
                            if (oy + 1 < outputHeight)
                                for (int k = 0; k < outputWidth; k++) Unsafe.Add(ref y, outputWidth + k) = (byte)(eight >> (32 + 8 * k));
                            continue;
                        }
                        Emit(output, bounds, ref sums, outputWidth, offset, channel, at);
                        if (oy + 1 < outputHeight) Emit(output, bounds, ref Unsafe.Add(ref sums, half), outputWidth, offset, channel, at + outputWidth);
                    }
                }
            }
        }
    }

    /// <summary>How a tile reads one vector of activations at a tap: whole (consecutive pixels) or as two row halves.</summary>
    interface IPixelVectors
    {
        static abstract TV Load<TIsa, TV>(ref int pixels, int rowStride) where TIsa : IInt8QuadDot<TV> where TV : struct;
    }

    readonly struct WholeVectors : IPixelVectors
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Load<TIsa, TV>(ref int pixels, int rowStride) where TIsa : IInt8QuadDot<TV> where TV : struct => TIsa.Load(ref pixels);
    }

    readonly struct RowPairs : IPixelVectors
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Load<TIsa, TV>(ref int pixels, int rowStride) where TIsa : IInt8QuadDot<TV> where TV : struct =>
            TIsa.LoadHalves(ref pixels, ref Unsafe.Add(ref pixels, rowStride));
    }

    /// <summary>
    /// Four output channels (weight quads side by side at <paramref name="w"/>) × the pixel vectors at image offsets
    /// <paramref name="p0"/>, <paramref name="p1"/> and <paramref name="p2"/>, over every tap; sums stored at
    /// tile[(row·TileVectors + vector)·lanes].
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Tile4x3<TIsa, TV, TLoad>(ref int image, int p0, int p1, int p2, int rowStride, ref int taps, ref int w, int quads, ref int tile,
        in Int8ByteRequantization.Bounds bounds, scoped in TileBytes bytes)
        where TIsa : IInt8QuadDot<TV> where TV : struct where TLoad : IPixelVectors
    {
        TV c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        TV c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        ref int x0 = ref Unsafe.Add(ref image, p0);
        ref int x1 = ref Unsafe.Add(ref image, p1);
        ref int x2 = ref Unsafe.Add(ref image, p2);
        for (int q = 0; q < quads; q++)
        {
            int tap = Unsafe.Add(ref taps, q);
            TV a0 = TLoad.Load<TIsa, TV>(ref Unsafe.Add(ref x0, tap), rowStride), a1 = TLoad.Load<TIsa, TV>(ref Unsafe.Add(ref x1, tap), rowStride);
            TV a2 = TLoad.Load<TIsa, TV>(ref Unsafe.Add(ref x2, tap), rowStride);
            TV weight = TIsa.Broadcast(ref w);
            c00 = TIsa.Dot(c00, a0, weight); c01 = TIsa.Dot(c01, a1, weight); c02 = TIsa.Dot(c02, a2, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 1));
            c10 = TIsa.Dot(c10, a0, weight); c11 = TIsa.Dot(c11, a1, weight); c12 = TIsa.Dot(c12, a2, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 2));
            c20 = TIsa.Dot(c20, a0, weight); c21 = TIsa.Dot(c21, a1, weight); c22 = TIsa.Dot(c22, a2, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 3));
            c30 = TIsa.Dot(c30, a0, weight); c31 = TIsa.Dot(c31, a1, weight); c32 = TIsa.Dot(c32, a2, weight);
            w = ref Unsafe.Add(ref w, 4);
        }
        if (bytes.Requantize && typeof(TV) == typeof(Vector256<int>))
        {
            // The common tile requantises its sums in registers: no store and reload of 12 vectors of int32.
            bytes.Row(0, bounds, Unsafe.As<TV, Vector256<int>>(ref c00), Unsafe.As<TV, Vector256<int>>(ref c01), Unsafe.As<TV, Vector256<int>>(ref c02));
            bytes.Row(1, bounds, Unsafe.As<TV, Vector256<int>>(ref c10), Unsafe.As<TV, Vector256<int>>(ref c11), Unsafe.As<TV, Vector256<int>>(ref c12));
            bytes.Row(2, bounds, Unsafe.As<TV, Vector256<int>>(ref c20), Unsafe.As<TV, Vector256<int>>(ref c21), Unsafe.As<TV, Vector256<int>>(ref c22));
            bytes.Row(3, bounds, Unsafe.As<TV, Vector256<int>>(ref c30), Unsafe.As<TV, Vector256<int>>(ref c31), Unsafe.As<TV, Vector256<int>>(ref c32));
            return;
        }
        int lanes = TIsa.Lanes;
        TIsa.Store(c00, ref tile); TIsa.Store(c01, ref Unsafe.Add(ref tile, lanes)); TIsa.Store(c02, ref Unsafe.Add(ref tile, 2 * lanes));
        TIsa.Store(c10, ref Unsafe.Add(ref tile, 3 * lanes)); TIsa.Store(c11, ref Unsafe.Add(ref tile, 4 * lanes)); TIsa.Store(c12, ref Unsafe.Add(ref tile, 5 * lanes));
        TIsa.Store(c20, ref Unsafe.Add(ref tile, 6 * lanes)); TIsa.Store(c21, ref Unsafe.Add(ref tile, 7 * lanes)); TIsa.Store(c22, ref Unsafe.Add(ref tile, 8 * lanes));
        TIsa.Store(c30, ref Unsafe.Add(ref tile, 9 * lanes)); TIsa.Store(c31, ref Unsafe.Add(ref tile, 10 * lanes)); TIsa.Store(c32, ref Unsafe.Add(ref tile, 11 * lanes));
    }

    /// <summary>
    /// Where <see cref="Tile4x3{TIsa, TV, TLoad}"/> requantises its sums (eight-lane vectors, four whole channels) instead
    /// of storing them: channel i's outputs of vector j at y[i·outputSize + at_j], with the channel's offset and multiplier.
    /// The default value stores.
    /// </summary>
    readonly ref struct TileBytes(Vector128<int> offsets, Vector128<float> multipliers, ref byte y, int at0, int at1, int at2, int outputSize)
    {
        readonly ref byte _y = ref y;

        public bool Requantize => !Unsafe.IsNullRef(ref _y);

        /// <summary>Channel <paramref name="i"/>'s three vectors of sums to bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Row(int i, in Int8ByteRequantization.Bounds bounds, Vector256<int> s0, Vector256<int> s1, Vector256<int> s2)
        {
            var add = Vector256.Create(offsets.GetElement(i));
            var scale = Vector256.Create(multipliers.GetElement(i));
            ref byte row = ref Unsafe.Add(ref _y, i * outputSize);
            Int8ByteRequantization.Vector(s0, add, scale, bounds, ref Unsafe.Add(ref row, at0));
            Int8ByteRequantization.Vector(s1, add, scale, bounds, ref Unsafe.Add(ref row, at1));
            Int8ByteRequantization.Vector(s2, add, scale, bounds, ref Unsafe.Add(ref row, at2));
        }
    }

    /// <summary><see cref="Tile4x3{TIsa, TV, TLoad}"/> for two pixel vectors (a short last tile), same tile layout.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Tile4x2<TIsa, TV, TLoad>(ref int image, int p0, int p1, int rowStride, ref int taps, ref int w, int quads, ref int tile)
        where TIsa : IInt8QuadDot<TV> where TV : struct where TLoad : IPixelVectors
    {
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        ref int x0 = ref Unsafe.Add(ref image, p0);
        ref int x1 = ref Unsafe.Add(ref image, p1);
        for (int q = 0; q < quads; q++)
        {
            int tap = Unsafe.Add(ref taps, q);
            TV a0 = TLoad.Load<TIsa, TV>(ref Unsafe.Add(ref x0, tap), rowStride), a1 = TLoad.Load<TIsa, TV>(ref Unsafe.Add(ref x1, tap), rowStride);
            TV weight = TIsa.Broadcast(ref w);
            c00 = TIsa.Dot(c00, a0, weight); c01 = TIsa.Dot(c01, a1, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 1));
            c10 = TIsa.Dot(c10, a0, weight); c11 = TIsa.Dot(c11, a1, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 2));
            c20 = TIsa.Dot(c20, a0, weight); c21 = TIsa.Dot(c21, a1, weight);
            weight = TIsa.Broadcast(ref Unsafe.Add(ref w, 3));
            c30 = TIsa.Dot(c30, a0, weight); c31 = TIsa.Dot(c31, a1, weight);
            w = ref Unsafe.Add(ref w, 4);
        }
        int lanes = TIsa.Lanes;
        TIsa.Store(c00, ref tile); TIsa.Store(c01, ref Unsafe.Add(ref tile, lanes));
        TIsa.Store(c10, ref Unsafe.Add(ref tile, 3 * lanes)); TIsa.Store(c11, ref Unsafe.Add(ref tile, 4 * lanes));
        TIsa.Store(c20, ref Unsafe.Add(ref tile, 6 * lanes)); TIsa.Store(c21, ref Unsafe.Add(ref tile, 7 * lanes));
        TIsa.Store(c30, ref Unsafe.Add(ref tile, 9 * lanes)); TIsa.Store(c31, ref Unsafe.Add(ref tile, 10 * lanes));
    }

    /// <summary>
    /// The common case of the byte output: a tile of four channels × <paramref name="count"/> whole vectors of eight
    /// sums, requantised eight at a time, channel i's bytes at at[j] + i·<paramref name="outputSize"/>.
    /// </summary>
    static void TileToBytes(ref int tile, int count, Vector128<int> offsets, Vector128<float> multipliers, in Int8ByteRequantization.Bounds bounds, ref byte y,
        int at0, int at1, int at2, int outputSize)
    {
        for (int i = 0; i < 4; i++)
        {
            Vector256<int> offset = Vector256.Create(offsets.GetElement(i));
            Vector256<float> scale = Vector256.Create(multipliers.GetElement(i));
            ref byte row = ref Unsafe.Add(ref y, i * outputSize);
            ref int sums = ref Unsafe.Add(ref tile, i * TileVectors * 8);
            Int8ByteRequantization.Vector(Vector256.LoadUnsafe(ref sums), offset, scale, bounds, ref Unsafe.Add(ref row, at0));
            if (count > 1) Int8ByteRequantization.Vector(Vector256.LoadUnsafe(ref sums, 8), offset, scale, bounds, ref Unsafe.Add(ref row, at1));
            if (count > 2) Int8ByteRequantization.Vector(Vector256.LoadUnsafe(ref sums, 16), offset, scale, bounds, ref Unsafe.Add(ref row, at2));
        }
    }

    /// <summary>Writes <paramref name="count"/> sums + <paramref name="offset"/> of output channel <paramref name="channel"/> at output index <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Emit(scoped in Output output, in Int8ByteRequantization.Bounds bounds, ref int sums, int count, int offset, int channel, int at)
    {
        if (output.Bytes.IsEmpty)
        {
            for (int k = 0; k < count; k++) output.Ints[at + k] = Unsafe.Add(ref sums, k) + offset;
            return;
        }
        float multiplier = output.Multipliers[output.Multipliers.Length == 1 ? 0 : channel];
        ref byte destination = ref output.Bytes[at];
        int i = 0;
        if (output.VectorRequantize)
        {
            // A vector of eight sums (the tile buffer always holds whole vectors), narrower ones through a stack copy.
            for (; i < count; i += 8)
            {
                if (i + 8 <= count)
                {
                    Int8ByteRequantization.Vector(Vector256.LoadUnsafe(ref sums, (nuint)i), Vector256.Create(offset), Vector256.Create(multiplier), bounds, ref Unsafe.Add(ref destination, i));
                    continue;
                }
                ulong eight = 0;
                Int8ByteRequantization.Vector(Vector256.LoadUnsafe(ref sums, (nuint)i), Vector256.Create(offset), Vector256.Create(multiplier), bounds, ref Unsafe.As<ulong, byte>(ref eight));
                for (int k = i; k < count; k++, eight >>= 8) Unsafe.Add(ref destination, k) = (byte)eight;
            }
            return;
        }
        for (; i < count; i++)
            Unsafe.Add(ref destination, i) = Int8ByteRequantization.Scalar(Unsafe.Add(ref sums, i) + offset, multiplier, output.ZeroPoint, output.Signed);
    }
}
