using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Transformer;

/// <summary>
/// Attention (opset 23 and 24): scaled dot-product attention over Q, K, V (4-D per head, or 3-D with
/// <c>q_num_heads</c>/<c>kv_num_heads</c> packed into the last axis), with an optional boolean or additive mask,
/// past key/value caches, opset 24's <c>nonpad_kv_seqlen</c>, causal masking, softcap, grouped-query attention and
/// the optional present caches and <c>qk_matmul_output</c> (modes 0–3). Computation order, following the ONNX
/// reference: scale·Q·Kᵀ → softcap → + mask/causal/padding bias → softmax → ·V.
/// </summary>
public sealed class AttentionLowering : OpLowering
{
    const int QueryInput = 0, KeyInput = 1, ValueInput = 2, MaskInput = 3, PastKeyInput = 4, PastValueInput = 5, NonPadInput = 6;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Attention" };

    /// <summary>The static description of one node, shared by <see cref="Infer"/> and <see cref="Emit"/>.</summary>
    sealed class Plan
    {
        public DataType Type;
        public int Batch, QueryHeads, KeyValueHeads, QuerySequence, NewSequence, PastSequence, HeadSize, ValueHeadSize;
        public bool HeadsPacked;
        public int[] MaskShape = new int[0];
        public int TotalSequence => PastSequence + NewSequence;
        // Must equal AttentionGeometry.ScratchLength in the kernels (which this netstandard2.0 project cannot call);
        // the kernel checks the length it receives.
        public int ScratchLength =>
            QuerySequence * HeadSize + HeadSize * TotalSequence + TotalSequence * ValueHeadSize + QuerySequence * TotalSequence + QuerySequence * ValueHeadSize;
    }

    static string ShapeText(int[] shape) => Literals.Shape(shape);

