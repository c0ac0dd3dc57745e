namespace AotInfer.Kernels.Convolution;

/// <summary>
/// A view of the packed sliding-window geometry the compiler emits as one static <c>int[]</c>: rank, then the
/// input extents, output extents, kernel, strides, dilations, pads-begin and pads-end (rank entries each). For a
/// transposed convolution "input" is the image the window slides over (the op's output) and "output" the grid of
/// window positions (the op's input).
/// </summary>
public readonly struct Window
{
    readonly int[] _packed;

    /// <summary>Wraps a packed geometry.</summary>
    public Window(int[] packed) => _packed = packed;

    /// <summary>Number of spatial dimensions.</summary>
    public int Rank => _packed[0];

    /// <summary>Input extent of dimension <paramref name="d"/>.</summary>
    public int Input(int d) => _packed[1 + d];

    /// <summary>Output extent (number of window positions) of dimension <paramref name="d"/>.</summary>
    public int Output(int d) => _packed[1 + Rank + d];

    /// <summary>Kernel extent of dimension <paramref name="d"/>.</summary>
    public int Kernel(int d) => _packed[1 + 2 * Rank + d];

    /// <summary>Stride of dimension <paramref name="d"/>.</summary>
    public int Stride(int d) => _packed[1 + 3 * Rank + d];

    /// <summary>Dilation of dimension <paramref name="d"/>.</summary>
    public int Dilation(int d) => _packed[1 + 4 * Rank + d];

    /// <summary>Padding before dimension <paramref name="d"/>.</summary>
    public int PadBegin(int d) => _packed[1 + 5 * Rank + d];

    /// <summary>Padding after dimension <paramref name="d"/>.</summary>
    public int PadEnd(int d) => _packed[1 + 6 * Rank + d];

    /// <summary>Number of input positions.</summary>
    public int InputSize => Product(1);

    /// <summary>Number of window positions.</summary>
    public int OutputSize => Product(1 + Rank);

    /// <summary>Number of kernel taps.</summary>
    public int KernelSize => Product(1 + 2 * Rank);

    int Product(int start)
    {
        int n = 1;
        for (int d = 0; d < Rank; d++) n *= _packed[start + d];
        return n;
    }

    /// <summary>
    /// The window positions <c>[begin, end)</c> along dimension <paramref name="d"/> whose kernel tap
    /// <paramref name="tap"/> lands inside the input, and the input offset of position 0 for that tap
    /// (input coordinate = position × stride + offset).
    /// </summary>
    public void ValidRange(int d, int tap, out int begin, out int end, out int offset)
    {
        int stride = Stride(d), extent = Input(d), positions = Output(d);
        offset = tap * Dilation(d) - PadBegin(d);
        begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        end = extent - 1 - offset < 0 ? 0 : (extent - 1 - offset) / stride + 1;
        if (begin > positions) begin = positions;
        if (end > positions) end = positions;
        if (end < begin) end = begin;
    }

    /// <summary>
    /// The kernel taps <c>[begin, end)</c> along dimension <paramref name="d"/> that land inside the input for
    /// window position <paramref name="position"/>, and the input coordinate of tap 0.
    /// </summary>
    public void ValidTaps(int d, int position, out int begin, out int end, out int start)
    {
        int dilation = Dilation(d), extent = Input(d), kernel = Kernel(d);
        start = position * Stride(d) - PadBegin(d);
        begin = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        end = extent - start <= 0 ? 0 : (extent - start + dilation - 1) / dilation;
        if (end > kernel) end = kernel;
        if (begin > end) begin = end;
    }
}
