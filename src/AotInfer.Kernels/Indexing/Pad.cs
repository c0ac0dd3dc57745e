using System;

namespace AotInfer.Kernels.Indexing;

/// <summary>How Pad fills the border.</summary>
public enum PadMode
{
    /// <summary>A constant value.</summary>
    Constant,
    /// <summary>Mirror without repeating the edge element (numpy "reflect").</summary>
    Reflect,
    /// <summary>Repeat the edge element.</summary>
    Edge,
    /// <summary>Continue periodically from the other side.</summary>
    Wrap,
}

/// <summary>ONNX Pad. Negative pads crop; the border modes then mirror, repeat or wrap the cropped input, as ONNX Runtime does.</summary>
public static class Pad
{
    /// <summary>
    /// Pads <paramref name="x"/> into <paramref name="y"/>. <paramref name="pads"/> holds the begin amounts of every
    /// dimension followed by the end amounts (ONNX order).
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, int[] xShape, Span<T> y, int[] yShape, int[] pads, PadMode mode, T value)
    {
        int rank = yShape.Length;
        if (y.Length == 0) return;
        if (rank == 0) { y[0] = x[0]; return; }
        Span<int> strides = stackalloc int[rank];
        IndexMath.Strides(xShape, strides);
        Span<int> coordinate = stackalloc int[rank];
        int inner = yShape[rank - 1];
        int outer = y.Length / inner;
        for (int o = 0; o < outer; o++)
        {
            int source = 0;
            bool border = false;
            for (int d = 0; d < rank - 1; d++)
            {
                int s = SourceCoordinate(coordinate[d], xShape[d], pads[d], pads[d + rank], mode);
                if (s < 0) border = true;
                else source += s * strides[d];
            }
            var row = y.Slice(o * inner, inner);
            if (border) row.Fill(value);
            else
            {
                int n = xShape[rank - 1], begin = pads[rank - 1], end = pads[2 * rank - 1];
                for (int i = 0; i < inner; i++)
                {
                    int s = SourceCoordinate(i, n, begin, end, mode);
                    row[i] = s < 0 ? value : x[source + s];
                }
            }
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++coordinate[d] < yShape[d]) break;
                coordinate[d] = 0;
            }
        }
    }

    /// <summary>The input coordinate that output coordinate <paramref name="o"/> reads, or -1 for the constant value.</summary>
    static int SourceCoordinate(int o, int size, int begin, int end, PadMode mode)
    {
        // Negative pads crop first; the border is then built from the cropped range [cropBegin, cropBegin + length).
        int cropBegin = begin < 0 ? -begin : 0;
        int length = size - cropBegin - (end < 0 ? -end : 0);
        int c = o - (begin > 0 ? begin : 0);
        if (c >= 0 && c < length) return cropBegin + c;
        if (length <= 0) return -1;
        switch (mode)
        {
            case PadMode.Edge:
                c = c < 0 ? 0 : length - 1;
                break;
            case PadMode.Wrap:
                c %= length;
                if (c < 0) c += length;
                break;
            case PadMode.Reflect:
                if (length == 1) { c = 0; break; }
                int period = 2 * (length - 1);
                c %= period;
                if (c < 0) c += period;
                if (c >= length) c = period - c;
                break;
            default:
                return -1;
        }
        return cropBegin + c;
    }
}
