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
/// that vector times the tap's 16 per-channel weights (one fused multiply-add per tap, four positions at a time), and
/// strides and dilations only change which positions a tap reads: no phase planes are built. The 16 sums are
/// requantised together with per-channel bias and multiplier vectors, exactly as <see cref="QuantizedDepthwise"/>'s
/// grid epilogue does (same float sums, exact below 2²⁴; same operations and rounding), into a channel-interleaved byte
/// buffer that is transposed back to NCHW 16 positions at a time.
/// </remarks>
static class ChannelBlockDepthwise
{
    const int Lanes = 16;

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

    /// <summary>Largest bias magnitude added in float (see <see cref="Requantizer.Apply"/>): 2²⁴, below which every integer is a float.</summary>
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
    /// y = the requantised depthwise convolution (arguments as <see cref="QuantizedDepthwise.Convolve2DRequantized{TX, TW, TOut}"/>,
    /// already checked), when <see cref="Applies{TW, TOut}"/>.
    /// </summary>
    public static void Convolve<TX, TW, TOut>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TW> weights, ReadOnlySpan<TW> wZeroPoint,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TOut> y, Span<int> scratch, int batch, int channels, Window window)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TOut : unmanaged, IBinaryInteger<TOut>
    {
        int taps = window.KernelSize, inputSize = window.InputSize, outputSize = window.OutputSize, pitch = Pitch(window);
        int rows = Rows(window), bandRows = BandRows(window), span = Span(window), rowStride = window.Stride(0), outputRows = window.Output(0);
        var layout = new ScratchLayout(window);
        Span<float> tapWeights = MemoryMarshal.Cast<int, float>(scratch.Slice(layout.Weights, taps * Lanes));
        Span<int> tapOffsets = scratch.Slice(layout.Offsets, taps);
        Span<int> destinations = scratch.Slice(layout.Destinations, inputSize);
        Span<float> plane = MemoryMarshal.Cast<int, float>(scratch.Slice(layout.Plane, layout.PlaneLength));
        Span<byte> packed = MemoryMarshal.AsBytes(scratch.Slice(layout.Outputs, layout.OutputsLength));
        for (int ky = 0; ky < window.Kernel(0); ky++)
            for (int kx = 0; kx < window.Kernel(1); kx++)
                tapOffsets[ky * window.Kernel(1) + kx] = (ky * window.Dilation(0) * pitch + kx * window.Dilation(1)) * Lanes;
        MapDestinations(window, pitch, destinations);
        ClearPaddingColumns(window, pitch, bandRows, plane);
        int zeroX = xZeroPoint.IsEmpty ? 0 : int.CreateTruncating(xZeroPoint[0]);
        bool signedX = typeof(TX) == typeof(sbyte), signedW = typeof(TW) == typeof(sbyte);
        var requantize = new Requantizer(yZeroPoint, typeof(TOut) == typeof(sbyte));
        ReadOnlySpan<byte> input = MemoryMarshal.AsBytes(x), weightBytes = MemoryMarshal.AsBytes(weights);
        Span<byte> output = MemoryMarshal.AsBytes(y);
        Span<float> biasLanes = stackalloc float[Lanes];
        Span<float> scaleLanes = stackalloc float[Lanes];
        Span<int> zeroLanes = stackalloc int[Lanes];
        for (int first = 0; first < channels; first += Lanes)
        {
            int block = Math.Min(Lanes, channels - first);
            // Channels past the last are given weight 0, bias 0 and multiplier 0: their lanes compute 0 and are dropped.
            biasLanes.Clear();
            scaleLanes.Clear();
            zeroLanes.Clear();
            for (int k = 0; k < block; k++)
            {
                int c = first + k;
                zeroLanes[k] = wZeroPoint.IsEmpty ? 0 : int.CreateTruncating(wZeroPoint[wZeroPoint.Length == 1 ? 0 : c]);
                biasLanes[k] = bias.IsEmpty ? 0 : bias[c];
                scaleLanes[k] = multipliers[multipliers.Length == 1 ? 0 : c];
            }
            InterleaveWeights(weightBytes.Slice(first * taps, block * taps), block, taps, signedW, zeroLanes, tapWeights);
            var biasVector = Vector512.Create<float>(biasLanes);
            var scaleVector = Vector512.Create<float>(scaleLanes);
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
                        FillRows(input, start, filled, target, bandTop, block, window, pitch, destinations, signedX, zeroX, plane);
                        filled = target;
                    }
                    int count = Math.Min(outputRows - oy, (filled - span - top) / rowStride + 1);
                    Span<float> band = plane.Slice((top - bandTop) * pitch * Lanes);
                    Span<byte> outputs = packed.Slice(oy * window.Output(1) * Lanes);
                    if (taps == 9) ComputeOutputsNineTaps(band, tapWeights, tapOffsets, window, count, pitch, requantize, biasVector, scaleVector, outputs);
                    else ComputeOutputs(band, tapWeights, tapOffsets, window, count, pitch, requantize, biasVector, scaleVector, outputs);
                    oy += count;
                }
                WriteOutputs(packed, output, (n * channels + first) * outputSize, outputSize, block);
            }
        }
    }

    /// <summary>Where the parts of the scratch start (ints), in the order <see cref="ScratchLength"/> counts them.</summary>
    readonly struct ScratchLayout
    {
        public readonly int Weights, Offsets, Destinations, Plane, PlaneLength, Outputs, OutputsLength, Length;

        public ScratchLayout(Window window)
        {
            int taps = window.KernelSize;
            Weights = 0;
            Offsets = taps * Lanes;
            Destinations = Offsets + taps;
            Plane = Destinations + window.InputSize;
            PlaneLength = BandRows(window) * Pitch(window) * Lanes;
            Outputs = Plane + PlaneLength;
            OutputsLength = (window.OutputSize + Lanes - 1) / Lanes * Lanes * Lanes / 4;
            Length = Outputs + OutputsLength;
        }
    }

    /// <summary>
    /// destinations[iy·W + ix] = the float index of image position (iy, ix) in the whole padded plane of pitch
    /// <paramref name="pitch"/>; the fill subtracts the index of the band's first row.
    /// </summary>
    static void MapDestinations(Window window, int pitch, Span<int> destinations)
    {
        int height = window.Input(0), width = window.Input(1), padTop = window.PadBegin(0), padLeft = window.PadBegin(1);
        for (int iy = 0; iy < height; iy++)
            for (int ix = 0; ix < width; ix++)
                destinations[iy * width + ix] = ((iy + padTop) * pitch + ix + padLeft) * Lanes;
    }

    /// <summary>
    /// Zeroes the padding columns beside the image in every row of the band, which no fill writes (padding rows are
    /// cleared as the band reaches them, see <see cref="FillRows"/>; moved rows carry their zeros). Clearing the whole
    /// plane instead cost as much as a fifth of a 112×112 layer.
    /// </summary>
    static void ClearPaddingColumns(Window window, int pitch, int bandRows, Span<float> plane)
    {
        int padLeft = window.PadBegin(1), imageEnd = padLeft + window.Input(1);
        for (int r = 0; r < bandRows; r++)
        {
            Span<float> row = plane.Slice(r * pitch * Lanes, pitch * Lanes);
            row.Slice(0, padLeft * Lanes).Clear();
            row.Slice(imageEnd * Lanes).Clear();
        }
    }

    /// <summary>
    /// Padded rows [<paramref name="from"/>, <paramref name="to"/>) into the band whose first row is padded row
    /// <paramref name="bandTop"/>, for one image's block of channels (at <paramref name="start"/> in <paramref name="x"/>):
    /// padding rows zeroed, image rows transposed in one run.
    /// </summary>
    static void FillRows(ReadOnlySpan<byte> x, int start, int from, int to, int bandTop, int block, Window window, int pitch,
        ReadOnlySpan<int> destinations, bool signed, int zeroX, Span<float> plane)
    {
        int padTop = window.PadBegin(0), height = window.Input(0), width = window.Input(1);
        for (int r = from; r < to; r++)
            if (r < padTop || r >= padTop + height) plane.Slice((r - bandTop) * pitch * Lanes, pitch * Lanes).Clear();
        int firstRow = Math.Max(from - padTop, 0), endRow = Math.Min(to - padTop, height);
        if (endRow > firstRow)
            FillPlane(x, start + firstRow * width, window.InputSize, (endRow - firstRow) * width, block, destinations.Slice(firstRow * width),
                bandTop * pitch * Lanes, signed, zeroX, plane);
    }

    /// <summary>
    /// tapWeights[t·16 + k] = w[k, t] − zw[k] as floats for the block's channels (0 past <paramref name="block"/>). With at
    /// most 16 taps the block's weights (16 rows of <paramref name="taps"/> bytes) are transposed as one 16×16 byte
    /// square; larger kernels go value by value.
    /// </summary>
    static void InterleaveWeights(ReadOnlySpan<byte> weights, int block, int taps, bool signed, ReadOnlySpan<int> zeroPoints, Span<float> tapWeights)
    {
        var zero = Vector512.Create<int>(zeroPoints);
        if (taps > Lanes)
        {
            tapWeights.Clear();
            for (int k = 0; k < block; k++)
                for (int t = 0; t < taps; t++) tapWeights[t * Lanes + k] = (signed ? (sbyte)weights[k * taps + t] : weights[k * taps + t]) - zeroPoints[k];
            return;
        }
        // Row k is read as 16 bytes from k·taps, so the square holds the block's bytes followed by zeros.
        Span<byte> square = stackalloc byte[Lanes * Lanes];
        square.Clear();
        weights.CopyTo(square);
        ref byte rows = ref MemoryMarshal.GetReference(square);
        var r0 = LoadRows(ref rows, 0, taps, 0, block);
        var r1 = LoadRows(ref rows, 0, taps, 4, block);
        var r2 = LoadRows(ref rows, 0, taps, 8, block);
        var r3 = LoadRows(ref rows, 0, taps, 12, block);
        Transpose(ref r0, ref r1, ref r2, ref r3);
        r0.StoreUnsafe(ref rows);
        r1.StoreUnsafe(ref rows, 64);
        r2.StoreUnsafe(ref rows, 128);
        r3.StoreUnsafe(ref rows, 192);
        for (int t = 0; t < taps; t++)
        {
            var values = Vector128.LoadUnsafe(ref rows, (nuint)(t * Lanes));
            var widened = signed ? Avx512F.ConvertToVector512Int32(values.AsSByte()) : Avx512F.ConvertToVector512Int32(values);
            // Lanes past the block read 0 with zero point 0: weight 0.
            Vector512.ConvertToSingle(widened - zero).StoreUnsafe(ref MemoryMarshal.GetReference(tapWeights), (nuint)(t * Lanes));
        }
    }

    /// <summary>
    /// <paramref name="count"/> consecutive image positions of channels [first, first + block) (at <paramref name="start"/>
    /// in <paramref name="x"/>, channel planes <paramref name="channelPitch"/> bytes apart) into the band, whose first float
    /// is float <paramref name="origin"/> of the whole plane: plane[destinations[p] − origin + k] = x[k, p] − zx. Lanes
    /// past <paramref name="block"/> get −zx (their weights are 0).
    /// </summary>
    static void FillPlane(ReadOnlySpan<byte> x, int start, int channelPitch, int count, int block, ReadOnlySpan<int> destinations, int origin,
        bool signed, int zeroX, Span<float> plane)
    {
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
            WidenQuad(r0, ref at, signed, shift, origin, ref target);
            WidenQuad(r1, ref Unsafe.Add(ref at, 4), signed, shift, origin, ref target);
            WidenQuad(r2, ref Unsafe.Add(ref at, 8), signed, shift, origin, ref target);
            WidenQuad(r3, ref Unsafe.Add(ref at, 12), signed, shift, origin, ref target);
            if (p0 == count - Lanes) break;
        }
    }

    /// <summary>16 bytes at <paramref name="at"/> of the four channel planes <paramref name="firstRow"/>… (pitch <paramref name="size"/>), zeros past <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<byte> LoadRows(ref byte source, int at, int size, int firstRow, int block)
    {
        return Vector512.Create(Vector256.Create(LoadRow(ref source, at, size, firstRow, block), LoadRow(ref source, at, size, firstRow + 1, block)),
                                Vector256.Create(LoadRow(ref source, at, size, firstRow + 2, block), LoadRow(ref source, at, size, firstRow + 3, block)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<byte> LoadRow(ref byte source, int at, int size, int row, int block) =>
        row < block ? Vector128.LoadUnsafe(ref source, (nuint)(at + row * size)) : Vector128<byte>.Zero;

    /// <summary>Four consecutive image positions' 16 channel bytes (one per 128-bit lane), widened, centred and stored at their destinations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WidenQuad(Vector512<byte> quad, ref int destinations, bool signed, Vector512<int> shift, int origin, ref float plane)
    {
        WidenPosition(quad.GetLower().GetLower(), destinations - origin, signed, shift, ref plane);
        WidenPosition(quad.GetLower().GetUpper(), Unsafe.Add(ref destinations, 1) - origin, signed, shift, ref plane);
        WidenPosition(quad.GetUpper().GetLower(), Unsafe.Add(ref destinations, 2) - origin, signed, shift, ref plane);
        WidenPosition(quad.GetUpper().GetUpper(), Unsafe.Add(ref destinations, 3) - origin, signed, shift, ref plane);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WidenPosition(Vector128<byte> channels, int destination, bool signed, Vector512<int> shift, ref float plane)
    {
        var values = signed ? Avx512F.ConvertToVector512Int32(channels.AsSByte()) : Avx512F.ConvertToVector512Int32(channels);
        Vector512.ConvertToSingle(values - shift).StoreUnsafe(ref plane, (nuint)destination);
    }

    /// <summary>
    /// packed[(oy·OW + ox)·16 + k] = the requantised output of channel k at (oy, ox) for the first
    /// <paramref name="outputRows"/> output rows, the first reading the band from its start: the taps summed in float
    /// (exact), four output positions per pass over the taps so each weight load serves four multiply-adds.
    /// </summary>
    static void ComputeOutputs(ReadOnlySpan<float> plane, ReadOnlySpan<float> tapWeights, ReadOnlySpan<int> tapOffsets, Window window, int outputRows, int pitch,
        in Requantizer requantize, Vector512<float> bias, Vector512<float> scale, Span<byte> packed)
    {
        int outputWidth = window.Output(1), taps = tapOffsets.Length;
        int rowStep = window.Stride(0) * pitch * Lanes, step = window.Stride(1) * Lanes;
        ref float source = ref MemoryMarshal.GetReference(plane);
        ref float weights = ref MemoryMarshal.GetReference(tapWeights);
        ref int offsets = ref MemoryMarshal.GetReference(tapOffsets);
        ref byte destination = ref MemoryMarshal.GetReference(packed);
        for (int oy = 0; oy < outputRows; oy++)
        {
            ref float row = ref Unsafe.Add(ref source, oy * rowStep);
            ref byte outputRow = ref Unsafe.Add(ref destination, oy * outputWidth * Lanes);
            int ox = 0;
            for (; ox + 4 <= outputWidth; ox += 4)
            {
                ref float at = ref Unsafe.Add(ref row, ox * step);
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int t = 0; t < taps; t++)
                {
                    var w = Vector512.LoadUnsafe(ref weights, (nuint)(t * Lanes));
                    ref float tap = ref Unsafe.Add(ref at, Unsafe.Add(ref offsets, t));
                    s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref tap), w, s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref tap, (nuint)step), w, s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref tap, (nuint)(2 * step)), w, s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref tap, (nuint)(3 * step)), w, s3);
                }
                requantize.Apply(s0, bias, scale).StoreUnsafe(ref outputRow, (nuint)(ox * Lanes));
                requantize.Apply(s1, bias, scale).StoreUnsafe(ref outputRow, (nuint)((ox + 1) * Lanes));
                requantize.Apply(s2, bias, scale).StoreUnsafe(ref outputRow, (nuint)((ox + 2) * Lanes));
                requantize.Apply(s3, bias, scale).StoreUnsafe(ref outputRow, (nuint)((ox + 3) * Lanes));
            }
            for (; ox < outputWidth; ox++)
            {
                ref float at = ref Unsafe.Add(ref row, ox * step);
                // Two chains halve the wait on the multiply-add latency; float sums of integers below 2²⁴ are exact in any order.
                Vector512<float> even = default, odd = default;
                int t = 0;
                for (; t + 1 < taps; t += 2)
                {
                    even = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref at, Unsafe.Add(ref offsets, t))), Vector512.LoadUnsafe(ref weights, (nuint)(t * Lanes)), even);
                    odd = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref at, Unsafe.Add(ref offsets, t + 1))), Vector512.LoadUnsafe(ref weights, (nuint)((t + 1) * Lanes)), odd);
                }
                if (t < taps) even = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref Unsafe.Add(ref at, Unsafe.Add(ref offsets, t))), Vector512.LoadUnsafe(ref weights, (nuint)(t * Lanes)), even);
                requantize.Apply(even + odd, bias, scale).StoreUnsafe(ref outputRow, (nuint)(ox * Lanes));
            }
        }
    }

    /// <summary>
    /// <see cref="ComputeOutputs"/> for nine taps (3×3, the depthwise kernel of MobileNet and DS-CNN): the nine weight
    /// vectors stay in registers, so every multiply-add takes one load, four positions at a time, then one by one.
    /// </summary>
    static void ComputeOutputsNineTaps(ReadOnlySpan<float> plane, ReadOnlySpan<float> tapWeights, ReadOnlySpan<int> tapOffsets, Window window, int outputRows, int pitch,
        in Requantizer requantize, Vector512<float> bias, Vector512<float> scale, Span<byte> packed)
    {
        int outputWidth = window.Output(1);
        int rowStep = window.Stride(0) * pitch * Lanes, step = window.Stride(1) * Lanes;
        ref float source = ref MemoryMarshal.GetReference(plane);
        ref float weights = ref MemoryMarshal.GetReference(tapWeights);
        ref byte destination = ref MemoryMarshal.GetReference(packed);
        var w0 = Vector512.LoadUnsafe(ref weights, 0 * Lanes);
        var w1 = Vector512.LoadUnsafe(ref weights, 1 * Lanes);
        var w2 = Vector512.LoadUnsafe(ref weights, 2 * Lanes);
        var w3 = Vector512.LoadUnsafe(ref weights, 3 * Lanes);
        var w4 = Vector512.LoadUnsafe(ref weights, 4 * Lanes);
        var w5 = Vector512.LoadUnsafe(ref weights, 5 * Lanes);
        var w6 = Vector512.LoadUnsafe(ref weights, 6 * Lanes);
        var w7 = Vector512.LoadUnsafe(ref weights, 7 * Lanes);
        var w8 = Vector512.LoadUnsafe(ref weights, 8 * Lanes);
        nuint o1 = (nuint)tapOffsets[1], o2 = (nuint)tapOffsets[2], o3 = (nuint)tapOffsets[3], o4 = (nuint)tapOffsets[4];
        nuint o5 = (nuint)tapOffsets[5], o6 = (nuint)tapOffsets[6], o7 = (nuint)tapOffsets[7], o8 = (nuint)tapOffsets[8];
        for (int oy = 0; oy < outputRows; oy++)
        {
            ref float row = ref Unsafe.Add(ref source, oy * rowStep);
            ref byte outputRow = ref Unsafe.Add(ref destination, oy * outputWidth * Lanes);
            int ox = 0;
            for (; ox + 4 <= outputWidth; ox += 4)
            {
                ref float a = ref Unsafe.Add(ref row, ox * step);
                ref float b = ref Unsafe.Add(ref a, step);
                ref float c = ref Unsafe.Add(ref b, step);
                ref float d = ref Unsafe.Add(ref c, step);
                var s0 = Vector512.LoadUnsafe(ref a) * w0;
                var s1 = Vector512.LoadUnsafe(ref b) * w0;
                var s2 = Vector512.LoadUnsafe(ref c) * w0;
                var s3 = Vector512.LoadUnsafe(ref d) * w0;
                s0 = Tap(ref a, o1, w1, s0); s1 = Tap(ref b, o1, w1, s1); s2 = Tap(ref c, o1, w1, s2); s3 = Tap(ref d, o1, w1, s3);
                s0 = Tap(ref a, o2, w2, s0); s1 = Tap(ref b, o2, w2, s1); s2 = Tap(ref c, o2, w2, s2); s3 = Tap(ref d, o2, w2, s3);
                s0 = Tap(ref a, o3, w3, s0); s1 = Tap(ref b, o3, w3, s1); s2 = Tap(ref c, o3, w3, s2); s3 = Tap(ref d, o3, w3, s3);
                s0 = Tap(ref a, o4, w4, s0); s1 = Tap(ref b, o4, w4, s1); s2 = Tap(ref c, o4, w4, s2); s3 = Tap(ref d, o4, w4, s3);
                s0 = Tap(ref a, o5, w5, s0); s1 = Tap(ref b, o5, w5, s1); s2 = Tap(ref c, o5, w5, s2); s3 = Tap(ref d, o5, w5, s3);
                s0 = Tap(ref a, o6, w6, s0); s1 = Tap(ref b, o6, w6, s1); s2 = Tap(ref c, o6, w6, s2); s3 = Tap(ref d, o6, w6, s3);
                s0 = Tap(ref a, o7, w7, s0); s1 = Tap(ref b, o7, w7, s1); s2 = Tap(ref c, o7, w7, s2); s3 = Tap(ref d, o7, w7, s3);
                s0 = Tap(ref a, o8, w8, s0); s1 = Tap(ref b, o8, w8, s1); s2 = Tap(ref c, o8, w8, s2); s3 = Tap(ref d, o8, w8, s3);
                requantize.Apply(s0, bias, scale).StoreUnsafe(ref outputRow, (nuint)(ox * Lanes));
                requantize.Apply(s1, bias, scale).StoreUnsafe(ref outputRow, (nuint)((ox + 1) * Lanes));
                requantize.Apply(s2, bias, scale).StoreUnsafe(ref outputRow, (nuint)((ox + 2) * Lanes));
                requantize.Apply(s3, bias, scale).StoreUnsafe(ref outputRow, (nuint)((ox + 3) * Lanes));
            }
            for (; ox < outputWidth; ox++)
            {
                ref float a = ref Unsafe.Add(ref row, ox * step);
                // Three chains of three taps: float sums of integers below 2²⁴ are exact in any order.
                var s0 = Vector512.LoadUnsafe(ref a) * w0;
                var s1 = Vector512.LoadUnsafe(ref a, o1) * w1;
                var s2 = Vector512.LoadUnsafe(ref a, o2) * w2;
                s0 = Tap(ref a, o3, w3, s0); s1 = Tap(ref a, o4, w4, s1); s2 = Tap(ref a, o5, w5, s2);
                s0 = Tap(ref a, o6, w6, s0); s1 = Tap(ref a, o7, w7, s1); s2 = Tap(ref a, o8, w8, s2);
                requantize.Apply(s0 + s1 + s2, bias, scale).StoreUnsafe(ref outputRow, (nuint)(ox * Lanes));
            }
        }
    }

    /// <summary>sum + plane[at + offset]·w, one fused multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Tap(ref float at, nuint offset, Vector512<float> w, Vector512<float> sum) =>
        Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, offset), w, sum);

    /// <summary>Channels [first, first + block) of one image's outputs (at <paramref name="start"/> in <paramref name="y"/>), from the interleaved bytes.</summary>
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
    /// The grid epilogue of <see cref="QuantizedDepthwise"/> on 16 channels: int32 bias add, float multiply, clamp, round
    /// half to even, zero point, narrow to bytes. Same operations in the same order, so the same bytes.
    /// </summary>
    readonly struct Requantizer
    {
        readonly Vector512<float> _low, _high;
        readonly Vector512<int> _zero;
        readonly bool _signed;

        public Requantizer(int zeroPoint, bool signed)
        {
            _low = Vector512.Create((float)((signed ? -128 : 0) - zeroPoint));
            _high = Vector512.Create((float)((signed ? 127 : 255) - zeroPoint));
            _zero = Vector512.Create(zeroPoint);
            _signed = signed;
        }

        /// <summary>
        /// The bias is added in float: sum and bias are integers of magnitude ≤ 2²⁴ (<see cref="Applies{TW, TOut}"/> checks the
        /// bias), so the float addition rounds their exact sum once, as converting the int32 sum does.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<byte> Apply(Vector512<float> sum, Vector512<float> bias, Vector512<float> scale)
        {
            var product = (sum + bias) * scale;
            var rounded = Avx512F.ConvertToVector512Int32(Avx512F.Min(Avx512F.Max(product, _low), _high)) + _zero;
            return _signed ? Avx512F.ConvertToVector128SByte(rounded).AsByte() : Avx512F.ConvertToVector128Byte(rounded);
        }
    }
}
