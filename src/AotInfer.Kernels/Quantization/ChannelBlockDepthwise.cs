using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// The requantised depthwise convolution of <see cref="QuantizedDepthwise"/> vectorised over channels instead of over
/// the image, on AVX-512 with VBMI for images up to about 128×128: 16 channels share every vector, so the per-channel
/// costs of the image-vectorised path (filling phase planes, a grid tail, requantising a short row) are paid once per
/// 16 channels, and stride 2 reads the plane directly instead of copying it into four phase planes.
/// </summary>
/// <remarks>
/// For each block of 16 channels the image is transposed once (16×16 bytes at a time, two rounds of <c>vpermt2b</c>)
/// into a channel-interleaved float plane covering the padded window extent (padding 0, values x − zx), so that
/// position (iy, ix) holds the 16 channels' values in one vector. The plane is a band of a few padded rows (see
/// <see cref="BandRows"/>) filled just ahead of the output rows that read them, the rows still needed moved to its
/// start before the next ones are filled: the whole plane of a 112×112 image is 832 KB, the band at most 80 KB. Each output position is then the sum over the taps of
/// that vector times the tap's 16 per-channel weights (one fused multiply-add per tap, eight positions at a time, see
/// <see cref="ComputeOutputs"/>), and strides and dilations only change which positions a tap reads: no phase planes
/// are built. The 16 sums are requantised together with per-channel bias and multiplier vectors, to the bytes of
/// <see cref="QuantizedDepthwise"/>'s grid epilogue (same float sums, exact below 2²⁴; same rounding and saturation, see
/// <see cref="Requantizer"/>), into a channel-interleaved byte buffer that is transposed back to NCHW 16 positions at a
/// time.
/// </remarks>
static class ChannelBlockDepthwise
{
    const int Lanes = 16;

    /// <summary>Output positions <see cref="ComputeOutputs"/> sums at once (eight accumulators, eight chains of multiply-adds).</summary>
    const int Group = 8;

    /// <summary>
    /// Padded window positions (rows × columns the window covers) above which the image-vectorised path stays (the
    /// per-position destinations and outputs stay small; above 4096 the plane is filled in bands). MobileNet's largest, 114×114, fits: against the
    /// image-vectorised path this path measured 155 → 149 µs on its 112×112 stride-1 layer (32 channels), 234 → 166 on
    /// 112→56 stride 2 (96), 200 → 143 on 56×56 (144), 123 → 57 on 56→28 stride 2, 79 → 44 on 28×28 (192), 40 → 25 on
    /// 14×14 (384), 89 → 15 on 14→7 stride 2 (576) and 54 → 19 on 7×7 (960).
    /// </summary>
    const int MaxPositions = 16384;

    /// <summary>Plane positions (64 bytes each) a band may grow to beyond its minimum, 32 KB of the 48 KB L1 data cache.</summary>
    const int BandPositions = 512;

    /// <summary>
    /// Plane positions (256 KB) up to which the whole plane is filled at once: on MobileNet's 56×56 (144 channels) and
    /// 56→28 stride-2 layers bands measured 140 → 147 µs and 57 → 61 (the rows moved and the refills cost more than
    /// the cache misses they save), while on the 112×112 planes they were as fast and need 80 KB instead of 832.
    /// </summary>
    const int WholePlanePositions = 4096;

    /// <summary>Largest bias magnitude added in float (see <see cref="BlockTerms"/>): 2²⁴, below which every integer is a float.</summary>
    const int MaxBias = 1 << 24;

    // vpermt2b indices of the 16×16 byte transpose (see Transpose).
    static readonly Vector512<byte> s_pairLow = PairIndices(0), s_pairHigh = PairIndices(8);
    static readonly Vector512<byte> s_quadFirst = QuadIndices(0), s_quadSecond = QuadIndices(4);

    /// <summary>Whether a layer of this geometry is small enough for this path (the kernels' scratch then covers it).</summary>
    public static bool Fits(Window window) =>
        window.Rank == 2 && window.KernelSize <= QuantizedDepthwise.ExactFloatTaps && Rows(window) * Columns(window) <= MaxPositions;

    /// <summary>Ints of scratch the path needs: the tap weights and offsets, the image positions' destinations, the interleaved plane (or band of it) and the interleaved outputs.</summary>
    public static int ScratchLength(Window window) => new ScratchLayout(window).Length;

    /// <summary>Whether this call takes the path: geometry, CPU and tier, byte weights and outputs, finite multipliers and a bias a float holds exactly.</summary>
    public static bool Applies<TW, TOut>(Window window, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers)
    {
        if (typeof(TW) != typeof(byte) && typeof(TW) != typeof(sbyte)) return false;
        if (QuantizedMatrixMultiply.Tier < QuantizedGemmTier.Avx512BW || !Avx512BW.IsSupported || !Avx512Vbmi.IsSupported) return false;
        if ((typeof(TOut) != typeof(byte) && typeof(TOut) != typeof(sbyte)) || !Fits(window)) return false;
        foreach (float multiplier in multipliers)
            if (!float.IsFinite(multiplier)) return false;
        foreach (int value in bias)
            if (Math.Abs((long)value) > MaxBias) return false;
        return true;
    }

    /// <summary>Rows of the padded image the window covers.</summary>
    static int Rows(Window window) => (window.Output(0) - 1) * window.Stride(0) + (window.Kernel(0) - 1) * window.Dilation(0) + 1;

    /// <summary>Columns of the padded image the window covers.</summary>
    static int Columns(Window window) => (window.Output(1) - 1) * window.Stride(1) + (window.Kernel(1) - 1) * window.Dilation(1) + 1;

    /// <summary>Floats between the band's rows (over 16): the columns the window covers, or more so every image column has a place and the fill needs no test.</summary>
    static int Pitch(Window window) => Math.Max(Columns(window), window.PadBegin(1) + window.Input(1));

    /// <summary>Padded rows one output row reads: (KH − 1)·dh + 1.</summary>
    static int Span(Window window) => (window.Kernel(0) - 1) * window.Dilation(0) + 1;

    /// <summary>
    /// Padded rows the band holds: all the window covers up to <see cref="WholePlanePositions"/> (filled once), else one
    /// output row's span plus four row steps, so each refill serves at least five output rows and the rows moved
    /// (span − stride) are few against those filled, or more while within <see cref="BandPositions"/>.
    /// </summary>
    static int BandRows(Window window)
    {
        int rows = Rows(window), pitch = Pitch(window);
        return rows * pitch <= WholePlanePositions ? rows : Math.Min(rows, Math.Max(Span(window) + 4 * window.Stride(0), BandPositions / pitch));
    }

