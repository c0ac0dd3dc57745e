using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>Registers the indexing and data-movement ops: Gather, GatherElements, GatherND, Pad, Trilu, DepthToSpace, SpaceToDepth.</summary>
public static class IndexingFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new GatherLowering();
        yield return new GatherElementsLowering();
        yield return new GatherNDLowering();
        yield return new PadLowering();
        yield return new TriluLowering();
        yield return new DepthSpaceLowering();
    }
}
