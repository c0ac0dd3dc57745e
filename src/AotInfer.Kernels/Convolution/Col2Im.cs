using System;

namespace AotInfer.Kernels.Convolution;

/// <summary>
/// ONNX Col2Im: sums sliding blocks back into an image. Each batch item's input <c>[C·K, L]</c> is exactly the
/// column buffer of a convolution with that geometry, so this is <see cref="ColumnBuffer.ScatterAdd"/> into a
/// cleared image.
/// </summary>
public static class Col2Im
{
    /// <summary>
    /// Rebuilds <paramref name="image"/> <c>[N, C, image...]</c> from <paramref name="columns"/> <c>[N, C·K, L]</c>;
    /// <paramref name="geometry"/> is the packed <see cref="Window"/> whose input is the image and whose output is the
    /// block grid.
    /// </summary>
    public static void Run(ReadOnlySpan<float> columns, Span<float> image, int batch, int channels, int[] geometry)
    {
        var window = new Window(geometry);
        int columnSize = channels * window.KernelSize * window.OutputSize, imageSize = channels * window.InputSize;
        image.Clear();
        for (int n = 0; n < batch; n++)
            ColumnBuffer.ScatterAdd(columns.Slice(n * columnSize, columnSize), channels, window, image.Slice(n * imageSize, imageSize));
    }
}
