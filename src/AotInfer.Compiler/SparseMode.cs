namespace AotInfer.Compiler;

/// <summary>How the compiler chooses between dense and sparse kernels for constant weight matrices.</summary>
public enum SparseMode
{
    /// <summary>A cost model picks, per layer, the format predicted to be fastest (dense unless sparse clearly wins).</summary>
    Auto,
    /// <summary>Always dense: the reference to measure what sparse kernels gain.</summary>
    Dense,
    /// <summary>The best sparse format wherever one applies, even when the cost model predicts a loss.</summary>
    Sparse,
    /// <summary>Compressed rows (CSR) wherever a sparse layout applies: to compare layouts and test kernels.</summary>
    Rows,
    /// <summary>4×1 blocks wherever a sparse layout applies.</summary>
    Blocks4x1,
    /// <summary>8×1 blocks wherever a sparse layout applies.</summary>
    Blocks8x1,
    /// <summary>16-output × 32-input bands (in-register permutes of the inputs) wherever a sparse layout applies.</summary>
    Bands,
}
