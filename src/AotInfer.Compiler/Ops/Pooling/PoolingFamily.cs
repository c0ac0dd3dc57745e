using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Pooling;

/// <summary>Registers the pooling ops: windowed and global max, average and Lp pools, and MaxUnpool.</summary>
public static class PoolingFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new PoolLowering("MaxPool", PoolKind.Max);
        yield return new PoolLowering("AveragePool", PoolKind.Average);
        yield return new PoolLowering("LpPool", PoolKind.Lp);
        yield return new GlobalPoolLowering("GlobalMaxPool", PoolKind.Max);
        yield return new GlobalPoolLowering("GlobalAveragePool", PoolKind.Average);
        yield return new GlobalPoolLowering("GlobalLpPool", PoolKind.Lp);
        yield return new MaxUnpoolLowering();
    }
}
