using System;
using System.Numerics;
using AotInfer.Kernels.Convolution;

namespace AotInfer.Kernels.Quantization;

/// <summary>
/// Integer convolution (ConvInteger, QLinearConv) with int32 results: per group, the im2col column matrix of the
/// image (<see cref="ColumnBuffer.Gather{T}"/>, padding filled with the input zero point so it contributes 0) is
/// packed as the B operand of <see cref="QuantizedMatrixMultiply"/>; the weights, an
/// <c>[M, C/group·K]</c> matrix per group, are the A operand, packed once with their per-output-channel zero points.
/// </summary>
public static class QuantizedConvolution
{
    /// <summary>Scratch lengths for <see cref="Im2ColGemm{TX}"/>: column matrix elements and packed-B int16 elements.</summary>
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
}
