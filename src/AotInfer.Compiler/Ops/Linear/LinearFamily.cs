using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>Registers the matrix-product ops: MatMul, Gemm and Einsum.</summary>
public static class LinearFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new MatMulLowering();
        yield return new GemmLowering();
        yield return new EinsumLowering();
    }
}
