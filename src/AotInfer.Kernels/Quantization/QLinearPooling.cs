using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AotInfer.Kernels.Quantization;

/// <summary>Average pooling of 8-bit quantized tensors (com.microsoft QLinearAveragePool, QLinearGlobalAveragePool).</summary>
public static class QLinearPooling
{
    /// <summary>
    /// QLinearGlobalAveragePool over NCHW planes, as MLAS computes it: an exact int32 sum of each plane, the input
    /// zero point removed as sum − zx·size, then round(sum · sx/(sy·size)) + zy (MLAS requantisation: the zero point is added after rounding), saturated.
    /// </summary>
    public static void GlobalAverage<T>(ReadOnlySpan<T> x, float scaleX, int zeroPointX, Span<T> y, float scaleY, int zeroPointY, int planes, int size)
        where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        float scale = scaleX / (scaleY * size);
        int bias = -zeroPointX * size;
        for (int p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * size, size);
            int sum = bias + Sum(plane);
            y[p] = QLinearRounding.AddZeroPoint<T>(sum * scale, zeroPointY);
        }
    }

    /// <summary>
    /// Σ values as int32 (exact for planes below 2²³ values). Bytes add 32 at a time with <c>vpsadbw</c> (eight bytes
    /// summed into each 64-bit lane), and a plane that is not a multiple of 32 ends with its last 32 bytes, the ones
    /// already added masked off (the planes of small models are 125 or 49 bytes: a scalar tail was most of the work);
    /// signed bytes are read as unsigned (x + 128, by flipping the top bit) and the 128s taken off at the end.
    /// </summary>
    public static int Sum<T>(ReadOnlySpan<T> values) where T : unmanaged, IBinaryInteger<T>
    {
        int i = 0, sum = 0;
        if ((typeof(T) == typeof(byte) || typeof(T) == typeof(sbyte)) && QuantizedMatrixMultiply.Tier >= QuantizedGemmTier.Avx2 && Avx2.IsSupported && values.Length >= 32)
        {
            ref byte b0 = ref MemoryMarshal.GetReference(MemoryMarshal.AsBytes(values));
            int length = values.Length;
            var flip = Vector256.Create((byte)(typeof(T) == typeof(sbyte) ? 0x80 : 0));
            var total = Vector256<ulong>.Zero;
            for (; i + 32 <= length; i += 32) total += Avx2.SumAbsoluteDifferences(Vector256.LoadUnsafe(ref b0, (nuint)i) ^ flip, Vector256<byte>.Zero).AsUInt64();
            if (i < length)
            {
                // TailMask from offset r = length − i: 32 − r zeros (the bytes already added), then r ones.
                var last = (Vector256.LoadUnsafe(ref b0, (nuint)(length - 32)) ^ flip) & Vector256.Create(TailMask.Slice(length - i, 32));
                total += Avx2.SumAbsoluteDifferences(last, Vector256<byte>.Zero).AsUInt64();
            }
            return (int)Vector256.Sum(total) - (typeof(T) == typeof(sbyte) ? 128 * length : 0);
        }
        for (; i < values.Length; i++) sum += int.CreateTruncating(values[i]);
        return sum;
    }

    /// <summary>32 zero bytes, then 32 bytes of all ones: a 32-byte window of it keeps the last r bytes of a vector.</summary>
    static ReadOnlySpan<byte> TailMask => new byte[]
    {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    };

    /// <summary>
    /// QLinearGlobalAveragePool over NHWC images (channels_last): the same arithmetic with the channel innermost;
    /// <paramref name="sums"/> holds one int32 accumulator per channel.
    /// </summary>
    public static void GlobalAverageChannelsLast<T>(ReadOnlySpan<T> x, float scaleX, int zeroPointX, Span<T> y, float scaleY, int zeroPointY,
        int images, int size, int channels, Span<int> sums)
        where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        float scale = scaleX / (scaleY * size);
        int bias = -zeroPointX * size;
        for (int n = 0; n < images; n++)
        {
            sums.Slice(0, channels).Fill(bias);
            var image = x.Slice(n * size * channels, size * channels);
            for (int i = 0; i < size; i++)
                for (int c = 0; c < channels; c++) sums[c] += int.CreateTruncating(image[i * channels + c]);
            for (int c = 0; c < channels; c++) y[n * channels + c] = QLinearRounding.AddZeroPoint<T>(sums[c] * scale, zeroPointY);
        }
    }

    /// <summary>
    /// QLinearAveragePool over NCHW planes of 1 to 3 spatial dimensions, following ONNX Runtime's kernel: each
    /// window starts at o·stride − padBegin and is clipped to the input (the end padding only shapes the output;
    /// with count_include_pad the divisor is always the full kernel size); the dequantized values are summed in
    /// float in row-major order, divided by the count, and quantized as round(avg / scaleY + zeroPointY).
    /// <paramref name="geometry"/> packs, per spatial dimension, input size, output size, kernel, stride and
    /// begin padding, in that order (5 × rank values).
    /// </summary>
    public static void Average<T>(ReadOnlySpan<float> dequantized, Span<T> y, int planes, int[] geometry, bool countIncludePad, float scaleY, int zeroPointY)
        where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        int rank = geometry.Length / 5;
        if (rank is < 1 or > 3 || geometry.Length != rank * 5) throw new ArgumentException("geometry packs 5 values per spatial dimension, 1 to 3 dimensions");
        // Leading dimensions of size 1 turn every rank into the 3-d loop.
        Span<int> input = stackalloc int[3], output = stackalloc int[3], kernel = stackalloc int[3], stride = stackalloc int[3], pad = stackalloc int[3];
        for (int d = 0; d < 3; d++)
        {
            int source = d - (3 - rank);
            bool present = source >= 0;
            input[d] = present ? geometry[source * 5] : 1;
            output[d] = present ? geometry[source * 5 + 1] : 1;
            kernel[d] = present ? geometry[source * 5 + 2] : 1;
            stride[d] = present ? geometry[source * 5 + 3] : 1;
            pad[d] = present ? geometry[source * 5 + 4] : 0;
        }
        int inputPlane = input[0] * input[1] * input[2], outputPlane = output[0] * output[1] * output[2];
        int kernelSize = kernel[0] * kernel[1] * kernel[2];
        var bounds = new AverageOutput(float.CreateTruncating(T.MinValue), float.CreateTruncating(T.MaxValue), scaleY, zeroPointY);
        ref float x0 = ref MemoryMarshal.GetReference(dequantized);
        if (dequantized.Length < planes * inputPlane || y.Length < planes * outputPlane) throw new ArgumentException("x or y is shorter than planes × plane size");
        // Window bounds once per output position, then four planes at a time: each plane keeps its own row-major sum
        // (so every value is the one a plane-by-plane loop computes), and four independent chains of float adds
        // run at the adder's throughput instead of its latency.
        for (int o0 = 0, yi = 0; o0 < output[0]; o0++)
        {
            int s0 = o0 * stride[0] - pad[0], e0 = Math.Min(s0 + kernel[0], input[0]);
            s0 = Math.Max(s0, 0);
            for (int o1 = 0; o1 < output[1]; o1++)
            {
                int s1 = o1 * stride[1] - pad[1], e1 = Math.Min(s1 + kernel[1], input[1]);
                s1 = Math.Max(s1, 0);
                for (int o2 = 0; o2 < output[2]; o2++, yi++)
                {
                    int s2 = o2 * stride[2] - pad[2], e2 = Math.Min(s2 + kernel[2], input[2]);
                    s2 = Math.Max(s2, 0);
                    int count = countIncludePad ? kernelSize : (e0 - s0) * (e1 - s1) * (e2 - s2);
                    int p = 0;
                    for (; p + 4 <= planes; p += 4)
                    {
                        ref float a = ref Unsafe.Add(ref x0, p * inputPlane);
                        ref float b = ref Unsafe.Add(ref a, inputPlane);
                        ref float c = ref Unsafe.Add(ref b, inputPlane);
                        ref float d = ref Unsafe.Add(ref c, inputPlane);
                        float sa = 0, sb = 0, sc = 0, sd = 0;
                        for (int i0 = s0; i0 < e0; i0++)
                            for (int i1 = s1; i1 < e1; i1++)
                            {
                                int row = (i0 * input[1] + i1) * input[2];
                                for (int i2 = row + s2; i2 < row + e2; i2++)
                                {
                                    sa += Unsafe.Add(ref a, i2); sb += Unsafe.Add(ref b, i2);
                                    sc += Unsafe.Add(ref c, i2); sd += Unsafe.Add(ref d, i2);
                                }
                            }
                        y[p * outputPlane + yi] = bounds.Quantize<T>(sa, count);
                        y[(p + 1) * outputPlane + yi] = bounds.Quantize<T>(sb, count);
                        y[(p + 2) * outputPlane + yi] = bounds.Quantize<T>(sc, count);
                        y[(p + 3) * outputPlane + yi] = bounds.Quantize<T>(sd, count);
                    }
                    for (; p < planes; p++)
                    {
                        ref float a = ref Unsafe.Add(ref x0, p * inputPlane);
                        float sum = 0;
                        for (int i0 = s0; i0 < e0; i0++)
                            for (int i1 = s1; i1 < e1; i1++)
                            {
                                int row = (i0 * input[1] + i1) * input[2];
                                for (int i2 = row + s2; i2 < row + e2; i2++) sum += Unsafe.Add(ref a, i2);
                            }
                        y[p * outputPlane + yi] = bounds.Quantize<T>(sum, count);
                    }
                }
            }
        }
    }

    /// <summary>The last step of <see cref="Average{T}"/>: average = sum / count, then round(average / scaleY + zeroPointY) saturated.</summary>
    readonly struct AverageOutput(float min, float max, float scaleY, int zeroPointY)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Quantize<T>(float sum, int count) where T : IBinaryInteger<T>
        {
            float average = sum / count;
            // ONNX Runtime adds the zero point before rounding here (unlike MLAS QuantizeLinear).
            float value = average / scaleY + zeroPointY;
            float clamped = value >= min ? (value <= max ? value : max) : min;
            return T.CreateTruncating((int)MathF.Round(clamped, MidpointRounding.ToEven));
        }
    }

    /// <summary>Dequantizes 8-bit values to float: (x − zeroPoint)·scale.</summary>
    public static void Dequantize<T>(ReadOnlySpan<T> x, float scale, int zeroPoint, Span<float> y) where T : unmanaged, IBinaryInteger<T>
    {
        if (y.Length < x.Length) throw new ArgumentException("y is shorter than x");
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Unsafe.SizeOf<T>() == 1)
        {
            // The same int subtraction, exact int → float conversion and one float multiply per value, eight at a time.
            ref byte source = ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(x));
            ref float destination = ref MemoryMarshal.GetReference(y);
            var zero = Vector256.Create(zeroPoint);
            var factor = Vector256.Create(scale);
            for (; i + 8 <= x.Length; i += 8)
            {
                var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref source, i))).AsByte();
                Vector256<int> values = typeof(T) == typeof(sbyte)
                    ? Vector256.WidenLower(Vector128.WidenLower(bytes.AsSByte()).ToVector256()).AsInt32()
                    : Vector256.WidenLower(Vector128.WidenLower(bytes).ToVector256()).AsInt32();
                (Vector256.ConvertToSingle(values - zero) * factor).StoreUnsafe(ref destination, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = (int.CreateTruncating(x[i]) - zeroPoint) * scale;
    }

    /// <summary>Quantizes floats to 8-bit values: round(x / scale) half to even, plus the zero point, saturated.</summary>
    public static void Quantize<T>(ReadOnlySpan<float> x, float scale, int zeroPoint, Span<T> y) where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] = QLinearRounding.Quantize<T>(x[i], scale, zeroPoint);
    }
}