    /// <summary>
    /// y = the requantised depthwise convolution (arguments as <see cref="QuantizedDepthwise.Convolve2DRequantized{TX, TW, TOut}(ReadOnlySpan{TX}, ReadOnlySpan{TX}, ReadOnlySpan{TW}, ReadOnlySpan{TW}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, Span{TOut}, Span{int}, int, int, int[])"/>,
    /// already checked), when <see cref="Applies{TW, TOut}"/>; <paramref name="packedWeights"/>, when given, holds the
    /// same weights already interleaved (then <paramref name="weights"/> and <paramref name="wZeroPoint"/> are not read).
    /// </summary>
    public static void Convolve<TX, TW, TOut>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TW> weights, ReadOnlySpan<TW> wZeroPoint,
        Int8DepthwiseWeights<TW>? packedWeights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TOut> y, Span<int> scratch, int batch,
        int channels, Window window)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TOut : unmanaged, IBinaryInteger<TOut>
    {
        int taps = window.KernelSize, inputSize = window.InputSize, outputSize = window.OutputSize, pitch = Pitch(window);
        int rows = Rows(window), bandRows = BandRows(window), span = Span(window), rowStride = window.Stride(0), outputRows = window.Output(0);
        var layout = new ScratchLayout(window);
        Span<float> interleaved = MemoryMarshal.Cast<int, float>(scratch.Slice(layout.Weights, taps * Lanes));
        ReadOnlySpan<float> tapWeights;
        Span<int> tapOffsets = scratch.Slice(layout.Offsets, taps);
        Span<int> destinations = scratch.Slice(layout.Destinations, inputSize);
        Span<int> positions = scratch.Slice(layout.Positions, outputSize);
        // The plane starts on a cache line: its 64-byte vectors then never straddle two (straddling loads measured
        // 3.14 → 2.54 µs on DS-CNN's 25×5 layers); the outputs follow it on a cache line too.
        int planeStart = layout.Plane + CacheLineShift(scratch.Slice(layout.Plane));
        Span<float> plane = MemoryMarshal.Cast<int, float>(scratch.Slice(planeStart, layout.PlaneLength));
        Span<byte> packed = MemoryMarshal.AsBytes(scratch.Slice(planeStart + layout.PlaneLength, layout.OutputsLength));
        for (int ky = 0; ky < window.Kernel(0); ky++)
            for (int kx = 0; kx < window.Kernel(1); kx++)
                tapOffsets[ky * window.Kernel(1) + kx] = (ky * window.Dilation(0) * pitch + kx * window.Dilation(1)) * Lanes;
        MapDestinations(window, pitch, destinations);
        // Tiles find their positions themselves; the positions are mapped only if a run of one output row needs them.
        bool tiles = TakesTiles(window), mapped = !tiles;
        if (mapped) MapPositions(window, pitch, positions);
        ClearPaddingColumns(window, pitch, bandRows, plane);
        int zeroX = xZeroPoint.IsEmpty ? 0 : int.CreateTruncating(xZeroPoint[0]);
        bool signedW = typeof(TW) == typeof(sbyte);
        bool threeByThree = window.Kernel(0) == 3 && window.Kernel(1) == 3 && window.Dilation(1) == 1;
        var requantize = new Requantizer(yZeroPoint, typeof(TOut) == typeof(sbyte));
        ReadOnlySpan<byte> input = MemoryMarshal.AsBytes(x), weightBytes = MemoryMarshal.AsBytes(weights);
        Span<byte> output = MemoryMarshal.AsBytes(y);
        for (int first = 0; first < channels; first += Lanes)
        {
            int block = Math.Min(Lanes, channels - first);
            // Channels past the last are given weight 0, bias 0 and multiplier 0: their lanes compute 0 and are dropped.
            var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(block));
            Vector512<float> weightSums;
            if (packedWeights is not null)
            {
                tapWeights = packedWeights.TapWeights.AsSpan(first * taps, taps * Lanes);
                weightSums = Vector512.Create(packedWeights.AbsoluteSums.AsSpan(first, Lanes));
            }
            else
            {
                // The block's outputs are not written yet: their buffer holds the weights' transpose meanwhile.
                tapWeights = interleaved;
                weightSums = InterleaveWeights(weightBytes, first * taps, block, taps, signedW, ChannelLanes(wZeroPoint, first, block) & mask,
                    interleaved, packed);
            }
            var biasVector = bias.IsEmpty ? Vector512<float>.Zero : Vector512.ConvertToSingle(ChannelLanes(bias, first, block) & mask);
            var terms = new BlockTerms(biasVector, ChannelLanes(multipliers, first, block) & mask.AsSingle(), weightSums);
            for (int n = 0; n < batch; n++)
            {
                // The band's row 0 holds padded row bandTop; it holds rows [bandTop, filled).
                int start = (n * channels + first) * inputSize, bandTop = 0, filled = 0;
                for (int oy = 0; oy < outputRows;)
                {
                    int top = oy * rowStride;
                    if (top + span > filled)
                    {
                        if (top + span > bandTop + bandRows)
                        {
                            // The rows still to be read move to the band's start (Span.CopyTo handles the overlap);
                            // with a stride above the span there are none, and the rows in between are never read.
                            if (filled > top) plane.Slice((top - bandTop) * pitch * Lanes, (filled - top) * pitch * Lanes).CopyTo(plane);
                            bandTop = top;
                            filled = Math.Max(filled, top);
                        }
                        int target = Math.Min(rows, bandTop + bandRows);
                        FillRows<TX>(input, start, filled, target, bandTop, block, window, pitch, destinations, zeroX, plane);
                        filled = target;
                    }
                    int count = Math.Min(outputRows - oy, (filled - span - top) / rowStride + 1);
                    int outputWidth = window.Output(1);
                    Span<float> band = plane.Slice((top - bandTop) * pitch * Lanes);
                    Span<byte> outputs = packed.Slice(oy * outputWidth * Lanes);
                    if (!mapped && count < 2)
                    {
                        MapPositions(window, pitch, positions);
                        mapped = true;
                    }
                    if (tiles && count >= 2) ComputeTiles3x3(band, tapWeights, pitch, outputWidth, count, requantize, terms, outputs);
                    else if (threeByThree) ComputeOutputs3x3(band, tapWeights, tapOffsets, positions.Slice(oy * outputWidth, count * outputWidth), oy * rowStride * pitch * Lanes,
                        requantize, terms, outputs);
                    else ComputeOutputs(band, tapWeights, tapOffsets, positions.Slice(oy * outputWidth, count * outputWidth), oy * rowStride * pitch * Lanes,
                        requantize, terms, outputs);
                    oy += count;
                }
                WriteOutputs(packed, output, (n * channels + first) * outputSize, outputSize, block);
            }
        }
    }

    /// <summary>
    /// values[first + k] in lane k for the block's channels (the one value of a per-tensor span in every lane; 0 for an
    /// empty span); lanes past <paramref name="block"/> are left for the caller to mask.
    /// </summary>
    static Vector512<int> ChannelLanes<T>(ReadOnlySpan<T> values, int first, int block) where T : unmanaged, IBinaryInteger<T>
    {
        if (values.IsEmpty) return Vector512<int>.Zero;
        if (values.Length == 1) return Vector512.Create(int.CreateTruncating(values[0]));
        if (typeof(T) == typeof(int) && block == Lanes) return Vector512.Create(MemoryMarshal.Cast<T, int>(values.Slice(first, Lanes)));
        if (Unsafe.SizeOf<T>() == 1 && block == Lanes)
        {
            // Per-channel byte zero points (MobileNet's are 960 of them): 16 widened at once, not lane by lane.
            var bytes = Vector128.Create(MemoryMarshal.AsBytes(values.Slice(first, Lanes)));
            return typeof(T) == typeof(sbyte) ? Avx512F.ConvertToVector512Int32(bytes.AsSByte()) : Avx512F.ConvertToVector512Int32(bytes);
        }
        var lanes = Vector512<int>.Zero;
        for (int k = 0; k < block; k++) lanes = lanes.WithElement(k, int.CreateTruncating(values[first + k]));
        return lanes;
    }

    /// <inheritdoc cref="ChannelLanes{T}(ReadOnlySpan{T}, int, int)"/>
    static Vector512<float> ChannelLanes(ReadOnlySpan<float> values, int first, int block)
    {
        if (values.Length == 1) return Vector512.Create(values[0]);
        if (block == Lanes) return Vector512.Create(values.Slice(first, Lanes));
        var lanes = Vector512<float>.Zero;
        for (int k = 0; k < block; k++) lanes = lanes.WithElement(k, values[first + k]);
        return lanes;
    }

    /// <summary>Where the parts of the scratch start (ints), in the order <see cref="ScratchLength"/> counts them; the plane moves up to 15 ints further (<see cref="CacheLineShift"/>).</summary>
    readonly struct ScratchLayout
    {
        public readonly int Weights, Offsets, Destinations, Positions, Plane, PlaneLength, OutputsLength, Length;

        public ScratchLayout(Window window)
        {
            int taps = window.KernelSize;
            Weights = 0;
            Offsets = taps * Lanes;
            Destinations = Offsets + taps;
            Positions = Destinations + window.InputSize;
            Plane = Positions + window.OutputSize;
            PlaneLength = BandRows(window) * Pitch(window) * Lanes;
            OutputsLength = (window.OutputSize + Lanes - 1) / Lanes * Lanes * Lanes / 4;
            // Up to 15 ints move the plane and outputs onto a cache line (see CacheLineShift).
            Length = Plane + Lanes - 1 + PlaneLength + OutputsLength;
        }
    }

    /// <summary>
    /// destinations[iy·W + ix] = the float index of image position (iy, ix) in the whole padded plane of pitch
    /// <paramref name="pitch"/>; the fill subtracts the index of the band's first row.
    /// </summary>
    static void MapDestinations(Window window, int pitch, Span<int> destinations) =>
        MapGrid(destinations.Slice(0, window.InputSize), window.Input(1), (window.PadBegin(0) * pitch + window.PadBegin(1)) * Lanes, pitch * Lanes, Lanes);

    /// <summary>
    /// positions[oy·OW + ox] = the float index in the plane of the first tap of output position (oy, ox):
    /// (oy·sy·pitch + ox·sx)·16. A run of output rows starting at row r subtracts r·sy·pitch·16.
    /// </summary>
    static void MapPositions(Window window, int pitch, Span<int> positions) =>
        MapGrid(positions.Slice(0, window.OutputSize), window.Output(1), 0, window.Stride(0) * pitch * Lanes, window.Stride(1) * Lanes);

    /// <summary>
    /// grid[i] = first + (i / columns)·rowStep + (i mod columns)·columnStep, 16 at a time (row by row cost as much as a
    /// tenth of DS-CNN's 25×5 layers): the row is ⌊(i + ½)·(1 / columns)⌋ in float, exact while i &lt; 2²², as the float
    /// errors stay below the ½ / columns between i / columns and an integer.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void MapGrid(Span<int> grid, int columns, int first, int rowStep, int columnStep)
    {
        int count = grid.Length;
        if (count < Lanes)
        {
            for (int i = 0; i < count; i++) grid[i] = first + i / columns * rowStep + i % columns * columnStep;
            return;
        }
        ref int to = ref MemoryMarshal.GetReference(grid);
        var inverse = Vector512.Create(1f / columns);
        var width = Vector512.Create(columns);
        var rowSteps = Vector512.Create(rowStep);
        var columnSteps = Vector512.Create(columnStep);
        var start = Vector512.Create(first);
        for (int i0 = 0; ; i0 += Lanes)
        {
            // The last 16 overlap the previous ones rather than writing past the grid.
            if (i0 > count - Lanes) i0 = count - Lanes;
            var index = Vector512<int>.Indices + Vector512.Create(i0);
            var row = Vector512.ConvertToInt32((Vector512.ConvertToSingle(index) + Vector512.Create(0.5f)) * inverse);
            (start + row * rowSteps + (index - row * width) * columnSteps).StoreUnsafe(ref to, (nuint)i0);
            if (i0 == count - Lanes) break;
        }
    }

    /// <summary>Ints (0 to 15) from the start of <paramref name="ints"/> to the next 64-byte boundary.</summary>
    static unsafe int CacheLineShift(Span<int> ints)
    {
        // A managed scratch array may move afterwards; that costs only speed, never correctness.
        nuint address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(ints));
        return (int)((64 - address % 64) % 64) / sizeof(int);
    }

    /// <summary>
    /// Zeroes the padding columns beside the image in every row of the band, which no fill writes (padding rows are
    /// cleared as the band reaches them, see <see cref="FillRows"/>; moved rows carry their zeros). Clearing the whole
    /// plane instead cost as much as a fifth of a 112×112 layer.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ClearPaddingColumns(Window window, int pitch, int bandRows, Span<float> plane)
    {
        int padLeft = window.PadBegin(1), imageEnd = padLeft + window.Input(1);
        ref float origin = ref MemoryMarshal.GetReference(plane.Slice(0, bandRows * pitch * Lanes));
        // One vector store per padding position: rows are a few positions of padding, where a span Clear call costs more.
        for (int r = 0; r < bandRows; r++)
        {
            ref float row = ref Unsafe.Add(ref origin, r * pitch * Lanes);
            for (int c = 0; c < padLeft; c++) Vector512<float>.Zero.StoreUnsafe(ref row, (nuint)(c * Lanes));
            for (int c = imageEnd; c < pitch; c++) Vector512<float>.Zero.StoreUnsafe(ref row, (nuint)(c * Lanes));
        }
    }

    /// <summary>
    /// Padded rows [<paramref name="from"/>, <paramref name="to"/>) into the band whose first row is padded row
    /// <paramref name="bandTop"/>, for one image's block of channels (at <paramref name="start"/> in <paramref name="x"/>):
    /// padding rows zeroed, image rows transposed in one run.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void FillRows<TX>(ReadOnlySpan<byte> x, int start, int from, int to, int bandTop, int block, Window window, int pitch,
        ReadOnlySpan<int> destinations, int zeroX, Span<float> plane)
    {
        int padTop = window.PadBegin(0), height = window.Input(0), width = window.Input(1);
        for (int r = from; r < to; r++)
            if (r < padTop || r >= padTop + height) plane.Slice((r - bandTop) * pitch * Lanes, pitch * Lanes).Clear();
        int firstRow = Math.Max(from - padTop, 0), endRow = Math.Min(to - padTop, height);
        if (endRow > firstRow)
            FillPlane<TX>(x, start + firstRow * width, window.InputSize, (endRow - firstRow) * width, block, destinations.Slice(firstRow * width),
                bandTop * pitch * Lanes, zeroX, plane);
    }

    /// <summary>
    /// tapWeights[t·16 + k] = w[k, t] − zw[k] as floats for the block's channels (0 past <paramref name="block"/>), and
    /// returns Σ_t |w[k, t] − zw[k]| per channel (see <see cref="BlockTerms"/>). With at most 16 taps the block's weights
    /// (16 rows of <paramref name="taps"/> bytes) are transposed as one 16×16 byte square; larger kernels go value by value.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static Vector512<float> InterleaveWeights(ReadOnlySpan<byte> allWeights, int start, int block, int taps, bool signed, Vector512<int> zero, Span<float> tapWeights,
        Span<byte> square)
    {
        ref float target = ref MemoryMarshal.GetReference(tapWeights);
        var sums = Vector512<float>.Zero;
        ReadOnlySpan<byte> weights = allWeights.Slice(start, block * taps);
        if (taps > Lanes)
        {
            tapWeights.Clear();
            for (int k = 0; k < block; k++)
                for (int t = 0; t < taps; t++) tapWeights[t * Lanes + k] = (signed ? (sbyte)weights[k * taps + t] : weights[k * taps + t]) - zero.GetElement(k);
            for (int t = 0; t < taps; t++) sums += Vector512.Abs(Vector512.LoadUnsafe(ref target, (nuint)(t * Lanes)));
            return sums;
        }
        // Row k is read as 16 bytes from k·taps: bytes past its taps (the next channels') land in the transpose's rows
        // past the taps, which are not used. Where the last row would read past the weights, a copy in the square
        // followed by zeros is read instead.
        ref byte rows = ref Unsafe.AsRef(in allWeights[start]);
        if (start + (block - 1) * taps + Lanes > allWeights.Length)
        {
            square = square.Slice(0, Lanes * Lanes);
            square.Clear();
            weights.CopyTo(square);
            rows = ref MemoryMarshal.GetReference(square);
        }
        var r0 = LoadRows(ref rows, 0, taps, 0, block);
        var r1 = LoadRows(ref rows, 0, taps, 4, block);
        var r2 = LoadRows(ref rows, 0, taps, 8, block);
        var r3 = LoadRows(ref rows, 0, taps, 12, block);
        Transpose(ref r0, ref r1, ref r2, ref r3);
        for (int t = 0; t < taps; t++)
        {
            // Tap t is 16-byte lane t mod 4 of the transpose's row quad t / 4, taken from the registers (a 64-byte
            // store read back 16 bytes at a time waited for the store each time).
            var quad = (t >> 2) switch { 0 => r0, 1 => r1, 2 => r2, _ => r3 };
            var values = (t & 3) switch { 0 => quad.GetLower().GetLower(), 1 => quad.GetLower().GetUpper(), 2 => quad.GetUpper().GetLower(), _ => quad.GetUpper().GetUpper() };
            var widened = signed ? Avx512F.ConvertToVector512Int32(values.AsSByte()) : Avx512F.ConvertToVector512Int32(values);
            // Lanes past the block read 0 with zero point 0: weight 0.
            var centred = Vector512.ConvertToSingle(widened - zero);
            centred.StoreUnsafe(ref target, (nuint)(t * Lanes));
            sums += Vector512.Abs(centred);
        }
        return sums;
    }

    /// <summary>
    /// <paramref name="count"/> consecutive image positions of channels [first, first + block) (at <paramref name="start"/>
    /// in <paramref name="x"/>, channel planes <paramref name="channelPitch"/> bytes apart) into the band, whose first float
    /// is float <paramref name="origin"/> of the whole plane: plane[destinations[p] − origin + k] = x[k, p] − zx. Lanes
    /// past <paramref name="block"/> get −zx (their weights are 0).
    /// </summary>
    static void FillPlane<TX>(ReadOnlySpan<byte> x, int start, int channelPitch, int count, int block, ReadOnlySpan<int> destinations, int origin,
        int zeroX, Span<float> plane)
    {
        bool signed = typeof(TX) == typeof(sbyte);
        if (count < Lanes)
        {
            for (int p = 0; p < count; p++)
                for (int k = 0; k < block; k++)
                {
                    byte value = x[start + k * channelPitch + p];
                    plane[destinations[p] - origin + k] = (signed ? (sbyte)value : value) - zeroX;
                }
            return;
        }
        ref byte source = ref MemoryMarshal.GetReference(x);
        ref int to = ref MemoryMarshal.GetReference(destinations);
        ref float target = ref MemoryMarshal.GetReference(plane);
        var shift = Vector512.Create(zeroX);
        for (int p0 = 0; ; p0 += Lanes)
        {
            // The last 16 positions overlap the previous ones rather than reading past the run.
            if (p0 > count - Lanes) p0 = count - Lanes;
            var r0 = LoadRows(ref source, start + p0, channelPitch, 0, block);
            var r1 = LoadRows(ref source, start + p0, channelPitch, 4, block);
            var r2 = LoadRows(ref source, start + p0, channelPitch, 8, block);
            var r3 = LoadRows(ref source, start + p0, channelPitch, 12, block);
            Transpose(ref r0, ref r1, ref r2, ref r3);
            ref int at = ref Unsafe.Add(ref to, p0);
            WidenQuad<TX>(r0, ref at, shift, origin, ref target);
            WidenQuad<TX>(r1, ref Unsafe.Add(ref at, 4), shift, origin, ref target);
            WidenQuad<TX>(r2, ref Unsafe.Add(ref at, 8), shift, origin, ref target);
            WidenQuad<TX>(r3, ref Unsafe.Add(ref at, 12), shift, origin, ref target);
            if (p0 == count - Lanes) break;
        }
    }

    /// <summary>16 bytes at <paramref name="at"/> of the four channel planes <paramref name="firstRow"/>… (pitch <paramref name="size"/>), zeros past <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<byte> LoadRows(ref byte source, int at, int size, int firstRow, int block)
    {
        // Widened and inserted half by half: Vector512.Create(lower, upper) went through a stack temporary.
        var lower = LoadRow(ref source, at, size, firstRow, block).ToVector256Unsafe().WithUpper(LoadRow(ref source, at, size, firstRow + 1, block));
        var upper = LoadRow(ref source, at, size, firstRow + 2, block).ToVector256Unsafe().WithUpper(LoadRow(ref source, at, size, firstRow + 3, block));
        return lower.ToVector512Unsafe().WithUpper(upper);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> LoadRow(ref byte source, int at, int size, int row, int block) =>
        row < block ? Vector128.LoadUnsafe(ref source, (nuint)(at + row * size)) : Vector128<byte>.Zero;

    /// <summary>Four consecutive image positions' 16 channel bytes (one per 128-bit lane), widened, centred and stored at their destinations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WidenQuad<TX>(Vector512<byte> quad, ref int destinations, Vector512<int> shift, int origin, ref float plane)
    {
        WidenPosition<TX>(quad.GetLower().GetLower(), destinations - origin, shift, ref plane);
        WidenPosition<TX>(quad.GetLower().GetUpper(), Unsafe.Add(ref destinations, 1) - origin, shift, ref plane);
        WidenPosition<TX>(quad.GetUpper().GetLower(), Unsafe.Add(ref destinations, 2) - origin, shift, ref plane);
        WidenPosition<TX>(quad.GetUpper().GetUpper(), Unsafe.Add(ref destinations, 3) - origin, shift, ref plane);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WidenPosition<TX>(Vector128<byte> channels, int destination, Vector512<int> shift, ref float plane)
    {
        var values = typeof(TX) == typeof(sbyte) ? Avx512F.ConvertToVector512Int32(channels.AsSByte()) : Avx512F.ConvertToVector512Int32(channels);
        Vector512.ConvertToSingle(values - shift).StoreUnsafe(ref plane, (nuint)destination);
    }

    /// <summary>
    /// packed[p·16 + k] = the requantised output of channel k at the <paramref name="positions"/>' p-th output position,
    /// which reads the band from float positions[p] − <paramref name="shift"/>: the taps summed in float (exact, in any
    /// order), eight positions per pass over the taps. Eight independent chains of multiply-adds hide their latency on
    /// both FMA pipes (four chains per output row left DS-CNN's 5-wide rows latency-bound), and running over the
    /// positions rather than along each row gives narrow rows no short tails.
    /// </summary>
    // Convolve's helpers stay calls (NoInlining): inlined into it, one large method, the JIT spilled the sums here
    // (DS-CNN's 25×5 layers measured 2.4 → 2.8 µs).
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ComputeOutputs(ReadOnlySpan<float> band, ReadOnlySpan<float> tapWeights, ReadOnlySpan<int> tapOffsets, ReadOnlySpan<int> positions, int shift,
        in Requantizer requantize, in BlockTerms terms, Span<byte> packed)
    {
        int count = positions.Length, taps = tapOffsets.Length;
        ref float source = ref MemoryMarshal.GetReference(band);
        ref float weights = ref MemoryMarshal.GetReference(tapWeights);
        ref int offsets = ref MemoryMarshal.GetReference(tapOffsets);
        ref int position = ref MemoryMarshal.GetReference(positions);
        ref byte destination = ref MemoryMarshal.GetReference(packed);
        var start = terms.Start;
        if (count < Group)
        {
            ComputeFewOutputs(ref source, ref weights, ref offsets, ref position, count, taps, shift, requantize, terms, packed);
            return;
        }
        for (int p = 0; ; p += Group)
        {
            // The last group overlaps the previous one rather than running past the positions (its sums are the same).
            if (p > count - Group) p = count - Group;
            var group = new GroupStarts(ref source, ref Unsafe.Add(ref position, p), shift);
            // Tap 0 reads offset 0 (kernel row 0, column 0).
            var w = Vector512.LoadUnsafe(ref weights);
            var s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A0), w, start);
            var s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A1), w, start);
            var s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A2), w, start);
            var s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A3), w, start);
            var s4 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A4), w, start);
            var s5 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A5), w, start);
            var s6 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A6), w, start);
            var s7 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref group.A7), w, start);
            for (int t = 1; t < taps; t++)
            {
                w = Vector512.LoadUnsafe(ref weights, (nuint)(t * Lanes));
                nuint offset = (nuint)Unsafe.Add(ref offsets, t);
                s0 = Tap(ref group.A0, offset, w, s0);
                s1 = Tap(ref group.A1, offset, w, s1);
                s2 = Tap(ref group.A2, offset, w, s2);
                s3 = Tap(ref group.A3, offset, w, s3);
                s4 = Tap(ref group.A4, offset, w, s4);
                s5 = Tap(ref group.A5, offset, w, s5);
                s6 = Tap(ref group.A6, offset, w, s6);
                s7 = Tap(ref group.A7, offset, w, s7);
            }
            ref byte output = ref Unsafe.Add(ref destination, p * Lanes);
            requantize.Four(s0, s1, s2, s3, terms).StoreUnsafe(ref output);
            requantize.Four(s4, s5, s6, s7, terms).StoreUnsafe(ref output, 4 * Lanes);
            if (p == count - Group) break;
        }
    }

    /// <summary>
    /// <see cref="ComputeOutputs"/> for 3×3 kernels of column dilation 1 (every depthwise layer of DS-CNN and
    /// MobileNetV2): the nine tap weights stay in registers and the taps are unrolled, kernel row by kernel row, so a group's
    /// 72 multiply-adds read only the band (no weight or offset loads, no tap loop). DS-CNN's 25×5 layers measured
    /// 2.3 → 2.0 µs.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ComputeOutputs3x3(ReadOnlySpan<float> band, ReadOnlySpan<float> tapWeights, ReadOnlySpan<int> tapOffsets, ReadOnlySpan<int> positions, int shift,
        in Requantizer requantize, in BlockTerms terms, Span<byte> packed)
    {
        int count = positions.Length;
        ref float source = ref MemoryMarshal.GetReference(band);
        ref float weights = ref MemoryMarshal.GetReference(tapWeights);
        ref int position = ref MemoryMarshal.GetReference(positions);
        ref byte destination = ref MemoryMarshal.GetReference(packed);
        if (count < Group)
        {
            ComputeFewOutputs(ref source, ref weights, ref MemoryMarshal.GetReference(tapOffsets), ref position, count, 9, shift, requantize, terms, packed);
            return;
        }
        var start = terms.Start;
        var w = new NineTaps(ref weights);
        // Floats from a position's first tap to kernel rows 1 and 2; the columns follow at 16 and 32.
        nuint row1 = (nuint)tapOffsets[3], row2 = (nuint)tapOffsets[6];
        for (int p = 0; ; p += Group)
        {
            if (p > count - Group) p = count - Group;
            var group = new GroupStarts(ref source, ref Unsafe.Add(ref position, p), shift);
            var s0 = KernelRow(ref group.A0, 0, w.W0, w.W1, w.W2, start);
            var s1 = KernelRow(ref group.A1, 0, w.W0, w.W1, w.W2, start);
            var s2 = KernelRow(ref group.A2, 0, w.W0, w.W1, w.W2, start);
            var s3 = KernelRow(ref group.A3, 0, w.W0, w.W1, w.W2, start);
            var s4 = KernelRow(ref group.A4, 0, w.W0, w.W1, w.W2, start);
            var s5 = KernelRow(ref group.A5, 0, w.W0, w.W1, w.W2, start);
            var s6 = KernelRow(ref group.A6, 0, w.W0, w.W1, w.W2, start);
            var s7 = KernelRow(ref group.A7, 0, w.W0, w.W1, w.W2, start);
            s0 = KernelRow(ref group.A0, row1, w.W3, w.W4, w.W5, s0);
            s1 = KernelRow(ref group.A1, row1, w.W3, w.W4, w.W5, s1);
            s2 = KernelRow(ref group.A2, row1, w.W3, w.W4, w.W5, s2);
            s3 = KernelRow(ref group.A3, row1, w.W3, w.W4, w.W5, s3);
            s4 = KernelRow(ref group.A4, row1, w.W3, w.W4, w.W5, s4);
            s5 = KernelRow(ref group.A5, row1, w.W3, w.W4, w.W5, s5);
            s6 = KernelRow(ref group.A6, row1, w.W3, w.W4, w.W5, s6);
            s7 = KernelRow(ref group.A7, row1, w.W3, w.W4, w.W5, s7);
            s0 = KernelRow(ref group.A0, row2, w.W6, w.W7, w.W8, s0);
            s1 = KernelRow(ref group.A1, row2, w.W6, w.W7, w.W8, s1);
            s2 = KernelRow(ref group.A2, row2, w.W6, w.W7, w.W8, s2);
            s3 = KernelRow(ref group.A3, row2, w.W6, w.W7, w.W8, s3);
            s4 = KernelRow(ref group.A4, row2, w.W6, w.W7, w.W8, s4);
            s5 = KernelRow(ref group.A5, row2, w.W6, w.W7, w.W8, s5);
            s6 = KernelRow(ref group.A6, row2, w.W6, w.W7, w.W8, s6);
            s7 = KernelRow(ref group.A7, row2, w.W6, w.W7, w.W8, s7);
            ref byte output = ref Unsafe.Add(ref destination, p * Lanes);
            requantize.Four(s0, s1, s2, s3, terms).StoreUnsafe(ref output);
            requantize.Four(s4, s5, s6, s7, terms).StoreUnsafe(ref output, 4 * Lanes);
            if (p == count - Group) break;
        }
    }

    /// <summary>Output columns of one tile of <see cref="ComputeTiles3x3"/>: two rows of five are ten sums, and 7 + 9 + 10 vectors stay in registers.</summary>
    const int TileColumns = 5;

    /// <summary>
    /// Whether <see cref="ComputeTiles3x3"/> serves this window: 3×3, strides and dilations 1, outputs five wide or ten
    /// and more. Six to nine columns would compute up to four columns twice (two overlapping tiles): on MobileNetV2's 7×7
    /// layer (960 channels) tiles measured 12.8 against 12.5 µs for <see cref="ComputeOutputs3x3"/>.
    /// </summary>
    static bool TakesTiles(Window window) =>
        window.Kernel(0) == 3 && window.Kernel(1) == 3 && window.Stride(0) == 1 && window.Stride(1) == 1 && window.Dilation(0) == 1 && window.Dilation(1) == 1 &&
        (window.Output(1) == TileColumns || window.Output(1) >= 2 * TileColumns);

    /// <summary>
    /// <see cref="ComputeOutputs3x3"/> for stride 1 (<see cref="TakesTiles"/>) over <paramref name="rows"/> ≥ 2 output
    /// rows of the band, by tiles of two output rows × five columns: an input row's seven vectors are loaded once per
    /// output row that reads them and each feeds all three taps of its kernel row (<see cref="FiveSums.Add"/>), so the
    /// 90 multiply-adds take 42 loads where eight positions' 72 took 72 (DS-CNN's 25×5 layers measured 1.81 → 1.61 µs,
    /// MobileNetV2's 56×56 81 → 70, its 28×28 28.0 → 23.3; loading the middle rows once for both output rows, 28 loads,
    /// measured the same). Ten independent sums cover the multiply-add latency. An odd last row and a last partial tile
    /// overlap the previous ones, computing the same bytes again.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void ComputeTiles3x3(ReadOnlySpan<float> band, ReadOnlySpan<float> tapWeights, int pitch, int outputWidth, int rows,
        in Requantizer requantize, in BlockTerms terms, Span<byte> packed)
    {
        ref float source = ref MemoryMarshal.GetReference(band);
        ref float weights = ref MemoryMarshal.GetReference(tapWeights);
        ref byte destination = ref MemoryMarshal.GetReference(packed);
        var start = terms.Start;
        var w = new NineTaps(ref weights);
        nuint rowFloats = (nuint)(pitch * Lanes);
        for (int y = 0; ; y += 2)
        {
            if (y > rows - 2) y = rows - 2;
            for (int x = 0; ; x += TileColumns)
            {
                if (x > outputWidth - TileColumns) x = outputWidth - TileColumns;
                ref float row0 = ref Unsafe.Add(ref source, (y * pitch + x) * Lanes);
                ref float row1 = ref Unsafe.Add(ref row0, rowFloats);
                ref float row2 = ref Unsafe.Add(ref row1, rowFloats);
                // Input row r feeds kernel row r of output row 0 and kernel row r − 1 of output row 1.
                var upper = FiveSums.Add(ref row0, w.W0, w.W1, w.W2, new FiveSums(start));
                upper = FiveSums.Add(ref row1, w.W3, w.W4, w.W5, upper);
                var lower = FiveSums.Add(ref row1, w.W0, w.W1, w.W2, new FiveSums(start));
                upper = FiveSums.Add(ref row2, w.W6, w.W7, w.W8, upper);
                lower = FiveSums.Add(ref row2, w.W3, w.W4, w.W5, lower);
                lower = FiveSums.Add(ref Unsafe.Add(ref row2, rowFloats), w.W6, w.W7, w.W8, lower);
                ref byte first = ref Unsafe.Add(ref destination, (y * outputWidth + x) * Lanes);
                ref byte second = ref Unsafe.Add(ref first, outputWidth * Lanes);
                requantize.Four(upper.S0, upper.S1, upper.S2, upper.S3, terms).StoreUnsafe(ref first);
                requantize.Four(lower.S0, lower.S1, lower.S2, lower.S3, terms).StoreUnsafe(ref second);
                // The fifth columns of both rows share one requantisation.
                var lasts = requantize.Four(upper.S4, lower.S4, upper.S4, lower.S4, terms);
                lasts.GetLower().GetLower().StoreUnsafe(ref first, 4 * Lanes);
                lasts.GetLower().GetUpper().StoreUnsafe(ref second, 4 * Lanes);
                if (x == outputWidth - TileColumns) break;
            }
            if (y == rows - 2) break;
        }
    }

    /// <summary>The sums of five adjacent output positions of one row of a tile (<see cref="ComputeTiles3x3"/>).</summary>
    readonly struct FiveSums(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, Vector512<float> s4)
    {
        public readonly Vector512<float> S0 = s0, S1 = s1, S2 = s2, S3 = s3, S4 = s4;

        /// <summary>Five sums that all start at <paramref name="start"/>.</summary>
        public FiveSums(Vector512<float> start) : this(start, start, start, start, start) { }

        /// <summary>
        /// <paramref name="sums"/> + one kernel row's taps (weights <paramref name="left"/>, <paramref name="middle"/>,
        /// <paramref name="right"/>) on the seven input vectors from <paramref name="input"/>, each loaded once.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static FiveSums Add(ref float input, Vector512<float> left, Vector512<float> middle, Vector512<float> right, FiveSums sums)
        {
            var v0 = Vector512.LoadUnsafe(ref input);
            var v1 = Vector512.LoadUnsafe(ref input, 1 * Lanes);
            var v2 = Vector512.LoadUnsafe(ref input, 2 * Lanes);
            var v3 = Vector512.LoadUnsafe(ref input, 3 * Lanes);
            var v4 = Vector512.LoadUnsafe(ref input, 4 * Lanes);
            var v5 = Vector512.LoadUnsafe(ref input, 5 * Lanes);
            var v6 = Vector512.LoadUnsafe(ref input, 6 * Lanes);
            return new FiveSums(Taps(v0, v1, v2, sums.S0), Taps(v1, v2, v3, sums.S1), Taps(v2, v3, v4, sums.S2), Taps(v3, v4, v5, sums.S3), Taps(v4, v5, v6, sums.S4));

            Vector512<float> Taps(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> sum) =>
                Vector512.FusedMultiplyAdd(c, right, Vector512.FusedMultiplyAdd(b, middle, Vector512.FusedMultiplyAdd(a, left, sum)));
        }
    }

    /// <summary>A 3×3 kernel's nine tap weight vectors, row by row, held in registers by the loops that use them.</summary>
    readonly struct NineTaps
    {
        public readonly Vector512<float> W0, W1, W2, W3, W4, W5, W6, W7, W8;

        /// <summary>The nine vectors of 16 floats from <paramref name="weights"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public NineTaps(ref float weights)
        {
            W0 = Vector512.LoadUnsafe(ref weights);
            W1 = Vector512.LoadUnsafe(ref weights, 1 * Lanes);
            W2 = Vector512.LoadUnsafe(ref weights, 2 * Lanes);
            W3 = Vector512.LoadUnsafe(ref weights, 3 * Lanes);
            W4 = Vector512.LoadUnsafe(ref weights, 4 * Lanes);
            W5 = Vector512.LoadUnsafe(ref weights, 5 * Lanes);
            W6 = Vector512.LoadUnsafe(ref weights, 6 * Lanes);
            W7 = Vector512.LoadUnsafe(ref weights, 7 * Lanes);
            W8 = Vector512.LoadUnsafe(ref weights, 8 * Lanes);
        }
    }

    /// <summary>Where the eight output positions of a group read their first tap in the band.</summary>
    readonly ref struct GroupStarts
    {
        public readonly ref float A0, A1, A2, A3, A4, A5, A6, A7;

        /// <summary>The positions at <paramref name="positions"/> (float indexes, <paramref name="shift"/> before the band's start).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public GroupStarts(ref float band, ref int positions, int shift)
        {
            A0 = ref Unsafe.Add(ref band, positions - shift);
            A1 = ref Unsafe.Add(ref band, Unsafe.Add(ref positions, 1) - shift);
            A2 = ref Unsafe.Add(ref band, Unsafe.Add(ref positions, 2) - shift);
            A3 = ref Unsafe.Add(ref band, Unsafe.Add(ref positions, 3) - shift);
            A4 = ref Unsafe.Add(ref band, Unsafe.Add(ref positions, 4) - shift);
            A5 = ref Unsafe.Add(ref band, Unsafe.Add(ref positions, 5) - shift);
            A6 = ref Unsafe.Add(ref band, Unsafe.Add(ref positions, 6) - shift);
            A7 = ref Unsafe.Add(ref band, Unsafe.Add(ref positions, 7) - shift);
        }
    }

    /// <summary>sum + the three taps of one kernel row (<paramref name="row"/> floats from <paramref name="at"/>, columns 16 floats apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> KernelRow(ref float at, nuint row, Vector512<float> left, Vector512<float> middle, Vector512<float> right, Vector512<float> sum)
    {
        sum = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, row), left, sum);
        sum = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, row + Lanes), middle, sum);
        return Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, row + 2 * Lanes), right, sum);
    }

    /// <summary>
    /// <see cref="ComputeOutputs"/> for fewer than <see cref="Group"/> positions, four at a time: a short last four
    /// repeats its last position and stores only its own.
    /// </summary>
    static void ComputeFewOutputs(ref float source, ref float weights, ref int offsets, ref int position, int count, int taps, int shift,
        in Requantizer requantize, in BlockTerms terms, Span<byte> packed)
    {
        Span<byte> four = stackalloc byte[4 * Lanes];
        int last = count - 1;
        for (int p = 0; p < count; p += 4)
        {
            var s0 = ComputeOne(ref Unsafe.Add(ref source, Unsafe.Add(ref position, p) - shift), ref weights, ref offsets, taps, terms.Start);
            var s1 = ComputeOne(ref Unsafe.Add(ref source, Unsafe.Add(ref position, Math.Min(p + 1, last)) - shift), ref weights, ref offsets, taps, terms.Start);
            var s2 = ComputeOne(ref Unsafe.Add(ref source, Unsafe.Add(ref position, Math.Min(p + 2, last)) - shift), ref weights, ref offsets, taps, terms.Start);
            var s3 = ComputeOne(ref Unsafe.Add(ref source, Unsafe.Add(ref position, Math.Min(p + 3, last)) - shift), ref weights, ref offsets, taps, terms.Start);
            requantize.Four(s0, s1, s2, s3, terms).StoreUnsafe(ref MemoryMarshal.GetReference(four));
            four.Slice(0, Math.Min(4, count - p) * Lanes).CopyTo(packed.Slice(p * Lanes));
        }
    }

    /// <summary>One output position's sum over the taps (at <paramref name="at"/> in the band) from <paramref name="start"/>, in two chains.</summary>
    static Vector512<float> ComputeOne(ref float at, ref float weights, ref int offsets, int taps, Vector512<float> start)
    {
        Vector512<float> even = start, odd = default;
        int t = 0;
        for (; t + 1 < taps; t += 2)
        {
            even = Tap(ref at, (nuint)Unsafe.Add(ref offsets, t), Vector512.LoadUnsafe(ref weights, (nuint)(t * Lanes)), even);
            odd = Tap(ref at, (nuint)Unsafe.Add(ref offsets, t + 1), Vector512.LoadUnsafe(ref weights, (nuint)((t + 1) * Lanes)), odd);
        }
        if (t < taps) even = Tap(ref at, (nuint)Unsafe.Add(ref offsets, t), Vector512.LoadUnsafe(ref weights, (nuint)(t * Lanes)), even);
        return even + odd;
    }

    /// <summary>sum + plane[at + offset]·w, one fused multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Tap(ref float at, nuint offset, Vector512<float> w, Vector512<float> sum) =>
        Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, offset), w, sum);

    /// <summary>Channels [first, first + block) of one image's outputs (at <paramref name="start"/> in <paramref name="y"/>), from the interleaved bytes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void WriteOutputs(ReadOnlySpan<byte> packed, Span<byte> y, int start, int size, int block)
    {
        if (size < Lanes)
        {
            for (int k = 0; k < block; k++)
                for (int q = 0; q < size; q++) y[start + k * size + q] = packed[q * Lanes + k];
            return;
        }
        ref byte source = ref MemoryMarshal.GetReference(packed);
        ref byte destination = ref MemoryMarshal.GetReference(y);
        for (int q0 = 0; ; q0 += Lanes)
        {
            if (q0 > size - Lanes) q0 = size - Lanes;
            var r0 = Vector512.LoadUnsafe(ref source, (nuint)(q0 * Lanes));
            var r1 = Vector512.LoadUnsafe(ref source, (nuint)(q0 * Lanes + 64));
            var r2 = Vector512.LoadUnsafe(ref source, (nuint)(q0 * Lanes + 128));
            var r3 = Vector512.LoadUnsafe(ref source, (nuint)(q0 * Lanes + 192));
            Transpose(ref r0, ref r1, ref r2, ref r3);
            ref byte at = ref Unsafe.Add(ref destination, start + q0);
            StoreRows(r0, ref at, size, 0, block);
            StoreRows(r1, ref at, size, 4, block);
            StoreRows(r2, ref at, size, 8, block);
            StoreRows(r3, ref at, size, 12, block);
            if (q0 == size - Lanes) break;
        }
    }

    /// <summary>The four 16-byte rows of <paramref name="quad"/> to channels <paramref name="firstRow"/>… (pitch <paramref name="size"/>), those below <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRows(Vector512<byte> quad, ref byte at, int size, int firstRow, int block)
    {
        if (firstRow < block) quad.GetLower().GetLower().StoreUnsafe(ref at, (nuint)(firstRow * size));
        if (firstRow + 1 < block) quad.GetLower().GetUpper().StoreUnsafe(ref at, (nuint)((firstRow + 1) * size));
        if (firstRow + 2 < block) quad.GetUpper().GetLower().StoreUnsafe(ref at, (nuint)((firstRow + 2) * size));
        if (firstRow + 3 < block) quad.GetUpper().GetUpper().StoreUnsafe(ref at, (nuint)((firstRow + 3) * size));
    }

    /// <summary>
    /// Transposes the 16×16 bytes held as rows 0–3, 4–7, 8–11, 12–15 (16 bytes each) in <paramref name="r0"/>…<paramref name="r3"/>.
    /// Round one pairs r0 with r1 (and r2 with r3) into columns 0–7 and 8–15 of their eight rows; round two pairs the
    /// halves into four transposed rows each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose(ref Vector512<byte> r0, ref Vector512<byte> r1, ref Vector512<byte> r2, ref Vector512<byte> r3)
    {
        var low01 = Avx512Vbmi.PermuteVar64x8x2(r0, s_pairLow, r1);
        var high01 = Avx512Vbmi.PermuteVar64x8x2(r0, s_pairHigh, r1);
        var low23 = Avx512Vbmi.PermuteVar64x8x2(r2, s_pairLow, r3);
        var high23 = Avx512Vbmi.PermuteVar64x8x2(r2, s_pairHigh, r3);
        r0 = Avx512Vbmi.PermuteVar64x8x2(low01, s_quadFirst, low23);
        r1 = Avx512Vbmi.PermuteVar64x8x2(low01, s_quadSecond, low23);
        r2 = Avx512Vbmi.PermuteVar64x8x2(high01, s_quadFirst, high23);
        r3 = Avx512Vbmi.PermuteVar64x8x2(high01, s_quadSecond, high23);
    }

    /// <summary>Round one: byte 8c + r of the result is row r, column <paramref name="column"/> + c of the two sources' eight rows (c, r &lt; 8).</summary>
    static Vector512<byte> PairIndices(int column)
    {
        Span<byte> indices = stackalloc byte[64];
        for (int c = 0; c < 8; c++)
            for (int r = 0; r < 8; r++) indices[8 * c + r] = (byte)(r < 4 ? 16 * r + column + c : 64 + 16 * (r - 4) + column + c);
        return Vector512.Create<byte>(indices);
    }

    /// <summary>Round two: byte 16c + r of the result is column <paramref name="column"/> + c, row r of two round-one results (c &lt; 4, r &lt; 16).</summary>
    static Vector512<byte> QuadIndices(int column)
    {
        Span<byte> indices = stackalloc byte[64];
        for (int c = 0; c < 4; c++)
            for (int r = 0; r < 16; r++) indices[16 * c + r] = (byte)(r < 8 ? 8 * (column + c) + r : 64 + 8 * (column + c) + r - 8);
        return Vector512.Create<byte>(indices);
    }

    /// <summary>
    /// One block's requantisation terms: bias and multiplier vectors, whether the bias starts the sums (<see cref="Start"/>)
    /// and whether the products need clamping before the conversion to int32.
    /// </summary>
    readonly struct BlockTerms
    {
        /// <summary>2²⁴: every integer of smaller magnitude is a float.</summary>
        const float ExactLimit = 1 << 24;

        /// <summary>2³⁰: products below it convert to int32 without overflow, with room for the rounding of the bound itself.</summary>
        const float ConversionLimit = 1 << 30;

        public readonly Vector512<float> Bias, Scale, Start;

        /// <summary>Whether the bias is added after the taps (it could not start them exactly).</summary>
        public readonly bool AddBias;

        /// <summary>Whether a product may reach int32's range, so it is clamped to the output range first.</summary>
        public readonly bool Clamp;

        /// <summary>
        /// |x − zx| ≤ 255, so every partial sum of a channel lies within |bias| + 255·Σ|w − zw| (<paramref name="weightSums"/>).
        /// Below 2²⁴ every partial sum from the bias is an exact integer, so starting the sums at the bias gives the
        /// float sum + bias of <see cref="QuantizedDepthwise"/>'s epilogue (the exact integer, rounded once) and saves
        /// an addition per output. That bound times |multiplier| bounds the product.
        /// </summary>
        public BlockTerms(Vector512<float> bias, Vector512<float> scale, Vector512<float> weightSums)
        {
            var reach = Vector512.Abs(bias) + weightSums * 255f;
            AddBias = !Vector512.LessThanAll(reach, Vector512.Create(ExactLimit));
            Start = AddBias ? Vector512<float>.Zero : bias;
            Bias = bias;
            Scale = scale;
            Clamp = !Vector512.LessThanAll(reach * Vector512.Abs(scale), Vector512.Create(ConversionLimit));
        }
    }

    /// <summary>
    /// The grid epilogue of <see cref="QuantizedDepthwise"/> on 16 channels × four positions: bias (unless it started the
    /// sums), float multiply, round half to even, zero point, saturate to bytes; the same bytes as its clamp, convert, add
    /// and narrow. The saturating packs (int32 → int16, + zero point, int16 → bytes) clamp exactly as the float clamp
    /// did, since the rounding is monotonic and the bounds are integers; the float clamp stays only where a product could
    /// overflow the conversion (<see cref="BlockTerms.Clamp"/>). Narrowing four positions at once takes three packs and a
    /// permutation where one <c>vpmovdb</c> per position cost more than the multiply-adds it followed.
    /// </summary>
    readonly struct Requantizer
    {
        readonly Vector512<float> _low, _high;
        readonly Vector512<short> _zero;
        readonly bool _signed;

        public Requantizer(int zeroPoint, bool signed)
        {
            _low = Vector512.Create((float)((signed ? -128 : 0) - zeroPoint));
            _high = Vector512.Create((float)((signed ? 127 : 255) - zeroPoint));
            _zero = Vector512.Create((short)zeroPoint);
            _signed = signed;
        }

        /// <summary>The 16 output bytes of each of four positions' sums, position after position.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<byte> Four(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, in BlockTerms terms)
        {
            var words01 = Avx512BW.PackSignedSaturate(Round(s0, terms), Round(s1, terms));
            var words23 = Avx512BW.PackSignedSaturate(Round(s2, terms), Round(s3, terms));
            words01 = Avx512BW.AddSaturate(words01, _zero);
            words23 = Avx512BW.AddSaturate(words23, _zero);
            var bytes = _signed ? Avx512BW.PackSignedSaturate(words01, words23).AsByte() : Avx512BW.PackUnsignedSaturate(words01, words23);
            // After the packs, 32-bit group 4L + j holds channels 4L…4L+3 of position j; the stores want it at 4j + L.
            // (A constant, not a static field: a static's initialisation check in the loop made the JIT spill the sums.)
            var positionOrder = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
            return Avx512F.PermuteVar16x32(bytes.AsInt32(), positionOrder).AsByte();
        }

        /// <summary>round_half_even((sum + bias) · multiplier), clamped first where it could overflow int32.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Vector512<int> Round(Vector512<float> sum, in BlockTerms terms)
        {
            var product = (terms.AddBias ? sum + terms.Bias : sum) * terms.Scale;
            if (terms.Clamp) product = Avx512F.Min(Avx512F.Max(product, _low), _high);
            return Avx512F.ConvertToVector512Int32(product);
        }
    }
}
