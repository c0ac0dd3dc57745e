using System;
using System.Numerics;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// Integer convolution (ConvInteger, QLinearConv) with int32 results: per group, the im2col column matrix of the
/// image (<see cref="ColumnBuffer.Gather{T}"/>, padding filled with the input zero point so it contributes 0) is
/// packed as the B operand of <see cref="QuantizedMatrixMultiply"/>; the weights, an
/// <c>[M, C/group·K]</c> matrix per group, are the A operand, packed once with their per-output-channel zero points.
/// Depthwise 2-D layers (one channel per group) run <see cref="QuantizedDepthwise"/> directly instead. Weights that
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
        int groupOut = outChannels / groups, outputSize = window.OutputSize;
        PrepareOffsets(weights, xZeroPoint, bias, outChannels, inChannels / groups * window.KernelSize, offsets);
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                ReadOnlySpan<TX> image = PackGroupColumns(x, xZeroPoint, window, n, g, inChannels, groups, weights.Scheme, columns, packedColumns);
                Span<int> accGroup = acc.Slice((n * outChannels + g * groupOut) * outputSize, groupOut * outputSize);
                Int8Gemm.MultiplyColumns(weights, g * groupOut, groupOut, packedColumns, outputSize, offsets.Slice(g * groupOut, groupOut), accGroup, outputSize);
                Int8Gemm.AddFixups(weights, g * groupOut, groupOut, image, outputSize, xZeroPoint, accGroup, outputSize);
            }
        }
    }

    /// <summary>
    /// Ints of accumulator scratch <see cref="Im2ColGemmToBytes{TX, TY}"/> needs: one column block of every output
    /// channel of a group.
    /// </summary>
    public static int BlockAccumulatorLength(int groupOutChannels, int outputSize) => groupOutChannels * Math.Min(ColumnBlock(groupOutChannels), outputSize);

    /// <summary>
    /// Output positions per block of <see cref="Im2ColGemmToBytes{TX, TY}"/>: about 128 KB of int32 sums for all the
    /// group's channels (stays in L2 between the GEMM writing it and the requantisation reading it), a multiple of 16
    /// so every block starts on a panel of every tier.
    /// </summary>
    static int ColumnBlock(int rows) => Math.Clamp(32768 / Math.Max(rows, 1) / 16 * 16, 64, 1024);

    /// <summary>
    /// QLinearConv on <see cref="Int8Gemm"/>: y[n, m, p] = saturate(round_half_even((Σ (w[m, ·] − zw[m])·(x columns − zx)
    /// + bias[m]) · multipliers[m]) + zy) as u8 or s8, one multiplier or one per output channel. The same sums as
    /// <see cref="Im2ColGemm{TX}(ReadOnlySpan{TX}, ReadOnlySpan{TX}, Int8PackedWeights, ReadOnlySpan{int}, Span{int}, Span{TX}, Span{sbyte}, Span{int}, int, int, int, int, int[])"/>
    /// followed by <see cref="Requantization.ToInteger{TOut}"/>, but the GEMM runs one block of output positions at a
    /// time into <paramref name="acc"/> (<see cref="BlockAccumulatorLength"/> ints) and each block is requantised while
    /// it is still in cache: a 16→96 1×1 layer on a 112×112 plane otherwise writes and re-reads 4.8 MB of int32.
    /// </summary>
    public static void Im2ColGemmToBytes<TX, TY>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Int8PackedWeights weights, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> multipliers, int yZeroPoint, Span<TY> y, Span<int> acc, Span<TX> columns, Span<sbyte> packedColumns, Span<int> offsets,
        int batch, int inChannels, int outChannels, int groups, int[] geometry)
        where TX : unmanaged, IBinaryInteger<TX> where TY : unmanaged, IBinaryInteger<TY>, IMinMaxValue<TY>
    {
        var window = new Window(geometry);
        int groupOut = outChannels / groups, outputSize = window.OutputSize;
        if (multipliers.Length != 1 && multipliers.Length != outChannels) throw new ArgumentException($"expected 1 or {outChannels} multipliers, got {multipliers.Length}");
        if (acc.Length < BlockAccumulatorLength(groupOut, outputSize)) throw new ArgumentException($"acc holds {acc.Length} ints, expected {BlockAccumulatorLength(groupOut, outputSize)}");
        PrepareOffsets(weights, xZeroPoint, bias, outChannels, inChannels / groups * window.KernelSize, offsets);
        int block = Math.Min(ColumnBlock(groupOut), outputSize), quadBytes = weights.Quads * 4;
        for (int n = 0; n < batch; n++)
        {
            for (int g = 0; g < groups; g++)
            {
                ReadOnlySpan<TX> image = PackGroupColumns(x, xZeroPoint, window, n, g, inChannels, groups, weights.Scheme, columns, packedColumns);
                ReadOnlySpan<float> groupMultipliers = multipliers.Length == 1 ? multipliers : multipliers.Slice(g * groupOut, groupOut);
                Span<TY> groupOutput = y.Slice((n * outChannels + g * groupOut) * outputSize, groupOut * outputSize);
                for (int first = 0; first < outputSize; first += block)
                {
                    // Blocks start on multiples of 16 columns: whole panels of every tier's packing.
                    int width = Math.Min(block, outputSize - first);
                    Int8Gemm.MultiplyColumns(weights, g * groupOut, groupOut, packedColumns.Slice(first * quadBytes), width, offsets.Slice(g * groupOut, groupOut), acc, width);
                    Int8Gemm.AddFixups(weights, g * groupOut, groupOut, image, outputSize, first, width, xZeroPoint, acc, width);
                    Requantization.RowsToInteger(acc, width, groupMultipliers, yZeroPoint, groupOutput.Slice(first), outputSize, groupOut, width);
                }
            }
        }
    }

    /// <summary>Checks the packed weights against the layer and folds the input zero point and the bias into one offset per output channel.</summary>
    static void PrepareOffsets<TX>(Int8PackedWeights weights, ReadOnlySpan<TX> xZeroPoint, ReadOnlySpan<int> bias, int outChannels, int depth, Span<int> offsets)
        where TX : unmanaged, IBinaryInteger<TX>
    {
        if (weights.Rows != outChannels || weights.Depth != depth)
            throw new ArgumentException($"packed weights are {weights.Rows}×{weights.Depth}, the layer needs {outChannels}×{depth}");
        weights.Offsets(Int8Gemm.DomainZeroPoint(xZeroPoint, weights.Scheme), bias, 0, offsets.Slice(0, outChannels));
    }

    /// <summary>
    /// Packs the column matrix of group <paramref name="group"/> of sample <paramref name="sample"/> for the byte GEMM and
    /// returns it unpacked (the weight fix-ups read it): the image itself for a pointwise layer, else im2col into
    /// <paramref name="columns"/> with the input zero point as padding.
    /// </summary>
    static ReadOnlySpan<TX> PackGroupColumns<TX>(ReadOnlySpan<TX> x, ReadOnlySpan<TX> xZeroPoint, Window window, int sample, int group, int inChannels, int groups,
        Int8ProductScheme scheme, Span<TX> columns, Span<sbyte> packedColumns) where TX : unmanaged, IBinaryInteger<TX>
    {
        int groupIn = inChannels / groups, inputSize = window.InputSize, outputSize = window.OutputSize, depth = groupIn * window.KernelSize;
        ReadOnlySpan<TX> image = x.Slice((sample * inChannels + group * groupIn) * inputSize, groupIn * inputSize);
        if (!IsPointwise(window))
        {
            TX zero = xZeroPoint.IsEmpty ? TX.Zero : xZeroPoint[0];
            if (window.Rank == 2) ColumnBuffer.Gather2D(image, groupIn, window, columns.Slice(0, depth * outputSize), zero);
            else ColumnBuffer.Gather(image, groupIn, window, columns.Slice(0, depth * outputSize), zero);
            image = columns.Slice(0, depth * outputSize);
        }
        Int8Gemm.PackColumns(image, depth, outputSize, scheme, packedColumns);
        return image;
    }

    /// <summary>A 1×…×1 kernel with unit strides and no padding: the image already is its own column matrix.</summary>
    static bool IsPointwise(Window window)
    {
        for (int d = 0; d < window.Rank; d++)
            if (window.Kernel(d) != 1 || window.Stride(d) != 1 || window.PadBegin(d) != 0 || window.PadEnd(d) != 0) return false;
        return true;
    }
}
