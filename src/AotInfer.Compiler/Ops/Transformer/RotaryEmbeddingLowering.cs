using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Transformer;

/// <summary>
/// RotaryEmbedding (opset 23): input 4-D [B, H, S, D] or 3-D [B, S, H·D] with the <c>num_heads</c> attribute;
/// cos/sin caches [maxPosition, rotary_dim/2] indexed by the optional position_ids [B, S], or [B, S, rotary_dim/2]
/// without them; attributes <c>interleaved</c> and <c>rotary_embedding_dim</c> (0 = the whole head).
/// </summary>
public sealed class RotaryEmbeddingLowering : OpLowering
{
    const int InputIndex = 0, CosInput = 1, SinInput = 2, PositionInput = 3;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "RotaryEmbedding" };

    sealed class Plan
    {
        public int Batch, Heads, Sequence, HeadSize, RotaryDim;
        public bool HeadsPacked, Interleaved;
    }

    static Plan Analyse(OpContext op)
    {
        if (op.Opset < 23) throw op.Fail($"opset {op.Opset} is not supported (RotaryEmbedding exists from opset 23)");
        var type = op.Type(InputIndex);
        if (type is not (DataType.Float or DataType.Float16)) throw op.Fail($"input element type {type} is not supported (float and float16 are)");
        if (op.Type(CosInput) != type || op.Type(SinInput) != type) throw op.Fail($"cos_cache and sin_cache must have the input's element type {type}");
        int[] x = op.Shape(InputIndex);
        var plan = new Plan { Interleaved = op.Attributes.Int("interleaved", 0) != 0, Batch = x[0] };
        long numHeads = op.Attributes.Int("num_heads", 0);
        if (x.Length == 3)
        {
            if (numHeads <= 0) throw op.Fail("3-D input needs a positive num_heads attribute");
            if (x[2] % numHeads != 0) throw op.Fail($"hidden size {x[2]} is not a multiple of num_heads {numHeads}");
            plan.HeadsPacked = true;
            plan.Heads = (int)numHeads;
            plan.Sequence = x[1];
            plan.HeadSize = x[2] / (int)numHeads;
        }
        else if (x.Length == 4)
        {
            if (numHeads != 0 && numHeads != x[1]) throw op.Fail($"num_heads={numHeads} contradicts the 4-D input's {x[1]} heads");
            plan.Heads = x[1];
            plan.Sequence = x[2];
            plan.HeadSize = x[3];
        }
        else throw op.Fail($"input{Literals.Shape(x)} must be 3-D or 4-D");

        long rotaryDim = op.Attributes.Int("rotary_embedding_dim", 0);
        if (rotaryDim == 0) rotaryDim = plan.HeadSize;
        if (rotaryDim < 0 || rotaryDim > plan.HeadSize || rotaryDim % 2 != 0)
            throw op.Fail($"rotary_embedding_dim {rotaryDim} must be even and at most the head size {plan.HeadSize}");
        plan.RotaryDim = (int)rotaryDim;
        int half = plan.RotaryDim / 2;

        int[] cos = op.Shape(CosInput), sin = op.Shape(SinInput);
        if (!Literals.Shape(cos).Equals(Literals.Shape(sin))) throw op.Fail($"cos_cache{Literals.Shape(cos)} and sin_cache{Literals.Shape(sin)} differ");
        if (op.HasInput(PositionInput))
        {
            int[] positions = op.Shape(PositionInput);
            if (op.Type(PositionInput) != DataType.Int64) throw op.Fail($"position_ids must be int64, got {op.Type(PositionInput)}");
            if (positions.Length != 2 || positions[0] != plan.Batch || positions[1] != plan.Sequence)
                throw op.Fail($"position_ids{Literals.Shape(positions)} must be [{plan.Batch}, {plan.Sequence}]");
            if (cos.Length != 2 || cos[1] != half) throw op.Fail($"with position_ids, cos_cache{Literals.Shape(cos)} must be [max_position, {half}]");
        }
        else if (cos.Length != 3 || cos[0] != plan.Batch || cos[1] != plan.Sequence || cos[2] != half)
            throw op.Fail($"without position_ids, cos_cache{Literals.Shape(cos)} must be [{plan.Batch}, {plan.Sequence}, {half}]");
        return plan;
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        Analyse(op);
        op.SetOutput(0, op.Type(InputIndex), op.Shape(InputIndex));
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var plan = Analyse(op);
        string positions = op.HasInput(PositionInput) ? code.In(PositionInput) : "global::System.ReadOnlySpan<long>.Empty";
        code.Writer.Line($"{EmitContext.Kernels}.Transformer.RotaryEmbedding.Apply<{code.InType(InputIndex)}>({code.In(InputIndex)}, {code.In(CosInput)}, {code.In(SinInput)}, " +
                         $"{positions}, {code.Out(0)}, batch: {plan.Batch}, heads: {plan.Heads}, sequence: {plan.Sequence}, headSize: {plan.HeadSize}, " +
                         $"rotaryDim: {plan.RotaryDim}, headsPacked: {(plan.HeadsPacked ? "true" : "false")}, interleaved: {(plan.Interleaved ? "true" : "false")});");
    }
}
