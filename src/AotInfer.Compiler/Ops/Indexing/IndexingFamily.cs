using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// Registers the indexing ops: Gather, GatherElements, GatherND, Pad, Trilu, DepthToSpace, SpaceToDepth, and the
/// scatter and selection ops ScatterElements, Scatter, ScatterND, ReverseSequence, Compress, NonZero.
/// </summary>
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
        yield return new ScatterLowering();
        yield return new ReverseSequenceLowering();
        yield return new CompressLowering();
        yield return new NonZeroLowering();
    }
}