    static Plan Analyse(OpContext op)
    {
        if (op.Opset < 23) throw op.Fail($"opset {op.Opset} is not supported (Attention exists from opset 23)");
        var plan = new Plan { Type = op.Type(QueryInput) };
        if (plan.Type is not (DataType.Float or DataType.Float16)) throw op.Fail($"Q element type {plan.Type} is not supported (float and float16 are)");
        for (int i = KeyInput; i <= ValueInput; i++)
            if (op.Type(i) != plan.Type) throw op.Fail($"input {i} ({(i == KeyInput ? "K" : "V")}) has element type {op.Type(i)}, Q has {plan.Type}");
        int[] q = op.Shape(QueryInput), k = op.Shape(KeyInput), v = op.Shape(ValueInput);
        if (q.Length != k.Length || q.Length != v.Length || q.Length is not (3 or 4))
            throw op.Fail($"Q, K and V must all be 3-D or all 4-D, got Q{ShapeText(q)} K{ShapeText(k)} V{ShapeText(v)}");
        if (k[0] != q[0] || v[0] != q[0]) throw op.Fail($"batch sizes differ: Q{ShapeText(q)} K{ShapeText(k)} V{ShapeText(v)}");
        plan.Batch = q[0];
        plan.HeadsPacked = q.Length == 3;
        if (plan.HeadsPacked)
        {
            long qHeads = op.Attributes.Int("q_num_heads", 0), kvHeads = op.Attributes.Int("kv_num_heads", 0);
            if (qHeads <= 0 || kvHeads <= 0) throw op.Fail("3-D inputs need positive q_num_heads and kv_num_heads attributes");
            if (q[2] % qHeads != 0) throw op.Fail($"Q hidden size {q[2]} is not a multiple of q_num_heads {qHeads}");
            if (k[2] % kvHeads != 0 || v[2] % kvHeads != 0) throw op.Fail($"K/V hidden sizes {k[2]}/{v[2]} are not multiples of kv_num_heads {kvHeads}");
            if (k[1] != v[1]) throw op.Fail($"K and V sequence lengths differ: K{ShapeText(k)} V{ShapeText(v)}");
            plan.QueryHeads = (int)qHeads;
            plan.KeyValueHeads = (int)kvHeads;
            plan.QuerySequence = q[1];
            plan.NewSequence = k[1];
            plan.HeadSize = q[2] / (int)qHeads;
            plan.ValueHeadSize = v[2] / (int)kvHeads;
            if (k[2] / (int)kvHeads != plan.HeadSize) throw op.Fail($"K head size {k[2] / kvHeads} differs from Q head size {plan.HeadSize}");
        }
        else
        {
            if (k[1] != v[1] || k[2] != v[2]) throw op.Fail($"K and V disagree on heads or sequence: K{ShapeText(k)} V{ShapeText(v)}");
            if (k[3] != q[3]) throw op.Fail($"K head size {k[3]} differs from Q head size {q[3]}");
            plan.QueryHeads = q[1];
            plan.KeyValueHeads = k[1];
            plan.QuerySequence = q[2];
            plan.NewSequence = k[2];
            plan.HeadSize = q[3];
            plan.ValueHeadSize = v[3];
            foreach (string name in new[] { "q_num_heads", "kv_num_heads" })
            {
                long heads = op.Attributes.Int(name, 0);
                int actual = name == "q_num_heads" ? plan.QueryHeads : plan.KeyValueHeads;
                if (heads != 0 && heads != actual) throw op.Fail($"{name}={heads} contradicts the 4-D input's {actual} heads");
            }
        }
        if (plan.KeyValueHeads == 0 || plan.QueryHeads % plan.KeyValueHeads != 0)
            throw op.Fail($"q_num_heads {plan.QueryHeads} is not a multiple of kv_num_heads {plan.KeyValueHeads}");

        if (op.HasInput(PastKeyInput) != op.HasInput(PastValueInput)) throw op.Fail("past_key and past_value must be given together");
        if (op.HasInput(PastKeyInput))
        {
            int[] pk = op.Shape(PastKeyInput), pv = op.Shape(PastValueInput);
            if (op.Type(PastKeyInput) != plan.Type || op.Type(PastValueInput) != plan.Type) throw op.Fail("past_key and past_value must have Q's element type");
            if (pk.Length != 4 || pk[0] != plan.Batch || pk[1] != plan.KeyValueHeads || pk[3] != plan.HeadSize)
                throw op.Fail($"past_key{ShapeText(pk)} must be [{plan.Batch}, {plan.KeyValueHeads}, past, {plan.HeadSize}]");
            if (pv.Length != 4 || pv[0] != plan.Batch || pv[1] != plan.KeyValueHeads || pv[2] != pk[2] || pv[3] != plan.ValueHeadSize)
                throw op.Fail($"past_value{ShapeText(pv)} must be [{plan.Batch}, {plan.KeyValueHeads}, {pk[2]}, {plan.ValueHeadSize}]");
            plan.PastSequence = pk[2];
        }

        if (op.HasInput(MaskInput))
        {
            var maskType = op.Type(MaskInput);
            if (maskType != DataType.Bool && maskType != plan.Type) throw op.Fail($"attn_mask element type {maskType} must be bool or {plan.Type}");
            int[] mask = op.Shape(MaskInput);
            if (mask.Length is < 1 or > 4) throw op.Fail($"attn_mask{ShapeText(mask)} must have rank 1 to 4");
            int[] full = Enumerable.Repeat(1, 4 - mask.Length).Concat(mask).ToArray();
            int[] target = { plan.Batch, plan.QueryHeads, plan.QuerySequence, plan.TotalSequence };
            for (int axis = 0; axis < 3; axis++)
                if (full[axis] != 1 && full[axis] != target[axis])
                    throw op.Fail($"attn_mask{ShapeText(mask)} does not broadcast to [{string.Join(", ", target)}]");
            if (full[3] > plan.TotalSequence) throw op.Fail($"attn_mask{ShapeText(mask)} is longer than the total sequence {plan.TotalSequence}");
            plan.MaskShape = full;
        }

        if (op.HasInput(NonPadInput))
        {
            if (op.Opset < 24) throw op.Fail("nonpad_kv_seqlen (input 6) needs opset 24");
            if (op.Type(NonPadInput) != DataType.Int64 || op.Shape(NonPadInput).Length != 1 || op.Shape(NonPadInput)[0] != plan.Batch)
                throw op.Fail($"nonpad_kv_seqlen must be an int64 vector of {plan.Batch} lengths");
        }

        long causal = op.Attributes.Int("is_causal", 0);
        if (causal is not (0 or 1)) throw op.Fail($"is_causal must be 0 or 1, got {causal}");
        long mode = op.Attributes.Int("qk_matmul_output_mode", 0);
        if (mode is < 0 or > 3) throw op.Fail($"qk_matmul_output_mode {mode} must be 0, 1, 2 or 3");
        // The kernel computes the softmax in float whatever the requested precision; float16/bfloat16 inputs are widened.
        long precision = op.Attributes.Int("softmax_precision", (long)DataType.Float);
        if (precision is not ((long)DataType.Float or (long)DataType.Float16 or (long)DataType.BFloat16 or (long)DataType.Double))
            throw op.Fail($"softmax_precision {precision} must be float, float16, bfloat16 or double");
        return plan;
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var plan = Analyse(op);
        op.SetOutput(0, plan.Type, plan.HeadsPacked
            ? new[] { plan.Batch, plan.QuerySequence, plan.QueryHeads * plan.ValueHeadSize }
            : new[] { plan.Batch, plan.QueryHeads, plan.QuerySequence, plan.ValueHeadSize });
        op.SetOutput(1, plan.Type, new[] { plan.Batch, plan.KeyValueHeads, plan.TotalSequence, plan.HeadSize });
        op.SetOutput(2, plan.Type, new[] { plan.Batch, plan.KeyValueHeads, plan.TotalSequence, plan.ValueHeadSize });
        op.SetOutput(3, plan.Type, new[] { plan.Batch, plan.QueryHeads, plan.QuerySequence, plan.TotalSequence });
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var plan = Analyse(op);
        string t = DataTypes.CSharpName(plan.Type);
        string kernels = EmitContext.Kernels + ".Transformer";
        string empty = $"global::System.ReadOnlySpan<{t}>.Empty";
        string emptyOut = $"global::System.Span<{t}>.Empty";
        bool boolMask = op.HasInput(MaskInput) && op.Type(MaskInput) == DataType.Bool;
        string additiveMask = op.HasInput(MaskInput) && !boolMask ? code.In(MaskInput) : empty;
        string booleanMask = boolMask ? code.In(MaskInput) : "global::System.ReadOnlySpan<bool>.Empty";
        string maskShape = op.HasInput(MaskInput) ? code.IntArray(plan.MaskShape) : "global::System.ReadOnlySpan<int>.Empty";
        string pastKey = op.HasInput(PastKeyInput) ? code.In(PastKeyInput) : empty;
        string pastValue = op.HasInput(PastValueInput) ? code.In(PastValueInput) : empty;
        string nonPad = op.HasInput(NonPadInput) ? code.In(NonPadInput) : "global::System.ReadOnlySpan<long>.Empty";
        string presentKey = op.OutputCount > 1 ? code.Out(1) : emptyOut;
        string presentValue = op.OutputCount > 2 ? code.Out(2) : emptyOut;
        string scores = op.OutputCount > 3 ? code.Out(3) : emptyOut;
        long mode = op.Attributes.Int("qk_matmul_output_mode", 0);
        string stage = op.OutputCount > 3
            ? mode switch { 0 => "MatMul", 1 => "AfterSoftcap", 2 => "AfterMask", _ => "AfterSoftmax" }
            : "None";
        float scale = op.Attributes.Has("scale") ? op.Attributes.Float("scale", 1f) : (float)(1.0 / Math.Sqrt(plan.HeadSize));
        float softcap = op.Attributes.Float("softcap", 0f);
        bool causal = op.Attributes.Int("is_causal", 0) == 1;
        string scratch = code.Scratch(DataType.Float, plan.ScratchLength);
        code.Writer.Line($"var geometry = new {kernels}.AttentionGeometry(batch: {plan.Batch}, queryHeads: {plan.QueryHeads}, keyValueHeads: {plan.KeyValueHeads}, " +
                         $"querySequence: {plan.QuerySequence}, newSequence: {plan.NewSequence}, pastSequence: {plan.PastSequence}, headSize: {plan.HeadSize}, " +
                         $"valueHeadSize: {plan.ValueHeadSize}, headsPacked: {(plan.HeadsPacked ? "true" : "false")});");
        code.Writer.Line($"var options = new {kernels}.AttentionOptions(scale: {Literals.Float(scale)}, softcap: {Literals.Float(softcap)}, " +
                         $"isCausal: {(causal ? "true" : "false")}, scoresStage: {kernels}.AttentionScoresStage.{stage});");
        code.Writer.Line($"{kernels}.ScaledDotProductAttention.Compute<{t}>({code.In(QueryInput)}, {code.In(KeyInput)}, {code.In(ValueInput)}, " +
                         $"{additiveMask}, {booleanMask}, {maskShape}, {pastKey}, {pastValue}, {nonPad}, " +
                         $"{code.Out(0)}, {presentKey}, {presentValue}, {scores}, geometry, options, {scratch});");
    }
}
