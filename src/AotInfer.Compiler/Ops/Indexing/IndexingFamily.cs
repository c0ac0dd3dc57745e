using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>Registers the scatter and selection ops: ScatterElements, Scatter, ScatterND, ReverseSequence, Compress, NonZero.</summary>
public static class IndexingFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new ScatterLowering();
        yield return new ReverseSequenceLowering();
        yield return new CompressLowering();
        yield return new NonZeroLowering();
    }
}
