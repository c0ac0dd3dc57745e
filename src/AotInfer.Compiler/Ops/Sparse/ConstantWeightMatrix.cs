namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>
/// The constant B operand of a product C[m×n] = A[m×k]·B as the model stores it: k×n, or n×k when
/// <see cref="Transposed"/> (Gemm's transB), with row stride <see cref="Ldb"/>. Indexed by the logical (k, n).
/// </summary>
internal readonly struct ConstantWeightMatrix
{
    readonly float[] _data;

    /// <summary>Wraps the stored weights.</summary>
    public ConstantWeightMatrix(float[] data, int k, int n, int ldb, bool transposed)
    {
        _data = data;
        K = k;
        N = n;
        Ldb = ldb;
        Transposed = transposed;
    }

    /// <summary>The summed dimension.</summary>
    public int K { get; }

    /// <summary>The output dimension.</summary>
    public int N { get; }

    /// <summary>Row stride as stored.</summary>
    public int Ldb { get; }

    /// <summary>Stored n×k.</summary>
    public bool Transposed { get; }

    /// <summary>B[k, n].</summary>
    public float this[int k, int n] => Transposed ? _data[n * Ldb + k] : _data[k * Ldb + n];
}
