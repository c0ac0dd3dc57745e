using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// Exact integer Winograd F(2×2, 3×3) for 3×3, stride-1, undilated int8 convolutions of one group: each 2×2 output
/// tile is Y = Aᵀ·[Σ_c U'_c ⊙ V_c]·A / 4 with V = Bᵀ·d·B of the centred 4×4 input patch d = x − zx (|V| ≤ 4·255, an
/// int16) and U' = 4U the integer filter transform (<see cref="Int8WinogradWeights"/>, |U'| ≤ 9·255). The 16 products
/// per tile and channel pair are one <c>vpmaddwd</c> lane each, 2.25× fewer multiplies than the direct 3×3 window;
/// the sums are the very int32 Σ (x − zx)·(w − zw) the direct kernel computes, so requantised they give the same bytes.
/// </summary>
/// <remarks>
/// Aᵀ·M·A is 4·Y exactly (U' = 4U), so the shift by 2 is exact. The int32 sums wrap like any int32 arithmetic, which
/// is harmless while |4·Y| &lt; 2³¹: <see cref="Exact"/> bounds it from the channel count and the largest centred
/// weight. Padding is centred 0. Per call: the image is centred into padded planes of channel pairs (one int32 per
/// pixel, the two channels' int16 values; each row's even pixels, then its odd ones, so that the four columns of the
/// tiles of a vector are four plain loads), then per chunk of tile rows
/// (about 64 tiles, to stay in the L1/L2 caches): the input transform into V[position][channel pair][tile], 16 GEMMs
/// per block of four output channels (U' broadcast, tiles along the vector), and the output transform into the
/// output rows (requantised per chunk for QLinearConv).
/// </remarks>
public static class Int8WinogradF2x3
{
    /// <summary>Tiles per chunk, roughly: V and M of a chunk stay in cache between the transforms and the GEMMs.</summary>
    const int ChunkTiles = 64;

    /// <summary>Whether a packed geometry is one this kernel computes: 2-D, kernel 3×3, strides and dilations 1, pads ≥ 0.</summary>
    public static bool Supports(int[] geometry)
    {
        if (geometry.Length != 15 || geometry[0] != 2) return false;
        var window = new Window(geometry);
        for (int d = 0; d < 2; d++)
            if (window.Kernel(d) != 3 || window.Stride(d) != 1 || window.Dilation(d) != 1 || window.PadBegin(d) < 0 || window.PadEnd(d) < 0 || window.Output(d) < 1) return false;
        return true;
    }

    /// <summary>
    /// Whether the int32 arithmetic is exact for <paramref name="inChannels"/> channels whose centred weights are at most
    /// <paramref name="largestCentred"/> in magnitude: |Y| ≤ C·9·255·max|w − zw| must stay below 2²⁹, so that 4·Y fits an int32.
    /// </summary>
    public static bool Exact(int inChannels, int largestCentred) => (long)inChannels * 9 * 255 * largestCentred < 1 << 29;

    /// <summary>The tiling of one layer.</summary>
    readonly struct Plan
    {
        public Plan(int[] geometry)
        {
            var window = new Window(geometry);
            Height = window.Input(0);
            Width = window.Input(1);
            OutHeight = window.Output(0);
            OutWidth = window.Output(1);
            PadTop = window.PadBegin(0);
            PadLeft = window.PadBegin(1);
            TilesHigh = (OutHeight + 1) / 2;
            TilesWide = (OutWidth + 1) / 2;
            ChunkRows = Math.Clamp(ChunkTiles / TilesWide, 1, TilesHigh);
            Slots = (ChunkRows * TilesWide + 15) / 16 * 16 + 16;
            PlaneRows = 2 * TilesHigh + 2;
            Pitch = TilesWide + 1;
        }

        public int Height { get; }
        public int Width { get; }
        public int OutHeight { get; }
        public int OutWidth { get; }
        public int PadTop { get; }
        public int PadLeft { get; }
        public int TilesHigh { get; }
        public int TilesWide { get; }

        /// <summary>Tile rows per chunk.</summary>
        public int ChunkRows { get; }

        /// <summary>
        /// Ints per row of a chunk's V and M buffers: its tiles rounded up to 16, plus 16 (vectors that run past a
        /// narrow tile row land there).
        /// </summary>
        public int Slots { get; }

        /// <summary>Rows of a padded plane: 2 per tile row plus the 2 the last tile's window reaches below.</summary>
        public int PlaneRows { get; }

        /// <summary>Ints per half row of a padded plane (its even or its odd pixels): one per tile plus one.</summary>
        public int Pitch { get; }

        /// <summary>Ints per plane (one channel pair): rows of even pixels, then odd ones.</summary>
        public int PlaneInts => PlaneRows * 2 * Pitch;

        /// <summary>
        /// Ints from one transform position to the next in V: the channel pairs' rows of slots, plus 16 so that the 16
        /// positions do not all fall in the same cache set when that is a multiple of 4 KB.
        /// </summary>
        public int PositionInts(int pairs) => pairs * Slots + 16;

        /// <summary>Ints per channel of the requantisation buffer: the output rows of one chunk.</summary>
        public int ChunkOutputInts => 2 * ChunkRows * OutWidth;
    }

