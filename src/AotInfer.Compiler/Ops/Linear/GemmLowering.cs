using System.Globalization;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>
/// ONNX Gemm: Y = alpha·op(A)·op(B) + beta·C. Opsets 1–6 carry a <c>broadcast</c> attribute (C must be exactly
/// [M, N] when it is 0); from opset 7 C broadcasts unidirectionally to [M, N]; from opset 11 C is optional; opset 9
/// adds integer types. The product runs on the GEMM (a constant B is packed once, transposed or not), then one
/// epilogue pass applies alpha and the broadcast bias.
/// </summary>
public sealed class GemmLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Gemm" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var plan = Plan(op);
        op.SetOutput(0, op.Type(0), new[] { plan.Product.M, plan.Product.N });
        string epilogue = plan.Product.UsesGemv(op.Type(0), op.Input(1).Constant is not null) && GemvTakesEpilogue(plan) ? "" :
            plan.HasBias ? $"; then alpha={Format(plan.Alpha)}, beta={Format(plan.Beta)} with C broadcast" :
            plan.Alpha != 1 ? $"; then alpha={Format(plan.Alpha)}" : "";
        op.Node.Annotations["kernel"] = plan.Product.Describe(op.Type(0), op.Input(1).Constant is not null) + epilogue;
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var plan = Plan(op);
        var type = op.Type(0);
        var product = plan.Product;
        var fused = Passes.FusedEpilogue.Of(op.Node);
        string bias = plan.HasBias ? code.In(2) : $"global::System.ReadOnlySpan<{code.OutType(0)}>.Empty";
        // Bias (one per column, the same for every row) and activation can go into the GEMV or sparse kernel call.
        bool inCall = GemvTakesEpilogue(plan) && (product.M == 1 || plan.BiasRowStride == 0);
        string activation = fused?.Expression() ?? MatrixProduct.NoActivation;
        // A sparse kernel, when the cost model picks one, replaces the dense product (and may apply the epilogue).
        bool sparse = Sparse.SparseProductEmitter.TryEmit(op, code, product, code.Out(0), inCall ? bias : null, inCall ? activation : null, out bool applied);
        if (applied) return;
        if (!sparse && product.UsesGemv(type, op.Input(1).Constant is not null))
        {
            // One row: bias and activation go into the GEMV call when it can take them; other epilogues follow it.
            product.EmitGemv(code, op, 0, 1, code.Out(0), inCall ? bias : "global::System.ReadOnlySpan<float>.Empty", inCall ? activation : MatrixProduct.NoActivation);
            if (inCall) return;
        }
        else if (!sparse) product.Emit(code, type, 0, 1, op.Input(1).Constant is not null, code.Out(0));
        if (fused is not null && plan.Alpha == 1 && (!plan.HasBias || plan.Beta == 1))
        {
            // Bias and fused activation in one pass over the product.
            code.Writer.Line($"{fused.Expression()}.ApplyRows({code.Out(0)}, {Literals.Int(product.M)}, {Literals.Int(product.N)}, {bias}, " +
                             $"{Literals.Int(plan.BiasRowStride)}, {Literals.Int(plan.BiasColumnStride)});");
            return;
        }
        if (plan.HasBias || plan.Alpha != 1)
            code.Writer.Line($"{EmitContext.Kernels}.Linear.GemmEpilogue.Apply<{code.OutType(0)}>({code.Out(0)}, {Literals.Int(product.M)}, {Literals.Int(product.N)}, " +
                         $"{EmitContext.Literal(type, plan.Alpha)}, {bias}, {Literals.Int(plan.BiasRowStride)}, {Literals.Int(plan.BiasColumnStride)}, {EmitContext.Literal(type, plan.Beta)});");
        if (fused is not null)
            code.Writer.Line($"{fused.Expression()}.ApplyRows({code.Out(0)}, {Literals.Int(product.M)}, {Literals.Int(product.N)}, global::System.ReadOnlySpan<float>.Empty, 0, 0);");
    }

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) =>
        // The GEMV and the sparse kernels take B laid out at build time: the original weights are not needed in the generated code.
        inputIndex != 1 || !(Sparse.SparseProductEmitter.Replaces(op.Node) || Plan(op).Product.UsesGemv(op.Type(0), op.Input(1).Constant is not null));

    /// <summary>The GEMV applies a per-column bias and the activation itself; alpha, beta and other biases need the epilogue pass.</summary>
    static bool GemvTakesEpilogue(GemmPlan plan) => plan.Alpha == 1 && (!plan.HasBias || plan.Beta == 1 && plan.BiasColumnStride == 1);

    sealed record GemmPlan(MatrixProduct Product, float Alpha, float Beta, bool HasBias, int BiasRowStride, int BiasColumnStride);

    static GemmPlan Plan(OpContext op)
    {
        var type = op.Type(0);
        if (op.Type(1) != type) throw op.Fail($"inputs A and B have different element types {type} and {op.Type(1)}");
        if (!MatrixProduct.IsSupportedType(type)) throw op.Fail($"element type {type} is not supported (float, double, int32, int64, uint32, uint64 are)");
        int[] a = op.Shape(0), b = op.Shape(1);
        if (a.Length != 2) throw op.Fail($"input A must be 2-D, got {Literals.Shape(a)}");
        if (b.Length != 2) throw op.Fail($"input B must be 2-D, got {Literals.Shape(b)}");
        bool transA = Flag(op, "transA"), transB = Flag(op, "transB");
        float alpha = op.Attributes.Float("alpha", 1f), beta = op.Attributes.Float("beta", 1f);
        if (type != DataType.Float && type != DataType.Double && (alpha != (long)alpha || beta != (long)beta))
            throw op.Fail($"attributes alpha={Format(alpha)} and beta={Format(beta)} must be whole numbers for integer type {type}");
        int m = transA ? a[1] : a[0], k = transA ? a[0] : a[1];
        int kB = transB ? b[1] : b[0], n = transB ? b[0] : b[1];
        if (kB != k) throw op.Fail($"inner dimensions differ: op(A) is {m}×{k} but op(B) is {kB}×{n} (transA={(transA ? 1 : 0)}, transB={(transB ? 1 : 0)})");
        var product = new MatrixProduct { M = m, N = n, K = k, Lda = a[1], Ldb = b[1], TransposeA = transA, TransposeB = transB };

        if (!op.HasInput(2))
        {
            if (op.Opset < 11) throw op.Fail("input C is required before opset 11");
            return new GemmPlan(product, alpha, beta, false, 0, 0);
        }
        if (op.Type(2) != type) throw op.Fail($"input C has element type {op.Type(2)}, expected {type}");
        int[] c = op.Shape(2);
        if (op.Opset < 7 && op.Attributes.Int("broadcast", 0) == 0 && (c.Length != 2 || c[0] != m || c[1] != n))
            throw op.Fail($"input C has shape {Literals.Shape(c)} but must be [{m},{n}] when attribute 'broadcast' is 0 (opset {op.Opset})");
        if (c.Length > 2) throw op.Fail($"input C has shape {Literals.Shape(c)}, which does not broadcast to [{m},{n}]");
        int rows = c.Length == 2 ? c[0] : 1, columns = c.Length >= 1 ? c[c.Length - 1] : 1;
        if (rows != 1 && rows != m || columns != 1 && columns != n)
            throw op.Fail($"input C has shape {Literals.Shape(c)}, which does not broadcast to [{m},{n}]");
        bool hasBias = beta != 0 && m > 0 && n > 0;
        return new GemmPlan(product, alpha, beta, hasBias, rows == 1 ? 0 : columns, columns == 1 ? 0 : 1);
    }

    static bool Flag(OpContext op, string name)
    {
        long value = op.Attributes.Int(name, 0);
        if (value != 0 && value != 1) throw op.Fail($"attribute '{name}' must be 0 or 1, got {value}");
        return value == 1;
    }

    static string Format(float v) => v.ToString("R", CultureInfo.InvariantCulture);
}
