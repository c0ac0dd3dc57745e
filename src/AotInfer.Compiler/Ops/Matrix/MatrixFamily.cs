using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Matrix;

/// <summary>Registers the small matrix ops: EyeLike and Det.</summary>
public static class MatrixFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new EyeLikeLowering();
        yield return new DetLowering();
    }
}