    /// <summary>
    /// Ints of scratch <see cref="Convolve{TX}"/> and <see cref="ConvolveToBytes{TX, TY}"/> need for an image of
    /// <paramref name="inChannels"/> channels and this <paramref name="geometry"/>: the padded planes of channel pairs
    /// (plus 16 ints of slack), one chunk's V (16 positions × (pairs × slots + 16)) and M (16 × 4 × slots), and its
    /// output rows of four channels.
    /// </summary>
    public static int ScratchLength(int inChannels, int[] geometry)
    {
        var plan = new Plan(geometry);
        int pairs = (inChannels + 1) / 2;
        return pairs * plan.PlaneInts + 16 + Int8WinogradWeights.Positions * (plan.PositionInts(pairs) + 4 * plan.Slots) + 4 * plan.ChunkOutputInts;
    }

    /// <summary>
    /// y[n, m, oy, ox] = Σ (x − zx)·(w[m] − zw[m]) + bias[m] as int32 (ConvInteger) for a batch of NCHW byte images;
    /// an empty bias means none, an empty zero point 0. <paramref name="scratch"/>: <see cref="ScratchLength"/> ints.
    /// </summary>
    public static void Convolve<TX>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8WinogradWeights weights, ReadOnlySpan<int> bias, Span<int> y,
        Span<int> scratch, int batch, int[] geometry) where TX : unmanaged, IBinaryInteger<TX> =>
        Run(x, xZeroPoint, weights, bias, ReadOnlySpan<float>.Empty, 0, y, scratch, batch, geometry);

    /// <summary>
    /// QLinearConv: y = saturate(round_half_even((Σ (x − zx)·(w[m] − zw[m]) + bias[m]) · multipliers[m]) + zy) as u8
    /// or s8, exactly <see cref="Requantization.ToInteger{TOut}"/> with per-channel (or one) multipliers.
    /// </summary>
    public static void ConvolveToBytes<TX, TY>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8WinogradWeights weights, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TY> y, Span<int> scratch, int batch, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        if (Unsafe.SizeOf<TY>() != 1) throw new ArgumentException($"the output must be byte or sbyte, not {typeof(TY).Name}");
        if (multipliers.Length != 1 && multipliers.Length != weights.OutChannels) throw new ArgumentException($"expected 1 or {weights.OutChannels} multipliers, got {multipliers.Length}");
        Run(x, xZeroPoint, weights, bias, multipliers, yZeroPoint, y, scratch, batch, geometry);
    }

    /// <summary>Lane types of the stages, chosen per call from the tier (the multiply) and the tile row width (the transforms).</summary>
    enum LaneKind { Scalar, V128, V256, V256Vnni, V512 }

    /// <summary>
    /// The convolution into int32 (<typeparamref name="TY"/> = int: straight into y) or requantised bytes (through
    /// one chunk's output rows in scratch).
    /// </summary>
    static void Run<TX, TY>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8WinogradWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, Span<TY> y, Span<int> scratch, int batch, int[] geometry) where TX : unmanaged, IBinaryInteger<TX> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        if (Unsafe.SizeOf<TX>() != 1) throw new ArgumentException($"the input must be byte or sbyte, not {typeof(TX).Name}");
        if (!Supports(geometry)) throw new ArgumentException("the Winograd F(2×2, 3×3) convolution needs a 2-D 3×3 kernel, strides and dilations 1, pads ≥ 0");
        int channels = weights.InChannels, outChannels = weights.OutChannels, pairs = weights.Pairs;
        if (!Exact(channels, weights.LargestCentred)) throw new ArgumentException($"{channels} channels with centred weights up to {weights.LargestCentred} could overflow the int32 sums");
        var plan = new Plan(geometry);
        int inputSize = plan.Height * plan.Width, outputSize = plan.OutHeight * plan.OutWidth, ow = plan.OutWidth;
        if (scratch.Length < ScratchLength(channels, geometry)) throw new ArgumentException($"scratch holds {scratch.Length} ints, expected {ScratchLength(channels, geometry)}");
        if (x.Length < batch * channels * inputSize) throw new ArgumentException("x is shorter than batch × channels × input size");
        if (y.Length < batch * outChannels * outputSize) throw new ArgumentException("y is shorter than batch × output channels × output size");
        if (!bias.IsEmpty && bias.Length < outChannels) throw new ArgumentException($"bias holds {bias.Length} values, expected {outChannels}");

        bool ints = typeof(TY) == typeof(int);
        // s8 images (and their zero point) flip their top bit: x − zx is the same, computed on bytes.
        byte flip = typeof(TX) == typeof(sbyte) ? (byte)0x80 : (byte)0;
        byte zero = (byte)((xZeroPoint.IsEmpty ? (byte)0 : byte.CreateTruncating(xZeroPoint[0])) ^ flip);
        Span<int> planes = scratch.Slice(0, pairs * plan.PlaneInts + 16);
        Span<int> v = scratch.Slice(planes.Length, Int8WinogradWeights.Positions * plan.PositionInts(pairs));
        Span<int> m = scratch.Slice(planes.Length + v.Length, Int8WinogradWeights.Positions * 4 * plan.Slots);
        Span<int> rowsOut = scratch.Slice(planes.Length + v.Length + m.Length, 4 * plan.ChunkOutputInts);
        Span<int> yInts = ints ? MemoryMarshal.Cast<TY, int>(y) : default;

        var tier = QuantizedMatrixMultiply.Tier;
        // 512-bit vpmaddwd + vpaddd beats 256-bit vpdpwssd, which beats 256-bit vpmaddwd + vpaddd (GemmBench int8conv,
        // the multiply alone, 16→16 at 32×32 / 32→32 at 16×16 / 64→64 at 8×8: 7.2 / 5.2 / 9.1 µs, 9.0 / 8.2 / 8.5, 10.7 / 9.5 / 10.2).
        LaneKind multiply = tier >= QuantizedGemmTier.Avx512BW && Avx512BW.IsSupported ? LaneKind.V512
            : tier >= QuantizedGemmTier.Avx2 && Avx2.IsSupported ? (Int8Gemm.UsesVnni(tier) ? LaneKind.V256Vnni : LaneKind.V256)
            : tier >= QuantizedGemmTier.Vector128 && Sse2.IsSupported ? LaneKind.V128 : LaneKind.Scalar;
        // The transforms run along a tile row: vectors no wider than the row (less work lost to lanes past its end).
        LaneKind transform = multiply == LaneKind.Scalar ? LaneKind.Scalar
            : multiply == LaneKind.V512 && plan.TilesWide > 8 ? LaneKind.V512
            : multiply != LaneKind.V128 && plan.TilesWide > 4 ? LaneKind.V256 : LaneKind.V128;

        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(x);
        for (int n = 0; n < batch; n++)
        {
            BuildPlanes(bytes.Slice(n * channels * inputSize, channels * inputSize), channels, plan, flip, zero, planes);
            int outputBase = n * outChannels * outputSize;
            for (int r0 = 0; r0 < plan.TilesHigh; r0 += plan.ChunkRows)
            {
                int rows = Math.Min(plan.ChunkRows, plan.TilesHigh - r0), tiles = rows * plan.TilesWide;
                int firstRow = 2 * r0, outRows = Math.Min(2 * rows, plan.OutHeight - firstRow);
                InputTransform(transform, planes, v, plan, pairs, r0, rows);
                for (int block = 0; 4 * block < outChannels; block++)
                {
                    int count = Math.Min(4, outChannels - 4 * block);
                    for (int position = 0; position < Int8WinogradWeights.Positions; position++)
                        Multiply(multiply, ref v[position * plan.PositionInts(pairs)], ref weights.Values[(block * Int8WinogradWeights.Positions + position) * pairs * 4],
                            ref m[position * 4 * plan.Slots], pairs, plan.Slots, tiles);
                    ReadOnlySpan<int> blockBias = bias.IsEmpty ? bias : bias.Slice(4 * block, count);
                    // int32 output: straight into the output planes; bytes: into this chunk's rows, then requantised.
                    Span<int> destination = ints ? yInts.Slice(outputBase + 4 * block * outputSize) : rowsOut;
                    int channelStride = ints ? outputSize : plan.ChunkOutputInts, destinationRow = ints ? 0 : firstRow;
                    OutputTransform(transform, m, plan, count, r0, rows, blockBias, destination, channelStride, destinationRow);
                    if (ints) continue;
                    for (int i = 0; i < count; i++)
                    {
                        int channel = 4 * block + i, length = outRows * ow;
                        Requantization.ToInteger<TY>(rowsOut.Slice(i * plan.ChunkOutputInts, length), ReadOnlySpan<int>.Empty,
                            multipliers.Slice(multipliers.Length == 1 ? 0 : channel, 1), true, yZeroPoint, y.Slice(outputBase + channel * outputSize + firstRow * ow, length), 1, length);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The centred image x − zx in padded planes of channel pairs (zero outside the image: padding contributes
    /// nothing): padded pixel (r, col) of channels 2p and 2p + 1 at plane p, row r, half col mod 2, index col / 2, as
    /// the int16 pair (x[2p] − zx, x[2p + 1] − zx). A missing last odd channel is 0.
    /// </summary>
    static void BuildPlanes(ReadOnlySpan<byte> sample, int channels, in Plan plan, byte flip, byte zero, Span<int> planes)
    {
        planes.Clear();
        int width = plan.Width, pitch = plan.Pitch, padLeft = plan.PadLeft;
        int rows = Math.Min(plan.Height, plan.PlaneRows - plan.PadTop), columns = Math.Min(width, 2 * pitch - padLeft);
        for (int c = 0; c < channels; c += 2)
        {
            Span<int> plane = planes.Slice(c / 2 * plan.PlaneInts);
            for (int iy = 0; iy < rows; iy++)
            {
                ReadOnlySpan<byte> even = sample.Slice((c * plan.Height + iy) * width, columns);
                ReadOnlySpan<byte> odd = c + 1 < channels ? sample.Slice(((c + 1) * plan.Height + iy) * width, columns) : ReadOnlySpan<byte>.Empty;
                CentrePairs(even, odd, flip, zero, plane.Slice((iy + plan.PadTop) * 2 * pitch, 2 * pitch), padLeft, pitch);
            }
        }
    }

    /// <summary>
    /// One padded row of a channel pair: pixel ix (padded column ix + padLeft) as (even[ix] ^ flip) − zero in the low
    /// int16, the odd channel's (0 when <paramref name="odd"/> is empty) in the high one, the even columns first, then the odd ones.
    /// </summary>
    static void CentrePairs(ReadOnlySpan<byte> even, ReadOnlySpan<byte> odd, byte flip, byte zero, Span<int> row, int padLeft, int pitch)
    {
        int ix = 0, width = even.Length;
        bool missing = odd.IsEmpty;
        // Pixel ix lands in the half of column parity (ix + padLeft) mod 2.
        int evenPixels = padLeft % 2 == 0 ? 0 : pitch, oddPixels = pitch - evenPixels;
        if (Sse2.IsSupported)
        {
            var flips = Vector128.Create(flip);
            var zeros = Vector128.Create((short)zero);
            ref int destination = ref MemoryMarshal.GetReference(row);
            for (; ix + 8 <= width; ix += 8)
            {
                var e = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.AsRef(in even[ix]))).AsByte() ^ flips;
                var o = missing ? Vector128.Create(zero) : Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.AsRef(in odd[ix]))).AsByte() ^ flips;
                // e0 o0 e1 o1 … as int16 pairs, centred: ints (e_i, o_i) for i = 0…3 and 4…7.
                var (first, second) = Vector128.Widen(Sse2.UnpackLow(e, o));
                Vector128<float> low = (first.AsInt16() - zeros).AsSingle(), high = (second.AsInt16() - zeros).AsSingle();
                // Pixels 0, 2, 4, 6 and 1, 3, 5, 7.
                Sse.Shuffle(low, high, 0b10_00_10_00).AsInt32().StoreUnsafe(ref Unsafe.Add(ref destination, evenPixels + (ix + padLeft) / 2));
                Sse.Shuffle(low, high, 0b11_01_11_01).AsInt32().StoreUnsafe(ref Unsafe.Add(ref destination, oddPixels + (ix + 1 + padLeft) / 2));
            }
        }
        for (; ix < width; ix++)
        {
            int column = ix + padLeft, high = missing ? 0 : (odd[ix] ^ flip) - zero;
            row[column % 2 * pitch + column / 2] = (ushort)((even[ix] ^ flip) - zero) | high << 16;
        }
    }

    static void InputTransform(LaneKind lanes, Span<int> planes, Span<int> v, in Plan plan, int pairs, int r0, int rows)
    {
        switch (lanes)
        {
            case LaneKind.V512: InputTransform<WinogradLanes512, Vector512<int>>(planes, v, plan, pairs, r0, rows); break;
            case LaneKind.V256 or LaneKind.V256Vnni: InputTransform<WinogradLanes256, Vector256<int>>(planes, v, plan, pairs, r0, rows); break;
            case LaneKind.V128: InputTransform<WinogradLanes128, Vector128<int>>(planes, v, plan, pairs, r0, rows); break;
            default: InputTransform<WinogradLanesScalar, int>(planes, v, plan, pairs, r0, rows); break;
        }
    }

    /// <summary>
    /// V = Bᵀ·d·B of every tile of tile rows r0 … r0 + rows − 1 and every channel pair, Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]],
    /// into v[position][pair][tile]: int16 arithmetic on both channels of a pair at once (exact: |V| ≤ 4·255). A lane
    /// holds one tile; its four columns are the even and odd pixels at indexes tx and tx + 1 of a plane row.
    /// </summary>
    static void InputTransform<TL, TV>(Span<int> planes, Span<int> v, in Plan plan, int pairs, int r0, int rows)
        where TL : IWinogradLanes<TV> where TV : struct
    {
        int lanes = TL.Lanes, tilesWide = plan.TilesWide, rowInts = 2 * plan.Pitch, pitch = plan.Pitch, slots = plan.Slots, positionStride = plan.PositionInts(pairs);
        for (int p = 0; p < pairs; p++)
        {
            ref int plane = ref planes[p * plan.PlaneInts];
            ref int pairBase = ref v[p * slots];
            for (int ty = 0; ty < rows; ty++)
            {
                ref int top = ref Unsafe.Add(ref plane, 2 * (r0 + ty) * rowInts);
                for (int tx = 0; tx < tilesWide; tx += lanes)
                {
                    ref int at = ref Unsafe.Add(ref top, tx);
                    RowTransform<TL, TV>(ref at, pitch, out TV a0, out TV a1, out TV a2, out TV a3);
                    RowTransform<TL, TV>(ref Unsafe.Add(ref at, rowInts), pitch, out TV b0, out TV b1, out TV b2, out TV b3);
                    RowTransform<TL, TV>(ref Unsafe.Add(ref at, 2 * rowInts), pitch, out TV c0, out TV c1, out TV c2, out TV c3);
                    RowTransform<TL, TV>(ref Unsafe.Add(ref at, 3 * rowInts), pitch, out TV d0, out TV d1, out TV d2, out TV d3);
                    ref int tile = ref Unsafe.Add(ref pairBase, ty * tilesWide + tx);
                    // Rows of Bᵀ: r0 − r2, r1 + r2, r2 − r1, r1 − r3.
                    TL.Store(TL.Subtract16(a0, c0), ref tile);
                    TL.Store(TL.Subtract16(a1, c1), ref Unsafe.Add(ref tile, positionStride));
                    TL.Store(TL.Subtract16(a2, c2), ref Unsafe.Add(ref tile, 2 * positionStride));
                    TL.Store(TL.Subtract16(a3, c3), ref Unsafe.Add(ref tile, 3 * positionStride));
                    TL.Store(TL.Add16(b0, c0), ref Unsafe.Add(ref tile, 4 * positionStride));
                    TL.Store(TL.Add16(b1, c1), ref Unsafe.Add(ref tile, 5 * positionStride));
                    TL.Store(TL.Add16(b2, c2), ref Unsafe.Add(ref tile, 6 * positionStride));
                    TL.Store(TL.Add16(b3, c3), ref Unsafe.Add(ref tile, 7 * positionStride));
                    TL.Store(TL.Subtract16(c0, b0), ref Unsafe.Add(ref tile, 8 * positionStride));
                    TL.Store(TL.Subtract16(c1, b1), ref Unsafe.Add(ref tile, 9 * positionStride));
                    TL.Store(TL.Subtract16(c2, b2), ref Unsafe.Add(ref tile, 10 * positionStride));
                    TL.Store(TL.Subtract16(c3, b3), ref Unsafe.Add(ref tile, 11 * positionStride));
                    TL.Store(TL.Subtract16(b0, d0), ref Unsafe.Add(ref tile, 12 * positionStride));
                    TL.Store(TL.Subtract16(b1, d1), ref Unsafe.Add(ref tile, 13 * positionStride));
                    TL.Store(TL.Subtract16(b2, d2), ref Unsafe.Add(ref tile, 14 * positionStride));
                    TL.Store(TL.Subtract16(b3, d3), ref Unsafe.Add(ref tile, 15 * positionStride));
                }
            }
        }
    }

    /// <summary>
    /// d·B of one plane row of a vector of tiles: columns x0…x3 (even pixel tx, odd pixel tx, even and odd pixel tx + 1,
    /// the odd pixels <paramref name="pitch"/> ints after the even ones) → x0 − x2, x1 + x2, x2 − x1, x1 − x3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RowTransform<TL, TV>(ref int at, int pitch, out TV r0, out TV r1, out TV r2, out TV r3) where TL : IWinogradLanes<TV> where TV : struct
    {
        TV x0 = TL.Load(ref at), x1 = TL.Load(ref Unsafe.Add(ref at, pitch)), x2 = TL.Load(ref Unsafe.Add(ref at, 1)), x3 = TL.Load(ref Unsafe.Add(ref at, pitch + 1));
        r0 = TL.Subtract16(x0, x2);
        r1 = TL.Add16(x1, x2);
        r2 = TL.Subtract16(x2, x1);
        r3 = TL.Subtract16(x1, x3);
    }

    static void Multiply(LaneKind lanes, ref int v, ref int u, ref int m, int pairs, int slots, int tiles)
    {
        switch (lanes)
        {
            case LaneKind.V512: Multiply<WinogradLanes512, Vector512<int>>(ref v, ref u, ref m, pairs, slots, tiles); break;
            case LaneKind.V256Vnni: Multiply<WinogradLanes256Vnni, Vector256<int>>(ref v, ref u, ref m, pairs, slots, tiles); break;
            case LaneKind.V256: Multiply<WinogradLanes256, Vector256<int>>(ref v, ref u, ref m, pairs, slots, tiles); break;
            case LaneKind.V128: Multiply<WinogradLanes128, Vector128<int>>(ref v, ref u, ref m, pairs, slots, tiles); break;
            default: Multiply<WinogradLanesScalar, int>(ref v, ref u, ref m, pairs, slots, tiles); break;
        }
    }

    /// <summary>
    /// One transform position: m[i][tile] = Σ_pairs U'[i][pair] · V[pair][tile] for the four output channels of a
    /// block (<paramref name="u"/>: pairs × four int16 pairs) over <paramref name="tiles"/> tiles, two vectors of tiles
    /// × four channels per step (one vector for a last lone one).
    /// </summary>
    static void Multiply<TL, TV>(ref int v, ref int u, ref int m, int pairs, int slots, int tiles) where TL : IWinogradLanes<TV> where TV : struct
    {
        int lanes = TL.Lanes, t = 0;
        for (; t + lanes < tiles; t += 2 * lanes)
        {
            TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            ref int a = ref Unsafe.Add(ref v, t);
            ref int w = ref u;
            for (int p = 0; p < pairs; p++)
            {
                TV a0 = TL.Load(ref a), a1 = TL.Load(ref Unsafe.Add(ref a, lanes));
                TV weight = TL.Broadcast(w);
                c00 = TL.PairDot(c00, a0, weight); c01 = TL.PairDot(c01, a1, weight);
                weight = TL.Broadcast(Unsafe.Add(ref w, 1));
                c10 = TL.PairDot(c10, a0, weight); c11 = TL.PairDot(c11, a1, weight);
                weight = TL.Broadcast(Unsafe.Add(ref w, 2));
                c20 = TL.PairDot(c20, a0, weight); c21 = TL.PairDot(c21, a1, weight);
                weight = TL.Broadcast(Unsafe.Add(ref w, 3));
                c30 = TL.PairDot(c30, a0, weight); c31 = TL.PairDot(c31, a1, weight);
                a = ref Unsafe.Add(ref a, slots);
                w = ref Unsafe.Add(ref w, 4);
            }
            ref int c = ref Unsafe.Add(ref m, t);
            TL.Store(c00, ref c); TL.Store(c01, ref Unsafe.Add(ref c, lanes));
            TL.Store(c10, ref Unsafe.Add(ref c, slots)); TL.Store(c11, ref Unsafe.Add(ref c, slots + lanes));
            TL.Store(c20, ref Unsafe.Add(ref c, 2 * slots)); TL.Store(c21, ref Unsafe.Add(ref c, 2 * slots + lanes));
            TL.Store(c30, ref Unsafe.Add(ref c, 3 * slots)); TL.Store(c31, ref Unsafe.Add(ref c, 3 * slots + lanes));
        }
        if (t < tiles)
        {
            TV c0 = default, c1 = default, c2 = default, c3 = default;
            ref int a = ref Unsafe.Add(ref v, t);
            ref int w = ref u;
            for (int p = 0; p < pairs; p++)
            {
                TV a0 = TL.Load(ref a);
                c0 = TL.PairDot(c0, a0, TL.Broadcast(w));
                c1 = TL.PairDot(c1, a0, TL.Broadcast(Unsafe.Add(ref w, 1)));
                c2 = TL.PairDot(c2, a0, TL.Broadcast(Unsafe.Add(ref w, 2)));
                c3 = TL.PairDot(c3, a0, TL.Broadcast(Unsafe.Add(ref w, 3)));
                a = ref Unsafe.Add(ref a, slots);
                w = ref Unsafe.Add(ref w, 4);
            }
            ref int c = ref Unsafe.Add(ref m, t);
            TL.Store(c0, ref c); TL.Store(c1, ref Unsafe.Add(ref c, slots)); TL.Store(c2, ref Unsafe.Add(ref c, 2 * slots)); TL.Store(c3, ref Unsafe.Add(ref c, 3 * slots));
        }
    }

    static void OutputTransform(LaneKind lanes, Span<int> m, in Plan plan, int count, int r0, int rows, ReadOnlySpan<int> bias, Span<int> destination, int channelStride, int destinationRow)
    {
        switch (lanes)
        {
            case LaneKind.V512: OutputTransform<WinogradLanes512, Vector512<int>>(m, plan, count, r0, rows, bias, destination, channelStride, destinationRow); break;
            case LaneKind.V256 or LaneKind.V256Vnni: OutputTransform<WinogradLanes256, Vector256<int>>(m, plan, count, r0, rows, bias, destination, channelStride, destinationRow); break;
            case LaneKind.V128: OutputTransform<WinogradLanes128, Vector128<int>>(m, plan, count, r0, rows, bias, destination, channelStride, destinationRow); break;
            default: OutputTransform<WinogradLanesScalar, int>(m, plan, count, r0, rows, bias, destination, channelStride, destinationRow); break;
        }
    }

    /// <summary>
    /// Y = Aᵀ·M·A / 4 + bias, Aᵀ = [[1,1,1,0],[0,1,−1,−1]], for the <paramref name="count"/> channels of a block and the
    /// chunk's tile rows, written as output rows: channel i's row oy at destination[i·channelStride + (oy − destinationRow)·OW].
    /// Columns and rows past the output (odd sizes) are dropped.
    /// </summary>
    static void OutputTransform<TL, TV>(Span<int> m, in Plan plan, int count, int r0, int rows, ReadOnlySpan<int> bias, Span<int> destination, int channelStride, int destinationRow)
        where TL : IWinogradLanes<TV> where TV : struct
    {
        int lanes = TL.Lanes, tilesWide = plan.TilesWide, outWidth = plan.OutWidth, slots = plan.Slots, position = 4 * slots;
        Span<int> spill = stackalloc int[32];
        for (int i = 0; i < count; i++)
        {
            TV offset = TL.Broadcast(bias.IsEmpty ? 0 : bias[i]);
            ref int channel = ref m[i * slots];
            for (int ty = 0; ty < rows; ty++)
            {
                int oy = 2 * (r0 + ty);
                bool second = oy + 1 < plan.OutHeight;
                Span<int> top = destination.Slice(i * channelStride + (oy - destinationRow) * outWidth);
                for (int tx = 0; tx < tilesWide; tx += lanes)
                {
                    ref int at = ref Unsafe.Add(ref channel, ty * tilesWide + tx);
                    // Aᵀ·M: rows m0 + m1 + m2 and m1 − m2 − m3, one column at a time.
                    Column<TL, TV>(ref at, 4 * position, out TV s00, out TV s10);
                    Column<TL, TV>(ref Unsafe.Add(ref at, position), 4 * position, out TV s01, out TV s11);
                    Column<TL, TV>(ref Unsafe.Add(ref at, 2 * position), 4 * position, out TV s02, out TV s12);
                    Column<TL, TV>(ref Unsafe.Add(ref at, 3 * position), 4 * position, out TV s03, out TV s13);
                    // (Aᵀ·M)·A: the same combination along each row, then the exact division by 4 and the bias.
                    TV y00 = TL.Add(TL.Quarter(TL.Add(TL.Add(s00, s01), s02)), offset), y01 = TL.Add(TL.Quarter(TL.Subtract(TL.Subtract(s01, s02), s03)), offset);
                    TL.Interleave(y00, y01, out TV first, out TV next);
                    StoreRow<TL, TV>(first, next, top, 2 * tx, outWidth, spill);
                    if (!second) continue;
                    TV y10 = TL.Add(TL.Quarter(TL.Add(TL.Add(s10, s11), s12)), offset), y11 = TL.Add(TL.Quarter(TL.Subtract(TL.Subtract(s11, s12), s13)), offset);
                    TL.Interleave(y10, y11, out first, out next);
                    StoreRow<TL, TV>(first, next, top.Slice(outWidth), 2 * tx, outWidth, spill);
                }
            }
        }
    }

    /// <summary>Aᵀ applied down column k of M: positions k, 4 + k, 8 + k and 12 + k (order 4·row + column), <paramref name="stride"/> ints apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Column<TL, TV>(ref int at, int stride, out TV top, out TV bottom) where TL : IWinogradLanes<TV> where TV : struct
    {
        TV m0 = TL.Load(ref at), m1 = TL.Load(ref Unsafe.Add(ref at, stride)), m2 = TL.Load(ref Unsafe.Add(ref at, 2 * stride)), m3 = TL.Load(ref Unsafe.Add(ref at, 3 * stride));
        top = TL.Add(TL.Add(m0, m1), m2);
        bottom = TL.Subtract(TL.Subtract(m1, m2), m3);
    }

    /// <summary>Writes 2·Lanes consecutive row values at <paramref name="column"/>, cut at the row's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow<TL, TV>(TV first, TV next, Span<int> row, int column, int outWidth, Span<int> spill) where TL : IWinogradLanes<TV> where TV : struct
    {
        int lanes = TL.Lanes, count = outWidth - column;
        if (count >= 2 * lanes)
        {
            ref int at = ref Unsafe.Add(ref MemoryMarshal.GetReference(row), column);
            TL.Store(first, ref at);
            TL.Store(next, ref Unsafe.Add(ref at, lanes));
            return;
        }
        TL.Store(first, ref spill[0]);
        TL.Store(next, ref spill[lanes]);
        spill.Slice(0, count).CopyTo(row.Slice(column));
    }
}
