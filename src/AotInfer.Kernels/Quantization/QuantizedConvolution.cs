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
}
