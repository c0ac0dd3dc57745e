namespace AotInfer.Kernels.Transformer;

/// <summary>Which intermediate score matrix the optional <c>qk_matmul_output</c> of ONNX Attention holds.</summary>
public enum AttentionScoresStage
{
    /// <summary>No scores are written (the output is absent).</summary>
    None = -1,
    /// <summary>The scaled Q·Kᵀ product (mode 0).</summary>
    MatMul = 0,
    /// <summary>After the softcap (equal to <see cref="MatMul"/> without softcap; mode 1).</summary>
    AfterSoftcap = 1,
    /// <summary>After adding the mask, causal and padding biases (mode 2).</summary>
    AfterMask = 2,
    /// <summary>The attention probabilities after softmax (mode 3).</summary>
    AfterSoftmax = 3,
}

/// <summary>
/// The static sizes of one ONNX Attention node. Inputs are either 4-D ([batch, heads, sequence, head size]) or
/// 3-D with the heads packed into the last axis ([batch, sequence, heads · head size]); past and present key/value
/// caches are always 4-D.
/// </summary>
public readonly struct AttentionGeometry
{
    /// <summary>Creates the geometry.</summary>
    /// <param name="batch">Batch size.</param>
    /// <param name="queryHeads">Number of query heads.</param>
    /// <param name="keyValueHeads">Number of key/value heads (divides <paramref name="queryHeads"/>; fewer means grouped-query attention).</param>
    /// <param name="querySequence">Query sequence length.</param>
    /// <param name="newSequence">Sequence length of the K and V inputs.</param>
    /// <param name="pastSequence">Sequence length of the past key/value caches (0 without caches).</param>
    /// <param name="headSize">Head size of Q and K.</param>
    /// <param name="valueHeadSize">Head size of V.</param>
    /// <param name="headsPacked">True for 3-D inputs and output ([batch, sequence, heads · head size]).</param>
    public AttentionGeometry(int batch, int queryHeads, int keyValueHeads, int querySequence, int newSequence, int pastSequence,
        int headSize, int valueHeadSize, bool headsPacked)
    {
        Batch = batch;
        QueryHeads = queryHeads;
        KeyValueHeads = keyValueHeads;
        QuerySequence = querySequence;
        NewSequence = newSequence;
        PastSequence = pastSequence;
        HeadSize = headSize;
        ValueHeadSize = valueHeadSize;
        HeadsPacked = headsPacked;
    }

    /// <summary>Batch size.</summary>
    public int Batch { get; }
    /// <summary>Number of query heads.</summary>
    public int QueryHeads { get; }
    /// <summary>Number of key/value heads.</summary>
    public int KeyValueHeads { get; }
    /// <summary>Query sequence length.</summary>
    public int QuerySequence { get; }
    /// <summary>Sequence length of the new K and V inputs.</summary>
    public int NewSequence { get; }
    /// <summary>Sequence length of the past caches.</summary>
    public int PastSequence { get; }
    /// <summary>Head size of Q and K.</summary>
    public int HeadSize { get; }
    /// <summary>Head size of V.</summary>
    public int ValueHeadSize { get; }
    /// <summary>True for 3-D inputs and output.</summary>
    public bool HeadsPacked { get; }

    /// <summary>Past plus new sequence length: the number of keys every query scores.</summary>
    public int TotalSequence => PastSequence + NewSequence;

    /// <summary>Floats of scratch the kernel needs: one head's queries, transposed keys, values, scores and context.</summary>
    public int ScratchLength =>
        QuerySequence * HeadSize + HeadSize * TotalSequence + TotalSequence * ValueHeadSize + QuerySequence * TotalSequence + QuerySequence * ValueHeadSize;
}

/// <summary>The attribute-derived settings of one ONNX Attention node.</summary>
public readonly struct AttentionOptions
{
    /// <summary>Creates the options.</summary>
    /// <param name="scale">Factor applied to Q·Kᵀ.</param>
    /// <param name="softcap">Scores become softcap · tanh(scores / softcap) when positive; 0 disables it.</param>
    /// <param name="isCausal">Masks keys after each query's position (offset by the past length or the non-padded length).</param>
    /// <param name="scoresStage">What the optional scores output holds.</param>
    public AttentionOptions(float scale, float softcap, bool isCausal, AttentionScoresStage scoresStage)
    {
        Scale = scale;
        Softcap = softcap;
        IsCausal = isCausal;
        ScoresStage = scoresStage;
    }

    /// <summary>Factor applied to Q·Kᵀ.</summary>
    public float Scale { get; }
    /// <summary>Softcap, or 0 for none.</summary>
    public float Softcap { get; }
    /// <summary>True for causal masking.</summary>
    public bool IsCausal { get; }
    /// <summary>What the optional scores output holds.</summary>
    public AttentionScoresStage ScoresStage { get; }
}
