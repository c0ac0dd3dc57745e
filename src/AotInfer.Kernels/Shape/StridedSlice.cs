using System;

namespace AotInfer.Kernels.Shape;

/// <summary>
/// Slice as a strided copy: output coordinate c reads input coordinate <c>starts + c·steps</c> (steps may be
/// negative). When the innermost step is 1 each output row is one contiguous run, copied with <c>Span.CopyTo</c>.
/// </summary>
public static class StridedSlice
{
    /// <summary>Copies the window of <paramref name="x"/> (shape <paramref name="xShape"/>) into <paramref name="y"/> (shape <paramref name="yShape"/>).</summary>
    public static void Run<T>(ReadOnlySpan<T> x, int[] xShape, int[] starts, int[] steps, Span<T> y, int[] yShape)
    {
        int rank = xShape.Length;
        if (rank == 0) { x.CopyTo(y); return; }
        Span<int> stepStrides = stackalloc int[rank];
        int stride = 1, position = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            position += starts[d] * stride;
            stepStrides[d] = steps[d] * stride;
            stride *= xShape[d];
        }
        int inner = yShape[rank - 1];
        if (inner == 0 || y.Length == 0) return;
        int innerStep = stepStrides[rank - 1];
        int rows = y.Length / inner;
        Span<int> index = stackalloc int[rank];
        index.Clear();
        for (int row = 0, yi = 0; row < rows; row++, yi += inner)
        {
            if (innerStep == 1) x.Slice(position, inner).CopyTo(y.Slice(yi, inner));
            else for (int i = 0, p = position; i < inner; i++, p += innerStep) y[yi + i] = x[p];
            // Odometer over the outer output coordinates.
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                position += stepStrides[d];
                if (index[d] < yShape[d]) break;
                position -= stepStrides[d] * yShape[d];
                index[d] = 0;
            }
        }
    }
}
