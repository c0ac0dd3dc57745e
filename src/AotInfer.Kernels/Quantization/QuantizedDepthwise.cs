using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// Depthwise 2-D integer convolution (one input and one output channel per group) with int32 results:
/// acc[n, c, oy, ox] = Σ taps (w[c, ky, kx] − zw[c])·(x[n, c, oy·sy + ky·dy − pt, ox·sx + kx·dx − pl] − zx).
/// </summary>
/// <remarks>
/// Each channel's image is first copied, centred on its zero point (x − zx as int32, padding 0), into sy·sx
/// <em>phase planes</em>: phase (py, px) holds the image rows py, py + sy, … and columns px, px + sx, …. A tap
/// (ky, kx) with ky·dy = qy·sy + py and kx·dx = qx·sx + px then reads phase (py, px) at (oy + qy, ox + qx), so on a
/// flat grid of pitch Wq (the phase width) every tap is one constant shift and the whole channel is one vectorised
/// loop of multiply-adds over all output rows at once, whatever the strides, dilations, pads or width (a 5-wide
/// image fills the vectors as well as a 112-wide one). The grid's extra columns (ox ≥ output width) are computed and
/// dropped when the rows are copied out.
/// <para>
/// The planes and weights hold the centred values as floats and the taps accumulate with float fused multiply-adds
/// (two per cycle, where int32 <c>vpmulld</c> is one and slower), yet the sums are exact: every product is an integer
/// of magnitude ≤ 255·255, so a sum of up to <see cref="ExactFloatTaps"/> of them stays below 2²⁴, where every integer
/// is a float. Kernels with more taps sum them in chunks of that many, each chunk converted and added in int32.
/// </para>
/// </remarks>
public static class QuantizedDepthwise
{
    /// <summary>Vector width (int32 lanes) every grid and plane is padded for, the widest tier's.</summary>
    const int Lanes = 16;

    /// <summary>
    /// Taps a float sum accumulates exactly: |w − zw|·|x − zx| ≤ 255² = 65025 and 258·65025 &lt; 2²⁴ = 16777216, below
    /// which every integer is a float, whatever the order of the additions.
    /// </summary>
    public const int ExactFloatTaps = 258;

    /// <summary>
    /// Whether a layer of this geometry (the packed window) is one the channel-block path of
    /// <see cref="Convolve2DRequantized{TX, TW, TOut}(ReadOnlySpan{TX}, ReadOnlySpan{TX}, ReadOnlySpan{TW}, ReadOnlySpan{TW}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, Span{TOut}, Span{int}, int, int, int[])"/> takes on AVX-512BW with VBMI (given byte outputs, finite multipliers
    /// and a bias within 2²⁴); the compiler mirrors it to name the path in <c>inspect</c>, and a test holds the two equal.
    /// </summary>
    public static bool ChannelBlockFits(int[] geometry) => ChannelBlockDepthwise.Fits(new Window(geometry));

    /// <summary>Ints of scratch <see cref="Convolve2D{TX, TW}"/> and <see cref="Convolve2DRequantized{TX, TW, TOut}(ReadOnlySpan{TX}, ReadOnlySpan{TX}, ReadOnlySpan{TW}, ReadOnlySpan{TW}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, Span{TOut}, Span{int}, int, int, int[])"/> need for a layer of this geometry (the packed window).</summary>
    public static int ScratchLength(int[] geometry)
    {
        var window = new Window(geometry);
        var shape = new PhaseShape(window);
        int phases = 2 * shape.Taps + shape.Phases * shape.PlaneLength + shape.GridLength;
        return ChannelBlockDepthwise.Fits(window) ? Math.Max(phases, ChannelBlockDepthwise.ScratchLength(window)) : phases;
    }

    /// <summary>
    /// acc[n, c, ·] for every image n of the batch and channel c (see the class remarks), ConvInteger. Empty zero points
    /// mean 0; <paramref name="wZeroPoint"/> holds one value or one per channel. <paramref name="scratch"/> holds
    /// <see cref="ScratchLength"/> ints.
    /// </summary>
    public static void Convolve2D<TX, TW>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TW> weights, ReadOnlySpan<TW> wZeroPoint,
        Span<int> acc, Span<int> scratch, int batch, int channels, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
        => Convolve<TX, TW, byte>(x, xZeroPoint, weights, wZeroPoint, new Epilogue(acc), Span<byte>.Empty, scratch, batch, channels, geometry);

