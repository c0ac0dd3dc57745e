using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Reduction;

/// <summary>Registers the reductions: Reduce*, ArgMax/ArgMin and TopK.</summary>
public static class ReductionFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new ReduceLowering("ReduceSum", ReduceKind.Sum);
        yield return new ReduceLowering("ReduceMean", ReduceKind.Mean);
        yield return new ReduceLowering("ReduceProd", ReduceKind.Prod);
        yield return new ReduceLowering("ReduceMax", ReduceKind.Max);
        yield return new ReduceLowering("ReduceMin", ReduceKind.Min);
        yield return new ReduceLowering("ReduceSumSquare", ReduceKind.SumSquare);
        yield return new ReduceLowering("ReduceL1", ReduceKind.L1);
        yield return new ReduceLowering("ReduceL2", ReduceKind.L2);
        yield return new ReduceLowering("ReduceLogSum", ReduceKind.LogSum);
        yield return new ReduceLowering("ReduceLogSumExp", ReduceKind.LogSumExp);
        yield return new ArgReduceLowering(largest: true);
        yield return new ArgReduceLowering(largest: false);
        yield return new TopKLowering();
    }
}
