using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Transformer;

/// <summary>Registers the transformer building blocks: Attention and RotaryEmbedding.</summary>
public static class TransformerFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new AttentionLowering();
        yield return new RotaryEmbeddingLowering();
    }
}