    /// <summary>
    /// y[n, c, ·] = saturate(round_half_even((acc[n, c, ·] + bias[c]) · multipliers[c]) + yZeroPoint) (QLinearConv), the
    /// requantisation of <see cref="Requantization.ToInteger{TOut}"/> applied to each output row as it leaves the grid, so
    /// no int32 tensor is written and read back. An empty <paramref name="bias"/> means none; one multiplier means per
    /// tensor. The other arguments are those of <see cref="Convolve2D{TX, TW}"/>.
    /// </summary>
    public static void Convolve2DRequantized<TX, TW, TOut>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TW> weights, ReadOnlySpan<TW> wZeroPoint,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TOut> y, Span<int> scratch, int batch, int channels, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TOut : unmanaged, IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        CheckRequantization(bias, multipliers, channels);
        var window = new Window(geometry);
        if (ChannelBlockDepthwise.Applies<TW, TOut>(window, bias, multipliers))
        {
            CheckOperands<TX>(scratch, geometry);
            ChannelBlockDepthwise.Convolve(x, xZeroPoint, weights, wZeroPoint, null, bias, multipliers, yZeroPoint, y, scratch, batch, channels, window);
            return;
        }
        Convolve(x, xZeroPoint, weights, wZeroPoint, new Epilogue(bias, multipliers, yZeroPoint), y, scratch, batch, channels, geometry);
    }

    /// <summary>
    /// <see cref="Convolve2DRequantized{TX, TW, TOut}(ReadOnlySpan{TX}, ReadOnlySpan{TX}, ReadOnlySpan{TW}, ReadOnlySpan{TW}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, Span{TOut}, Span{int}, int, int, int[])"/>
    /// on constant weights packed once: the channel-block path reads their interleaved tap weights instead of building
    /// them on every call; the other paths read the weights and zero points they keep.
    /// </summary>
    public static void Convolve2DRequantized<TX, TW, TOut>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8DepthwiseWeights<TW> weights,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TOut> y, Span<int> scratch, int batch, int channels, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TOut : unmanaged, IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        ArgumentNullException.ThrowIfNull(weights);
        var window = new Window(geometry);
        if (weights.Channels != channels || weights.Taps != window.KernelSize)
            throw new ArgumentException($"depthwise weights packed for {weights.Channels} channels of {weights.Taps} taps, the layer has {channels} of {window.KernelSize}", nameof(weights));
        CheckRequantization(bias, multipliers, channels);
        if (ChannelBlockDepthwise.Applies<TW, TOut>(window, bias, multipliers))
        {
            CheckOperands<TX>(scratch, geometry);
            ChannelBlockDepthwise.Convolve(x, xZeroPoint, weights.Weights, weights.ZeroPoints, weights, bias, multipliers, yZeroPoint, y, scratch, batch, channels, window);
            return;
        }
        Convolve(x, xZeroPoint, weights.Weights, weights.ZeroPoints, new Epilogue(bias, multipliers, yZeroPoint), y, scratch, batch, channels, geometry);
    }

    /// <summary>Rejects a multiplier count other than 1 or one per channel and a bias of other than one value per channel.</summary>
    static void CheckRequantization(ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int channels)
    {
        if (multipliers.Length != 1 && multipliers.Length != channels) throw new ArgumentException($"{multipliers.Length} multipliers for {channels} channels", nameof(multipliers));
        if (!bias.IsEmpty && bias.Length != channels) throw new ArgumentException($"a bias of {bias.Length} values for {channels} channels", nameof(bias));
    }

    /// <summary>Rejects images of other than bytes and scratch shorter than <see cref="ScratchLength"/>.</summary>
    static void CheckOperands<TX>(Span<int> scratch, int[] geometry)
    {
        if (typeof(TX) != typeof(byte) && typeof(TX) != typeof(sbyte)) throw new NotSupportedException($"depthwise int8 convolution of {typeof(TX).Name} images");
        if (scratch.Length < ScratchLength(geometry))
            throw new ArgumentException($"depthwise scratch holds {scratch.Length} ints, the layer needs {ScratchLength(geometry)}", nameof(scratch));
    }

    /// <summary>What leaves the grid: int32 sums into <see cref="Acc"/>, or, when <see cref="Requantize"/>, requantised outputs.</summary>
    readonly ref struct Epilogue
    {
        public readonly bool Requantize;
        public readonly Span<int> Acc;
        public readonly ReadOnlySpan<int> Bias;
        public readonly ReadOnlySpan<float> Multipliers;
        public readonly int ZeroPoint;

        public Epilogue(Span<int> acc) => Acc = acc;

        public Epilogue(ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int zeroPoint)
        {
            Requantize = true;
            Bias = bias;
            Multipliers = multipliers;
            ZeroPoint = zeroPoint;
        }
    }

    static void Convolve<TX, TW, TOut>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TW> weights, ReadOnlySpan<TW> wZeroPoint,
        Epilogue epilogue, Span<TOut> y, Span<int> scratch, int batch, int channels, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW> where TOut : unmanaged, IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        CheckOperands<TX>(scratch, geometry);
        var window = new Window(geometry);
        var shape = new PhaseShape(window);
        Span<float> tapWeights = MemoryMarshal.Cast<int, float>(scratch.Slice(0, shape.Taps));
        Span<int> tapOffsets = scratch.Slice(shape.Taps, shape.Taps);
        Span<float> planes = MemoryMarshal.Cast<int, float>(scratch.Slice(2 * shape.Taps, shape.Phases * shape.PlaneLength));
        Span<int> grid = scratch.Slice(2 * shape.Taps + planes.Length, shape.GridLength);
        shape.TapOffsets(window, tapOffsets);
        int zeroX = xZeroPoint.IsEmpty ? 0 : int.CreateTruncating(xZeroPoint[0]);
        int inputSize = window.InputSize, outputSize = window.OutputSize, outputWidth = window.Output(1);
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(x);
        var tier = QuantizedMatrixMultiply.Tier;
        // Images and outputs no wider than one AVX-512 vector (dscnn's are 5) move a whole row per instruction.
        bool avx512 = tier >= QuantizedGemmTier.Avx512BW && Avx512F.IsSupported;
        bool narrow = avx512 && window.Input(1) <= Lanes && outputWidth <= Lanes;
        if (narrow && shape.Phases == 1) planes.Slice(0, shape.PlaneLength).Clear();
        for (int c = 0; c < channels; c++)
        {
            int zeroW = wZeroPoint.IsEmpty ? 0 : int.CreateTruncating(wZeroPoint[wZeroPoint.Length == 1 ? 0 : c]);
            for (int t = 0; t < shape.Taps; t++) tapWeights[t] = int.CreateTruncating(weights[c * shape.Taps + t]) - zeroW;
            for (int n = 0; n < batch; n++)
            {
                int plane = (n * channels + c) * inputSize;
                if (narrow && shape.Phases == 1) shape.FillNarrowPlane(window, bytes, plane, typeof(TX) == typeof(sbyte), zeroX, planes);
                else shape.FillPlanes(window, bytes, plane, typeof(TX) == typeof(sbyte), zeroX, planes, tier);
                for (int from = 0; from < shape.Taps; from += ExactFloatTaps)
                {
                    int taps = Math.Min(ExactFloatTaps, shape.Taps - from);
                    MultiplyAdd(planes, tapWeights.Slice(from, taps), tapOffsets.Slice(from, taps), grid, shape.GridCount, from > 0, tier);
                }
                if (epilogue.Requantize)
                {
                    Span<TOut> channelOutput = y.Slice((n * channels + c) * outputSize, outputSize);
                    if (avx512 && shape.Taps <= ExactFloatTaps) RequantizeGrid(grid, shape.GridCount, shape.Width, window, epilogue, c, channelOutput);
                    else RequantizeRows(grid, shape.Width, window, epilogue, c, channelOutput, avx512);
                    continue;
                }
                Span<int> output = epilogue.Acc.Slice((n * channels + c) * outputSize, outputSize);
                for (int oy = 0; oy < window.Output(0); oy++)
                {
                    // A narrow row moves as one vector (its overflow into the next rows is rewritten by them) while it
                    // stays inside the grid and this channel's output; otherwise a loop, which beats a call on short rows.
                    if (narrow && oy * shape.Width + Lanes <= grid.Length && oy * outputWidth + Lanes <= outputSize)
                        Vector512.LoadUnsafe(ref grid[oy * shape.Width]).StoreUnsafe(ref output[oy * outputWidth]);
                    else if (outputWidth >= 32) grid.Slice(oy * shape.Width, outputWidth).CopyTo(output.Slice(oy * outputWidth, outputWidth));
                    else for (int ox = 0; ox < outputWidth; ox++) output[oy * outputWidth + ox] = grid[oy * shape.Width + ox];
                }
            }
        }
    }

    /// <summary>
    /// <see cref="RequantizeRows{TOut}"/> on AVX-512 when the taps summed in one float chunk: the grid is requantised
    /// whole, 16 values per step at the offsets <see cref="MultiplyAdd"/> just stored (so each load is served by one
    /// store), into bytes in place (byte j lands on int j/4, already read); then the rows are copied out 16 bytes at a
    /// time (a wide row's last 16 overlapping, a narrow row's spill landing on the rows after it, byte by byte at the
    /// channel's end). Against requantising rows straight from the int grid (loads across two pending stores) it measured
    /// 22% faster on DS-CNN's 25×5 layer, 29% on MobileNet's 7×7, 16% on 14×14 and 5–8% on 28×28 to 112×112.
    /// </summary>
    static void RequantizeGrid<TOut>(Span<int> grid, int count, int pitch, Window window, in Epilogue epilogue, int channel, Span<TOut> output)
        where TOut : unmanaged, IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        float multiplier = epilogue.Multipliers[epilogue.Multipliers.Length == 1 ? 0 : channel];
        if ((typeof(TOut) != typeof(byte) && typeof(TOut) != typeof(sbyte)) || !float.IsFinite(multiplier))
        {
            RequantizeRows(grid, pitch, window, epilogue, channel, output, true);
            return;
        }
        bool signed = typeof(TOut) == typeof(sbyte);
        var low = Vector512.Create((float)((signed ? -128 : 0) - epilogue.ZeroPoint));
        var high = Vector512.Create((float)((signed ? 127 : 255) - epilogue.ZeroPoint));
        var zero = Vector512.Create(epilogue.ZeroPoint);
        var offset = Vector512.Create(epilogue.Bias.IsEmpty ? 0 : epilogue.Bias[channel]);
        var scale = Vector512.Create(multiplier);
        ref int source = ref MemoryMarshal.GetReference(grid);
        ref byte packed = ref Unsafe.As<int, byte>(ref source);
        for (int j = 0; j < count; j += Lanes)
        {
            var product = Avx512F.ConvertToVector512Single(Vector512.LoadUnsafe(ref source, (nuint)j) + offset) * scale;
            var rounded = Avx512F.ConvertToVector512Int32(Avx512F.Min(Avx512F.Max(product, low), high)) + zero;
            Vector128<byte> values = signed ? Avx512F.ConvertToVector128SByte(rounded).AsByte() : Avx512F.ConvertToVector128Byte(rounded);
            values.StoreUnsafe(ref packed, (nuint)j);
        }
        int rows = window.Output(0), width = window.Output(1);
        Span<byte> bytes = MemoryMarshal.AsBytes(output);
        for (int oy = 0; oy < rows; oy++)
        {
            int at = oy * width;
            if (width >= Lanes)
            {
                for (int ox = 0; ; ox += Lanes)
                {
                    if (ox > width - Lanes) ox = width - Lanes;
                    Vector128.LoadUnsafe(ref packed, (nuint)(oy * pitch + ox)).StoreUnsafe(ref bytes[at + ox]);
                    if (ox == width - Lanes) break;
                }
            }
            else if (at + Lanes <= bytes.Length) Vector128.LoadUnsafe(ref packed, (nuint)(oy * pitch)).StoreUnsafe(ref bytes[at]);
            else for (int ox = 0; ox < width; ox++) bytes[at + ox] = Unsafe.Add(ref packed, oy * pitch + ox);
        }
    }

    /// <summary>
    /// One channel's output rows, requantised from the grid (pitch <paramref name="pitch"/>) into <paramref name="output"/>.
    /// On AVX-512 with byte outputs and a finite multiplier, 16 values per step with the operations of
    /// <see cref="Requantization.ToInteger{TOut}"/>'s AVX-512 path (int32 bias add, float multiply, clamp, round half to
    /// even, zero point, saturating narrow): a row's last 16 overlap the previous ones, and a row narrower than 16 is
    /// stored whole when its spill stays in this channel's later rows (they rewrite it), else through a small buffer.
    /// Otherwise each row is handed to <see cref="Requantization.ToInteger{TOut}"/>.
    /// </summary>
    static void RequantizeRows<TOut>(Span<int> grid, int pitch, Window window, in Epilogue epilogue, int channel, Span<TOut> output, bool avx512)
        where TOut : unmanaged, IBinaryInteger<TOut>, IMinMaxValue<TOut>
    {
        int rows = window.Output(0), width = window.Output(1);
        int parameter = epilogue.Multipliers.Length == 1 ? 0 : channel;
        float multiplier = epilogue.Multipliers[parameter];
        int bias = epilogue.Bias.IsEmpty ? 0 : epilogue.Bias[channel];
        if (!avx512 || (typeof(TOut) != typeof(byte) && typeof(TOut) != typeof(sbyte)) || !float.IsFinite(multiplier))
        {
            ReadOnlySpan<int> rowBias = epilogue.Bias.IsEmpty ? default : epilogue.Bias.Slice(channel, 1);
            for (int oy = 0; oy < rows; oy++)
                Requantization.ToInteger(grid.Slice(oy * pitch, width), rowBias, epilogue.Multipliers.Slice(parameter, 1), true, epilogue.ZeroPoint,
                    output.Slice(oy * width, width), 1, width);
            return;
        }
        bool signed = typeof(TOut) == typeof(sbyte);
        var low = Vector512.Create((float)((signed ? -128 : 0) - epilogue.ZeroPoint));
        var high = Vector512.Create((float)((signed ? 127 : 255) - epilogue.ZeroPoint));
        var zero = Vector512.Create(epilogue.ZeroPoint);
        var offset = Vector512.Create(bias);
        var scale = Vector512.Create(multiplier);
        Span<byte> bytes = MemoryMarshal.AsBytes(output);
        ref int source = ref MemoryMarshal.GetReference(grid);
        Span<byte> spill = stackalloc byte[Lanes];
        for (int oy = 0; oy < rows; oy++)
        {
            for (int ox = 0; ; ox += Lanes)
            {
                if (width >= Lanes && ox > width - Lanes) ox = width - Lanes;
                var product = Avx512F.ConvertToVector512Single(Vector512.LoadUnsafe(ref source, (nuint)(oy * pitch + ox)) + offset) * scale;
                var rounded = Avx512F.ConvertToVector512Int32(Avx512F.Min(Avx512F.Max(product, low), high)) + zero;
                Vector128<byte> values = signed ? Avx512F.ConvertToVector128SByte(rounded).AsByte() : Avx512F.ConvertToVector128Byte(rounded);
                int at = oy * width + ox;
                if (at + Lanes <= bytes.Length) values.StoreUnsafe(ref bytes[at]);
                else
                {
                    values.StoreUnsafe(ref spill[0]);
                    spill.Slice(0, width - ox).CopyTo(bytes.Slice(at));
                }
                if (ox + Lanes >= width) break;
            }
        }
    }

    /// <summary>
    /// grid[j] = Σ_t weights[t]·planes[j + offsets[t]] for j &lt; count (added to grid[j] when <paramref name="accumulate"/>),
    /// summed in float (exact for up to <see cref="ExactFloatTaps"/> taps) and stored as int32, on the widest tier
    /// allowed. The vector tiers sum four (AVX-512) or two (AVX2) vectors of outputs at once: one chain of dependent
    /// fused multiply-adds per vector would wait on the FMA latency at every tap.
    /// </summary>
    static void MultiplyAdd(ReadOnlySpan<float> planes, ReadOnlySpan<float> weights, ReadOnlySpan<int> offsets, Span<int> grid, int count, bool accumulate,
        QuantizedGemmTier tier)
    {
        ref float source = ref MemoryMarshal.GetReference(planes);
        ref int destination = ref MemoryMarshal.GetReference(grid);
        int j = 0;
        if (tier >= QuantizedGemmTier.Avx512BW && Vector512.IsHardwareAccelerated)
        {
            const int step = 16;
            for (; j + 3 * step < count; j += 4 * step)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int t = 0; t < weights.Length; t++)
                {
                    var w = Vector512.Create(weights[t]);
                    ref float at = ref Unsafe.Add(ref source, j + offsets[t]);
                    s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at), w, s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, step), w, s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, 2 * step), w, s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref at, 3 * step), w, s3);
                }
                Store(s0, ref destination, j, accumulate);
                Store(s1, ref destination, j + step, accumulate);
                Store(s2, ref destination, j + 2 * step, accumulate);
                Store(s3, ref destination, j + 3 * step, accumulate);
            }
            for (; j < count; j += step)
            {
                Vector512<float> sum = default;
                for (int t = 0; t < weights.Length; t++)
                    sum = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref source, (nuint)(j + offsets[t])), Vector512.Create(weights[t]), sum);
                Store(sum, ref destination, j, accumulate);
            }
        }
        else if (tier >= QuantizedGemmTier.Avx2 && Vector256.IsHardwareAccelerated)
        {
            const int step = 8;
            for (; j < count; j += 2 * step)
            {
                Vector256<float> s0 = default, s1 = default;
                for (int t = 0; t < weights.Length; t++)
                {
                    var w = Vector256.Create(weights[t]);
                    ref float at = ref Unsafe.Add(ref source, j + offsets[t]);
                    s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref at), w, s0);
                    s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref at, step), w, s1);
                }
                Store(s0, ref destination, j, accumulate);
                Store(s1, ref destination, j + step, accumulate);
            }
        }
        else if (tier >= QuantizedGemmTier.Vector128 && Vector128.IsHardwareAccelerated)
        {
            for (; j < count; j += Vector128<float>.Count)
            {
                Vector128<float> sum = default;
                for (int t = 0; t < weights.Length; t++) sum += Vector128.Create(weights[t]) * Vector128.LoadUnsafe(ref source, (nuint)(j + offsets[t]));
                var value = Vector128.ConvertToInt32(sum);
                (accumulate ? value + Vector128.LoadUnsafe(ref destination, (nuint)j) : value).StoreUnsafe(ref destination, (nuint)j);
            }
        }
        for (; j < count; j++)
        {
            float sum = 0;
            for (int t = 0; t < weights.Length; t++) sum += weights[t] * Unsafe.Add(ref source, j + offsets[t]);
            Unsafe.Add(ref destination, j) = (accumulate ? Unsafe.Add(ref destination, j) : 0) + (int)sum;
        }
    }

    /// <summary>grid[j..j+16) = (int)sum, or += when <paramref name="accumulate"/>; the float sum holds an integer, so the conversion is exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector512<float> sum, ref int grid, int j, bool accumulate)
    {
        var value = Vector512.ConvertToInt32(sum);
        (accumulate ? value + Vector512.LoadUnsafe(ref grid, (nuint)j) : value).StoreUnsafe(ref grid, (nuint)j);
    }

    /// <inheritdoc cref="Store(Vector512{float}, ref int, int, bool)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector256<float> sum, ref int grid, int j, bool accumulate)
    {
        var value = Vector256.ConvertToInt32(sum);
        (accumulate ? value + Vector256.LoadUnsafe(ref grid, (nuint)j) : value).StoreUnsafe(ref grid, (nuint)j);
    }

    /// <summary>The sizes of a layer's phase planes and output grid (see the class remarks).</summary>
    readonly struct PhaseShape
    {
        /// <summary>Kernel taps (kh·kw), phases (sy·sx), phase rows and width (the grid's pitch).</summary>
        public readonly int Taps, Phases, Rows, Width;

        /// <summary>Output grid values (output rows × <see cref="Width"/>).</summary>
        public readonly int GridCount;

        public PhaseShape(Window window)
        {
            if (window.Rank != 2) throw new ArgumentException($"depthwise int8 convolution is 2-D, the window has rank {window.Rank}");
            Taps = window.Kernel(0) * window.Kernel(1);
            Phases = window.Stride(0) * window.Stride(1);
            Rows = window.Output(0) + (window.Kernel(0) - 1) * window.Dilation(0) / window.Stride(0);
            Width = window.Output(1) + (window.Kernel(1) - 1) * window.Dilation(1) / window.Stride(1);
            GridCount = window.Output(0) * Width;
        }

        /// <summary>
        /// Ints per phase plane: its rows, then one spare row and vector, as the grid's last vector may read a tap's
        /// shift (less than a row) and a vector past the rows, and filling may write a vector past them.
        /// </summary>
        public int PlaneLength => (Rows + 1) * Width + Lanes;

        /// <summary>
        /// The grid rounded up to whole vectors of the widest tier, plus one vector: a row read as a whole vector from the
        /// last row's start may pass the grid's end.
        /// </summary>
        public int GridLength => (GridCount + Lanes - 1) / Lanes * Lanes + Lanes;

        /// <summary>offsets[ky·kw + kx] = where tap (ky, kx) reads in the planes, relative to the output's grid index.</summary>
        public void TapOffsets(Window window, Span<int> offsets)
        {
            int sy = window.Stride(0), sx = window.Stride(1);
            for (int ky = 0; ky < window.Kernel(0); ky++)
            {
                int y = ky * window.Dilation(0);
                for (int kx = 0; kx < window.Kernel(1); kx++)
                {
                    int xx = kx * window.Dilation(1);
                    int phase = y % sy * sx + xx % sx;
                    offsets[ky * window.Kernel(1) + kx] = phase * PlaneLength + y / sy * Width + xx / sx;
                }
            }
        }

        /// <summary>Every phase plane of one channel image (starting at <paramref name="start"/> in <paramref name="x"/>): x − zx, padding 0.</summary>
        public void FillPlanes(Window window, ReadOnlySpan<byte> x, int start, bool signed, int zeroX, Span<float> planes, QuantizedGemmTier tier)
        {
            int height = window.Input(0), width = window.Input(1), sy = window.Stride(0), sx = window.Stride(1);
            int padTop = window.PadBegin(0), padLeft = window.PadBegin(1);
            for (int py = 0; py < sy; py++)
            {
                for (int px = 0; px < sx; px++)
                {
                    Span<float> plane = planes.Slice((py * sx + px) * PlaneLength, PlaneLength);
                    // Phase columns c whose image column c·sx + px − pl lies inside the image.
                    int begin = Math.Max(0, (padLeft - px + sx - 1) / sx);
                    int end = width - 1 + padLeft - px < 0 ? begin : Math.Clamp((width - 1 + padLeft - px) / sx + 1, begin, Width);
                    for (int r = 0; r < Rows; r++)
                    {
                        ref float row = ref plane[r * Width];
                        int iy = r * sy + py - padTop;
                        if (iy < 0 || iy >= height || begin >= end)
                        {
                            Zero(ref row, 0, Width);
                            continue;
                        }
                        Zero(ref row, 0, begin);
                        // Rows are filled in order and each rewrites its whole width, so a vector store running past
                        // this row's end (into the next row or the plane's spare row) is overwritten or unused.
                        Widen(x, start + iy * width + begin * sx + px - padLeft, sx, signed, zeroX, ref Unsafe.Add(ref row, begin), end - begin, tier);
                        Zero(ref row, end, Width);
                    }
                    plane.Slice(Rows * Width).Clear();
                }
            }
        }

        /// <summary>
        /// <see cref="FillPlanes"/> for a stride-1 image no wider than a vector, on AVX-512: each image row is one 16-float
        /// store whose lanes past the image width are 0 (they land on padding, or on the next row, which its own store
        /// rewrites). The caller clears the plane once per call, not per channel: every channel writes the same image
        /// positions and only zeros elsewhere, so the padding stays zero.
        /// </summary>
        public void FillNarrowPlane(Window window, ReadOnlySpan<byte> x, int start, bool signed, int zeroX, Span<float> plane)
        {
            int height = window.Input(0), width = window.Input(1), padTop = window.PadBegin(0), padLeft = window.PadBegin(1);
            var inside = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width));
            var shift = Vector512.Create(zeroX);
            ref byte source = ref MemoryMarshal.GetReference(x);
            for (int iy = 0; iy < height; iy++)
            {
                int from = start + iy * width, to = (iy + padTop) * Width + padLeft;
                if (iy + padTop >= Rows) break;
                if (from + Lanes > x.Length)
                {
                    for (int i = 0; i < width; i++) plane[to + i] = (signed ? (sbyte)x[from + i] : x[from + i]) - zeroX;
                    continue;
                }
                Vector128<byte> raw = Vector128.LoadUnsafe(ref source, (nuint)from);
                Vector512<int> values = (signed ? Avx512F.ConvertToVector512Int32(raw.AsSByte()) : Avx512F.ConvertToVector512Int32(raw)) - shift;
                Vector512.ConvertToSingle(values & inside).StoreUnsafe(ref plane[to]);
            }
        }

        /// <summary>row[from..to) = 0; a loop, as most runs are a pad of one or two.</summary>
        static void Zero(ref float row, int from, int to)
        {
            for (int i = from; i < to; i++) Unsafe.Add(ref row, i) = 0;
        }
    }

    /// <summary>
    /// The AVX-512 steps of <see cref="Widen"/> over whole vectors: 16 values per step, sign- or zero-extended by
    /// <c>vpmov[sz]xbd</c> (step 1) or, for step 2, 32 bytes read as 16 words whose low bytes are the even values
    /// (extended by a shift pair or a mask, then <c>vpmov[sz]xwd</c>). Returns how many values it wrote; the caller
    /// finishes the rest. Rows shorter than a vector are left to the caller: a 64-byte store spilling into the next row,
    /// read back across both stores by the taps, measured 20% slower on 14×14 stride-2 layers.
    /// </summary>
    static int WidenAvx512(ReadOnlySpan<byte> x, int from, int step, bool signed, int zero, ref float d, int count)
    {
        ref byte source = ref MemoryMarshal.GetReference(x);
        var shift = Vector512.Create(zero);
        int i = 0;
        if (step == 1)
        {
            for (; i + 16 <= count && from + i + 16 <= x.Length; i += 16)
            {
                Vector128<byte> raw = Vector128.LoadUnsafe(ref source, (nuint)(from + i));
                var values = signed ? Avx512F.ConvertToVector512Int32(raw.AsSByte()) : Avx512F.ConvertToVector512Int32(raw);
                Vector512.ConvertToSingle(values - shift).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (step == 2)
        {
            for (; i + 16 <= count && from + 2 * i + 32 <= x.Length; i += 16)
            {
                Vector256<short> words = Vector256.LoadUnsafe(ref source, (nuint)(from + 2 * i)).AsInt16();
                var values = signed
                    ? Avx512F.ConvertToVector512Int32(Vector256.ShiftRightArithmetic(words << 8, 8))
                    : Avx512F.ConvertToVector512Int32((words & Vector256.Create((short)0xFF)).AsUInt16());
                Vector512.ConvertToSingle(values - shift).StoreUnsafe(ref d, (nuint)i);
            }
        }
        return i;
    }

    /// <summary>
    /// destination[i] = x[from + i·step] − zero for i &lt; count, as signed or unsigned bytes; 16 at a time when the step
    /// is 1 or 2 on AVX-512 (else 16 at a time when the step is 1, 8 when it is 2) when <paramref name="tier"/> allows
    /// vectors (then up to 15 floats past <paramref name="count"/> may be written).
    /// </summary>
    static void Widen(ReadOnlySpan<byte> x, int from, int step, bool signed, int zero, ref float d, int count, QuantizedGemmTier tier)
    {
        bool vectors = tier >= QuantizedGemmTier.Vector128 && Vector128.IsHardwareAccelerated;
        int i = count >= 16 && tier >= QuantizedGemmTier.Avx512BW && Avx512BW.IsSupported ? WidenAvx512(x, from, step, signed, zero, ref d, count) : 0;
        if (step == 1 && vectors)
        {
            var shift = Vector128.Create(zero);
            for (; i < count && from + i + 16 <= x.Length; i += 16)
            {
                Vector128<byte> raw = Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(x), (nuint)(from + i));
                var (a, b, c, e) = LinearQuantizationRuns.Widen(raw, signed);
                Vector128.ConvertToSingle(a - shift).StoreUnsafe(ref d, (nuint)i);
                Vector128.ConvertToSingle(b - shift).StoreUnsafe(ref d, (nuint)i + 4);
                Vector128.ConvertToSingle(c - shift).StoreUnsafe(ref d, (nuint)i + 8);
                Vector128.ConvertToSingle(e - shift).StoreUnsafe(ref d, (nuint)i + 12);
            }
        }
        else if (step == 2 && vectors)
        {
            // Sixteen bytes widened to words hold eight (even, odd) pairs; each pair read as one int32 has the even
            // value in its low half, which the shifts (or the mask) extract with its sign.
            var shift = Vector128.Create(zero);
            for (; i < count && from + 2 * i + 16 <= x.Length; i += 8)
            {
                Vector128<byte> raw = Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(x), (nuint)(from + 2 * i));
                Vector128<int> low, high;
                if (signed)
                {
                    low = Vector128.ShiftRightArithmetic(Vector128.WidenLower(raw.AsSByte()).AsInt32() << 16, 16);
                    high = Vector128.ShiftRightArithmetic(Vector128.WidenUpper(raw.AsSByte()).AsInt32() << 16, 16);
                }
                else
                {
                    low = Vector128.WidenLower(raw).AsInt32() & Vector128.Create(0xFFFF);
                    high = Vector128.WidenUpper(raw).AsInt32() & Vector128.Create(0xFFFF);
                }
                Vector128.ConvertToSingle(low - shift).StoreUnsafe(ref d, (nuint)i);
                Vector128.ConvertToSingle(high - shift).StoreUnsafe(ref d, (nuint)i + 4);
            }
        }
        for (; i < count; i++)
        {
            byte value = x[from + i * step];
            Unsafe.Add(ref d, i) = (signed ? (sbyte)value : value) - zero;
        }
    }
}
