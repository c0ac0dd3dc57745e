using System;
using System.Numerics;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Transformer;

/// <summary>
/// ONNX Attention (opset 23/24): softmax(softcap(scale · Q·Kᵀ) + bias) · V per batch and query head, where the
/// bias combines the attention mask, the causal mask and the key padding given by <c>nonpad_kv_seqlen</c>.
/// Keys and values are the past caches followed by the new K and V; with fewer key/value heads than query heads,
/// query head h reads key/value head h / (query heads / key/value heads). All arithmetic runs in float (float16
/// inputs are widened), one head at a time in caller-provided scratch, so a call allocates nothing.
/// </summary>
public static class ScaledDotProductAttention
{
    /// <summary>Computes the attention output and the optional present caches and scores.</summary>
    /// <param name="query">Q, 4-D [B, Hq, Sq, D] or 3-D [B, Sq, Hq·D].</param>
    /// <param name="key">K, [B, Hkv, Skv, D] or [B, Skv, Hkv·D].</param>
    /// <param name="value">V, [B, Hkv, Skv, Dv] or [B, Skv, Hkv·Dv].</param>
    /// <param name="additiveMask">A mask of the element type added to the scores, or empty.</param>
    /// <param name="booleanMask">A boolean mask (true = attend), or empty.</param>
    /// <param name="maskShape">
    /// The mask's shape right-aligned to four dims [B, Hq, Sq, S] (leading 1s added). Size-1 dims broadcast except
    /// the last, which, when shorter than the total sequence, masks the keys past its end.
    /// </param>
    /// <param name="pastKey">Past keys [B, Hkv, Spast, D], or empty.</param>
    /// <param name="pastValue">Past values [B, Hkv, Spast, Dv], or empty.</param>
    /// <param name="nonPaddedKeyLengths">Per batch, how many leading keys are valid ([B]), or empty.</param>
    /// <param name="output">Y, [B, Hq, Sq, Dv] or [B, Sq, Hq·Dv].</param>
    /// <param name="presentKey">Past and new keys [B, Hkv, S, D], or empty when not requested.</param>
    /// <param name="presentValue">Past and new values [B, Hkv, S, Dv], or empty when not requested.</param>
    /// <param name="scores">The scores [B, Hq, Sq, S] at the stage <see cref="AttentionOptions.ScoresStage"/> says, or empty.</param>
    /// <param name="geometry">The static sizes.</param>
    /// <param name="options">Scale, softcap, causality and the scores stage.</param>
    /// <param name="scratch">At least <see cref="AttentionGeometry.ScratchLength"/> floats.</param>
    public static void Compute<T>(ReadOnlySpan<T> query, ReadOnlySpan<T> key, ReadOnlySpan<T> value,
        ReadOnlySpan<T> additiveMask, ReadOnlySpan<bool> booleanMask, ReadOnlySpan<int> maskShape,
        ReadOnlySpan<T> pastKey, ReadOnlySpan<T> pastValue, ReadOnlySpan<long> nonPaddedKeyLengths,
        Span<T> output, Span<T> presentKey, Span<T> presentValue, Span<T> scores,
        in AttentionGeometry geometry, in AttentionOptions options, Span<float> scratch)
        where T : unmanaged, INumberBase<T>
    {
        var g = geometry;
        int d = g.HeadSize, dv = g.ValueHeadSize, sq = g.QuerySequence, total = g.TotalSequence, past = g.PastSequence;
        if (scratch.Length < g.ScratchLength) throw new ArgumentException($"attention needs {g.ScratchLength} floats of scratch, got {scratch.Length}", nameof(scratch));
        bool hasMask = !additiveMask.IsEmpty || !booleanMask.IsEmpty;
        if (hasMask && maskShape.Length != 4) throw new ArgumentException("the mask shape must have four dims", nameof(maskShape));

        Span<float> queries = scratch.Slice(0, sq * d);
        Span<float> keysTransposed = scratch.Slice(queries.Length, d * total);
        Span<float> values = scratch.Slice(queries.Length + keysTransposed.Length, total * dv);
        Span<float> probabilities = scratch.Slice(queries.Length + keysTransposed.Length + values.Length, sq * total);
        Span<float> context = scratch.Slice(queries.Length + keysTransposed.Length + values.Length + probabilities.Length, sq * dv);
        int group = g.QueryHeads / g.KeyValueHeads;

        for (int b = 0; b < g.Batch; b++)
        {
            for (int kvHead = 0; kvHead < g.KeyValueHeads; kvHead++)
            {
                GatherKeysAndValues(key, value, pastKey, pastValue, presentKey, presentValue, g, b, kvHead, keysTransposed, values);
                for (int member = 0; member < group; member++)
                {
                    int head = kvHead * group + member;
                    for (int i = 0; i < sq; i++)
                    {
                        ReadOnlySpan<T> row = query.Slice(RowOffset(g.HeadsPacked, b, head, i, g.QueryHeads, sq, d), d);
                        Span<float> target = queries.Slice(i * d, d);
                        for (int c = 0; c < d; c++) target[c] = float.CreateTruncating(row[c]) * options.Scale;
                    }
                    MatrixMultiply.Multiply(queries, d, keysTransposed, total, probabilities, total, sq, total, d);
                    for (int i = 0; i < sq; i++)
                    {
                        Span<float> row = probabilities.Slice(i * total, total);
                        Span<T> scoresRow = scores.IsEmpty ? Span<T>.Empty : scores.Slice((((b * g.QueryHeads) + head) * sq + i) * total, total);
                        if (options.ScoresStage == AttentionScoresStage.MatMul) Store(row, scoresRow);
                        if (options.Softcap > 0) ApplySoftcap(row, options.Softcap);
                        if (options.ScoresStage == AttentionScoresStage.AfterSoftcap) Store(row, scoresRow);
                        AddBias(row, additiveMask, booleanMask, maskShape, nonPaddedKeyLengths, options.IsCausal, b, head, i, sq, past);
                        if (options.ScoresStage == AttentionScoresStage.AfterMask) Store(row, scoresRow);
                        Softmax(row);
                        if (options.ScoresStage == AttentionScoresStage.AfterSoftmax) Store(row, scoresRow);
                    }
                    MatrixMultiply.Multiply(probabilities, total, values, dv, context, dv, sq, dv, total);
                    for (int i = 0; i < sq; i++)
                    {
                        Span<T> target = output.Slice(RowOffset(g.HeadsPacked, b, head, i, g.QueryHeads, sq, dv), dv);
                        ReadOnlySpan<float> source = context.Slice(i * dv, dv);
                        for (int c = 0; c < dv; c++) target[c] = T.CreateTruncating(source[c]);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Start of the head row (b, head, position) in a 4-D [B, H, S, size] tensor, or in a 3-D [B, S, H·size] one
    /// when the heads are packed; the row itself is always contiguous.
    /// </summary>
    static int RowOffset(bool headsPacked, int b, int head, int position, int heads, int sequence, int size) =>
        headsPacked ? ((b * sequence + position) * heads + head) * size : ((b * heads + head) * sequence + position) * size;

    /// <summary>Widens one key/value head (past rows, then new rows) into scratch, copying it to the present caches on the way.</summary>
    static void GatherKeysAndValues<T>(ReadOnlySpan<T> key, ReadOnlySpan<T> value, ReadOnlySpan<T> pastKey, ReadOnlySpan<T> pastValue,
        Span<T> presentKey, Span<T> presentValue, in AttentionGeometry g, int b, int kvHead, Span<float> keysTransposed, Span<float> values)
        where T : unmanaged, INumberBase<T>
    {
        int d = g.HeadSize, dv = g.ValueHeadSize, past = g.PastSequence, total = g.TotalSequence;
        for (int j = 0; j < total; j++)
        {
            ReadOnlySpan<T> keyRow = j < past
                ? pastKey.Slice(((b * g.KeyValueHeads + kvHead) * past + j) * d, d)
                : key.Slice(RowOffset(g.HeadsPacked, b, kvHead, j - past, g.KeyValueHeads, g.NewSequence, d), d);
            ReadOnlySpan<T> valueRow = j < past
                ? pastValue.Slice(((b * g.KeyValueHeads + kvHead) * past + j) * dv, dv)
                : value.Slice(RowOffset(g.HeadsPacked, b, kvHead, j - past, g.KeyValueHeads, g.NewSequence, dv), dv);
            int presentRow = (b * g.KeyValueHeads + kvHead) * total + j;
            if (!presentKey.IsEmpty) keyRow.CopyTo(presentKey.Slice(presentRow * d, d));
            if (!presentValue.IsEmpty) valueRow.CopyTo(presentValue.Slice(presentRow * dv, dv));
            for (int c = 0; c < d; c++) keysTransposed[c * total + j] = float.CreateTruncating(keyRow[c]);
            Span<float> valueTarget = values.Slice(j * dv, dv);
            for (int c = 0; c < dv; c++) valueTarget[c] = float.CreateTruncating(valueRow[c]);
        }
    }

    /// <summary>score = softcap · tanh(score / softcap): bounds the scores smoothly to (−softcap, softcap).</summary>
    static void ApplySoftcap(Span<float> row, float softcap)
    {
        for (int j = 0; j < row.Length; j++) row[j] = softcap * MathF.Tanh(row[j] / softcap);
    }

    /// <summary>Adds the mask value (or −∞ for a false boolean or a key past the mask's end), the causal −∞ and the padding −∞.</summary>
    static void AddBias<T>(Span<float> row, ReadOnlySpan<T> additiveMask, ReadOnlySpan<bool> booleanMask, ReadOnlySpan<int> maskShape,
        ReadOnlySpan<long> nonPaddedKeyLengths, bool isCausal, int b, int head, int i, int querySequence, int past)
        where T : unmanaged, INumberBase<T>
    {
        int total = row.Length;
        if (!additiveMask.IsEmpty || !booleanMask.IsEmpty)
        {
            int maskKeys = maskShape[3];
            int start = (((maskShape[0] == 1 ? 0 : b) * maskShape[1] + (maskShape[1] == 1 ? 0 : head)) * maskShape[2] + (maskShape[2] == 1 ? 0 : i)) * maskKeys;
            int covered = Math.Min(maskKeys, total);
            if (!booleanMask.IsEmpty)
            {
                ReadOnlySpan<bool> mask = booleanMask.Slice(start, covered);
                for (int j = 0; j < covered; j++) if (!mask[j]) row[j] = float.NegativeInfinity;
            }
            else
            {
                ReadOnlySpan<T> mask = additiveMask.Slice(start, covered);
                for (int j = 0; j < covered; j++) row[j] += float.CreateTruncating(mask[j]);
            }
            // A mask shorter than the key sequence leaves the keys after it masked out.
            row.Slice(covered).Fill(float.NegativeInfinity);
        }
        long validKeys = nonPaddedKeyLengths.IsEmpty ? total : nonPaddedKeyLengths[b];
        if (isCausal)
        {
            // Bottom-right alignment: query i sits after the past keys, or after the valid keys of a static cache.
            long offset = past > 0 || nonPaddedKeyLengths.IsEmpty ? past : validKeys - querySequence;
            long lastAllowed = i + offset;
            for (int j = (int)Math.Clamp(lastAllowed + 1, 0, total); j < total; j++) row[j] = float.NegativeInfinity;
        }
        if (validKeys < total) row.Slice((int)Math.Max(validKeys, 0)).Fill(float.NegativeInfinity);
    }

    /// <summary>
    /// Numerically stable softmax in place. A row that is entirely −∞ becomes NaN, as in the ONNX reference
    /// (there is no key to attend to).
    /// </summary>
    static void Softmax(Span<float> row)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < row.Length; j++) max = MathF.Max(max, row[j]);
        float sum = 0;
        for (int j = 0; j < row.Length; j++)
        {
            float e = MathF.Exp(row[j] - max);
            row[j] = e;
            sum += e;
        }
        float inverse = 1 / sum;
        for (int j = 0; j < row.Length; j++) row[j] *= inverse;
    }

    static void Store<T>(ReadOnlySpan<float> row, Span<T> target) where T : unmanaged, INumberBase<T>
    {
        if (target.IsEmpty) return;
        for (int j = 0; j < row.Length; j++) target[j] = T.CreateTruncating(row[j]);
    }
}
