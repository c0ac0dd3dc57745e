using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>
/// Re-lays a constant weight matrix out at build time for the batch-1 fully-connected kernel
/// (<c>AotInfer.Kernels.Linear.VectorMatrixMultiply</c>, layout documented on <c>GemvWeights</c>): columns in blocks of
/// 64, then panels of 16 (the last zero padded), each block stored row after row. The generated code then holds the
/// weights in the order the kernel streams them, so neither a call nor type initialisation re-arranges them.
/// </summary>
public static class GemvLayout
{
    /// <summary>Columns of a wide block; must equal <c>GemvWeights.WideBlock</c>.</summary>
    public const int WideBlock = 64;

    /// <summary>Columns of a narrow panel; must equal <c>GemvWeights.NarrowBlock</c>.</summary>
    public const int NarrowBlock = 16;

    /// <summary>
    /// The layout of B[k×n], stored n×k when <paramref name="transposed"/> (Gemm's transB, PyTorch's Linear weights),
    /// with row stride <paramref name="ldb"/>, as a 1-D float tensor.
    /// </summary>
    public static Tensor LayOut(Tensor b, int ldb, bool transposed, int k, int n)
    {
        float[] source = b.As<float>();
        var result = new float[PaddedColumns(n) * (long)k];
        ForEachElement(k, n, (index, row, column) =>
        {
            if (column >= 0) result[index] = transposed ? source[(long)column * ldb + row] : source[(long)row * ldb + column];
        });
        return new Tensor(DataType.Float, new[] { result.Length }, result);
    }

    /// <summary>
    /// The column of B that each element of the layout of a k×n matrix holds, or -1 for the zero padding of the last
    /// narrow panel. Per-column palettes (per-neuron clustering) follow it.
    /// </summary>
    public static int[] ColumnOf(int k, int n)
    {
        var columns = new int[PaddedColumns(n) * (long)k];
        ForEachElement(k, n, (index, _, column) => columns[index] = column);
        return columns;
    }

    static int PaddedColumns(int n) => (n + NarrowBlock - 1) / NarrowBlock * NarrowBlock;

    /// <summary>Visits the layout in storage order: (index, row of B, column of B or -1 for padding).</summary>
    static void ForEachElement(int k, int n, System.Action<long, int, int> visit)
    {
        int padded = PaddedColumns(n), wideColumns = n / WideBlock * WideBlock;
        for (int start = 0; start < padded;)
        {
            int width = start < wideColumns ? WideBlock : NarrowBlock;
            long offset = (long)k * start;
            for (int p = 0; p < k; p++)
                for (int j = 0; j < width; j++)
                    visit(offset + (long)p * width + j, p, start + j < n ? start + j : -1);
            start += width;
        }
    }
}
