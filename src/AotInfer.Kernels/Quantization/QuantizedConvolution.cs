using System;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// Integer convolution (ConvInteger, QLinearConv) with int32 results: per group, the im2col column matrix of the
/// image (<see cref="ColumnBuffer.Gather{T}"/>, padding filled with the input zero point so it contributes 0) is
/// packed as the B operand of <see cref="QuantizedMatrixMultiply"/>; the weights, an
/// <c>[M, C/group·K]</c> matrix per group, are the A operand, packed once with their per-output-channel zero points.
/// Depthwise 2-D layers (one channel per group) run <see cref="Depthwise2D{TX, TW}"/> directly instead. Weights that
/// <see cref="Int8PackedWeights"/> takes run the byte GEMM of <see cref="Int8Gemm"/> instead of the widening one.
/// </summary>
public static class QuantizedConvolution
{
    /// <summary>Length of the packed column scratch (int16 elements) the widening <c>Im2ColGemm</c> needs.</summary>
    public static int PackedColumnsLength(int groupInChannels, int kernelSize, int outputSize) =>
        QuantizedMatrixMultiply.PackedBLength(groupInChannels * kernelSize, outputSize);

    /// <summary>
    /// acc[n, m, p] = Σ (w[m, ·] − zw[m])·(x columns − zx) over every group. <paramref name="packedWeights"/> is the
    /// whole weight tensor packed by <see cref="QuantizedMatrixMultiply.PackA{T}(ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, int, Span{int})"/>
    /// as an M × (C/group·K) matrix.
    /// </summary>
    public static void Im2ColGemm<TX>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<int> packedWeights, Span<int> acc,
        Span<TX> columns, Span<short> packedColumns, int batch, int inChannels, int outChannels, int groups, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX>
    {
        var window = new Window(geometry);
        int groupIn = inChannels / groups, groupOut = outChannels / groups;
        int inputSize = window.InputSize, outputSize = window.OutputSize, depth = groupIn * window.KernelSize;
        int pairs = QuantizedMatrixMultiply.Pairs(depth);
        TX zero = xZeroPoint.IsEmpty ? TX.Zero : xZeroPoint[0];
        ReadOnlySpan<TX> noZeroPoint = stackalloc TX[] { zero };
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                Span<TX> groupColumns = columns.Slice(0, depth * outputSize);
                ColumnBuffer.Gather(x.Slice((n * inChannels + g * groupIn) * inputSize, groupIn * inputSize), groupIn, window, groupColumns, zero);
                QuantizedMatrixMultiply.PackB<TX>(groupColumns, outputSize, noZeroPoint, depth, outputSize, packedColumns);
                Span<int> accGroup = acc.Slice((n * outChannels + g * groupOut) * outputSize, groupOut * outputSize);
                QuantizedMatrixMultiply.Multiply(packedWeights.Slice(g * groupOut * pairs, groupOut * pairs), packedColumns, accGroup, outputSize, groupOut, outputSize, depth);
            }
        }
    }

    /// <summary>
    /// acc[n, m, p] = Σ (w[m, ·] − zw[m])·(x columns − zx) + bias[m] over every group, on <see cref="Int8Gemm"/>: the
    /// columns (im2col with zx as padding; the image itself for a 1×1 stride-1 unpadded layer) are packed in panels, the
    /// weights were packed once (rows = output channels), zx and the bias fold into one offset per channel.
    /// Scratch: <paramref name="columns"/> C/group·K·P values, <paramref name="packedColumns"/>
    /// <see cref="Int8Gemm.PackedColumnsLength"/>(C/group·K, P) bytes, <paramref name="offsets"/> M ints.
    /// </summary>
    public static void Im2ColGemm<TX>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8PackedWeights weights, ReadOnlySpan<int> bias, Span<int> acc,
        Span<TX> columns, Span<sbyte> packedColumns, Span<int> offsets, int batch, int inChannels, int outChannels, int groups, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX>
    {
        var window = new Window(geometry);
        int groupIn = inChannels / groups, groupOut = outChannels / groups;
        int inputSize = window.InputSize, outputSize = window.OutputSize, depth = groupIn * window.KernelSize;
        if (weights.Rows != outChannels || weights.Depth != depth)
            throw new ArgumentException($"packed weights are {weights.Rows}×{weights.Depth}, the layer needs {outChannels}×{depth}");
        TX zero = xZeroPoint.IsEmpty ? TX.Zero : xZeroPoint[0];
        weights.Offsets(Int8Gemm.DomainZeroPoint(xZeroPoint, weights.Scheme), bias, 0, offsets.Slice(0, outChannels));
        bool pointwise = IsPointwise(window);
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                ReadOnlySpan<TX> image = x.Slice((n * inChannels + g * groupIn) * inputSize, groupIn * inputSize);
                if (!pointwise)
                {
                    if (window.Rank == 2) ColumnBuffer.Gather2D(image, groupIn, window, columns.Slice(0, depth * outputSize), zero);
                    else ColumnBuffer.Gather(image, groupIn, window, columns.Slice(0, depth * outputSize), zero);
                    image = columns.Slice(0, depth * outputSize);
                }
                Int8Gemm.PackColumns(image, depth, outputSize, weights.Scheme, packedColumns);
                Span<int> accGroup = acc.Slice((n * outChannels + g * groupOut) * outputSize, groupOut * outputSize);
                Int8Gemm.MultiplyColumns(weights, g * groupOut, groupOut, packedColumns, outputSize, offsets.Slice(g * groupOut, groupOut), accGroup, outputSize);
                Int8Gemm.AddFixups(weights, g * groupOut, groupOut, image, outputSize, xZeroPoint, accGroup, outputSize);
            }
        }
    }

    /// <summary>A 1×…×1 kernel with unit strides and no padding: the image already is its own column matrix.</summary>
    static bool IsPointwise(Window window)
    {
        for (int d = 0; d < window.Rank; d++)
            if (window.Kernel(d) != 1 || window.Stride(d) != 1 || window.PadBegin(d) != 0 || window.PadEnd(d) != 0) return false;
        return true;
    }

    /// <summary>
    /// acc[n, c] = Σ taps (w[c, tap] − zw[c])·(x[n, c, moved by tap] − zx) for a 2-D convolution with one input and one
    /// output channel per group (depthwise), directly: no column matrix. Taps that read padding contribute
    /// (zx − zx)·w = 0, so only the valid range of each tap is visited; the inner loop runs along an output row.
    /// </summary>
    public static void Depthwise2D<TX, TW>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<TW> weights, ReadOnlySpan<TW> wZeroPoint,
        Span<int> acc, int batch, int channels, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TW : unmanaged, IBinaryInteger<TW>
    {
        var window = new Window(geometry);
        int kernelHeight = window.Kernel(0), kernelWidth = window.Kernel(1);
        int inputSize = window.InputSize, outputSize = window.OutputSize, inputWidth = window.Input(1), outputWidth = window.Output(1);
        int strideY = window.Stride(0), strideX = window.Stride(1);
        int zeroX = xZeroPoint.IsEmpty ? 0 : int.CreateTruncating(xZeroPoint[0]);
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<TX> plane = x.Slice((n * channels + c) * inputSize, inputSize);
                Span<int> output = acc.Slice((n * channels + c) * outputSize, outputSize);
                output.Clear();
                int zeroW = wZeroPoint.IsEmpty ? 0 : int.CreateTruncating(wZeroPoint[wZeroPoint.Length == 1 ? 0 : c]);
                for (int ky = 0; ky < kernelHeight; ky++)
                {
                    window.ValidRange(0, ky, out int rowBegin, out int rowEnd, out int rowOffset);
                    for (int kx = 0; kx < kernelWidth; kx++)
                    {
                        int weight = int.CreateTruncating(weights[(c * kernelHeight + ky) * kernelWidth + kx]) - zeroW;
                        if (weight == 0) continue;
                        window.ValidRange(1, kx, out int begin, out int end, out int offset);
                        for (int oy = rowBegin; oy < rowEnd; oy++)
                        {
                            ReadOnlySpan<TX> row = plane.Slice((oy * strideY + rowOffset) * inputWidth, inputWidth);
                            Span<int> destination = output.Slice(oy * outputWidth, outputWidth);
                            int ox = begin;
                            if (strideX == 1) ox = AddScaledRun(row.Slice(begin + offset, end - begin), weight, zeroX, destination.Slice(begin, end - begin)) + begin;
                            for (; ox < end; ox++)
                                destination[ox] += weight * (int.CreateTruncating(row[ox * strideX + offset]) - zeroX);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// destination[j] += weight·(source[j] − zero) for u8 / s8 sources, 16 at a time (widened to int32); returns how many
    /// elements it did (the caller finishes the rest; 0 for other element types).
    /// </summary>
    static int AddScaledRun<TX>(ReadOnlySpan<TX> source, int weight, int zero, Span<int> destination) where TX : unmanaged
    {
        if (!Vector256.IsHardwareAccelerated || (typeof(TX) != typeof(byte) && typeof(TX) != typeof(sbyte))) return 0;
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(source);
        var scale = Vector256.Create(weight);
        var shift = Vector256.Create(-weight * zero);
        ref int d = ref MemoryMarshal.GetReference(destination);
        int j = 0;
        for (; j + 16 <= bytes.Length; j += 16)
        {
            Vector256<byte> raw = Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(bytes), (nuint)j).ToVector256Unsafe();
            Vector256<int> low, high;
            if (typeof(TX) == typeof(byte))
            {
                Vector256<ushort> words = Vector256.WidenLower(raw);
                low = Vector256.WidenLower(words).AsInt32();
                high = Vector256.WidenUpper(words).AsInt32();
            }
            else
            {
                Vector256<short> words = Vector256.WidenLower(raw.AsSByte());
                low = Vector256.WidenLower(words);
                high = Vector256.WidenUpper(words);
            }
            (Vector256.LoadUnsafe(ref d, (nuint)j) + low * scale + shift).StoreUnsafe(ref d, (nuint)j);
            (Vector256.LoadUnsafe(ref d, (nuint)j + 8) + high * scale + shift).StoreUnsafe(ref d, (nuint)j + 8);
        }
        return j;
    }
}
