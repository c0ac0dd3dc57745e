namespace AotInfer.Kernels.Linear;

/// <summary>
/// The rows a <see cref="VectorMatrixMultiply"/> block kernel sums over: how many, each one's input value and its row
/// number in the block. A struct type argument, so the JIT compiles one copy of each kernel per kind of rows and the
/// dense walk keeps its plain addressing.
/// </summary>
interface IGemvRows
{
    /// <summary>Rows to sum.</summary>
    int Count { get; }

    /// <summary>The input value of the <paramref name="q"/>-th row.</summary>
    float Value(int q);

    /// <summary>The row number in the block (its weights start width·row floats in) of the <paramref name="q"/>-th row.</summary>
    nint Row(int q);
}

/// <summary>Every row: x[0..count), row q is row q.</summary>
readonly unsafe struct DenseRows(float* x, int count) : IGemvRows
{
    public int Count => count;

    public float Value(int q) => x[q];

    public nint Row(int q) => q;
}

/// <summary>The rows of non-zero inputs, as <see cref="ZeroInputSkipping.Gather"/> wrote them.</summary>
readonly unsafe struct GatheredRows(int* rows, float* values, int count) : IGemvRows
{
    public int Count => count;

    public float Value(int q) => values[q];

    public nint Row(int q) => rows[q];
}
