using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Linear;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>The quantised matrix products, which all lower to one int8 GEMM plus an epilogue.</summary>
public enum QuantizedMatMulKind
{
    /// <summary>ONNX MatMulInteger (opset 10): int32 output.</summary>
    MatMulInteger,
    /// <summary>ONNX QLinearMatMul (opsets 10, 21): requantised u8/s8 output.</summary>
    QLinearMatMul,
    /// <summary>com.microsoft MatMulIntegerToFloat: float output = acc · a_scale · b_scale + bias.</summary>
    MatMulIntegerToFloat,
    /// <summary>com.microsoft DynamicQuantizeMatMul: float A quantised to u8 at run time, then as MatMulIntegerToFloat.</summary>
    DynamicQuantizeMatMul,
    /// <summary>com.microsoft QGemm: 2-D, transB, alpha, int32 bias C; requantised when y_scale is given, else float.</summary>
    QGemm,
}

/// <summary>
/// MatMulInteger, QLinearMatMul and the com.microsoft MatMulIntegerToFloat, DynamicQuantizeMatMul and QGemm: each is
/// C = (A − za)·(B − zb) on <c>QuantizedMatrixMultiply</c> (B packed once at type initialisation when it and its
/// zero point are constant) followed by <c>Requantization</c> (to u8/s8 with round half to even, or to float).
/// Zero points: per tensor or per row of A / per column of B; scales: per tensor for A, per tensor or per column for B.
/// A constant B within ±127 of its zero points with a per-tensor A zero point runs the byte GEMM <c>Int8Gemm</c>
/// (<c>vpmaddubsw</c>, B packed once, A's zero point and QGemm's bias folded into one offset per column); the rest
/// runs the widening int16 GEMM. At M = 1 (batch-1 fully-connected) the byte path is the GEMV <c>Int8VectorMatrixMultiply</c>
/// (weights in panels of 16 outputs × 4 k, <c>Int8GemvWeights</c>).
/// </summary>
public sealed class QuantizedMatMulLowering : OpLowering
{
    readonly QuantizedMatMulKind _kind;

    /// <summary>A lowering for one of the quantised matrix products.</summary>
    public QuantizedMatMulLowering(QuantizedMatMulKind kind) => _kind = kind;

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _kind.ToString() };

    /// <inheritdoc/>
    public override string Domain => _kind is QuantizedMatMulKind.MatMulInteger or QuantizedMatMulKind.QLinearMatMul ? "" : "com.microsoft";

    /// <summary>Input indexes of each role (−1: the op has no such input).</summary>
    sealed record Roles(int A, int AScale, int AZero, int B, int BScale, int BZero, int YScale, int YZero, int Bias);

    Roles InputRoles => RolesOf(_kind);

    /// <summary>
    /// The input indexes of A's zero point, B, B's zero point and the bias of a quantised product node (−1: none), or
    /// null when <paramref name="node"/> is not one; for the sparse weight selection.
    /// </summary>
    internal static (int AZero, int B, int BZero, int Bias)? WeightInputs(IR.Node node)
    {
        if (!System.Enum.TryParse<QuantizedMatMulKind>(node.OpType, out var kind) || !System.Enum.IsDefined(typeof(QuantizedMatMulKind), kind)) return null;
        string domain = kind is QuantizedMatMulKind.MatMulInteger or QuantizedMatMulKind.QLinearMatMul ? "" : "com.microsoft";
        if (node.Domain != domain) return null;
        var r = RolesOf(kind);
        return (r.AZero, r.B, r.BZero, r.Bias);
    }

    static Roles RolesOf(QuantizedMatMulKind kind) => kind switch
    {
        QuantizedMatMulKind.MatMulInteger => new Roles(0, -1, 2, 1, -1, 3, -1, -1, -1),
        QuantizedMatMulKind.QLinearMatMul => new Roles(0, 1, 2, 3, 4, 5, 6, 7, -1),
        QuantizedMatMulKind.MatMulIntegerToFloat => new Roles(0, 2, 4, 1, 3, 5, -1, -1, 6),
        QuantizedMatMulKind.DynamicQuantizeMatMul => new Roles(0, -1, -1, 1, 2, 3, -1, -1, 4),
        _ => new Roles(0, 1, 2, 3, 4, 5, 7, 8, 6),
    };

    /// <summary>A described product; <paramref name="ByteGemm"/> names the <c>Int8Gemm</c> scheme, null for the widening GEMM.</summary>
    sealed record Plan(DataType AType, DataType BType, DataType Output, int M, int N, int K, bool TransposeB, int[]? AOffsets, int[]? BOffsets, int Rows, int[] Shape, bool PackedB,
        string? ByteGemm, string WideningReason);

    static bool Has(OpContext op, int index) => index >= 0 && op.HasInput(index);

    static int Count(OpContext op, int index) => ShapeMath.ElementCount(op.Shape(index));

    Plan Describe(OpContext op)
    {
        var r = InputRoles;
        var aType = _kind == QuantizedMatMulKind.DynamicQuantizeMatMul ? DataType.UInt8 : op.Type(r.A);
        if (_kind == QuantizedMatMulKind.DynamicQuantizeMatMul && op.Type(r.A) != DataType.Float)
            throw op.Fail($"input A has element type {op.Type(r.A)}; DynamicQuantizeMatMul takes float");
        var bType = op.Type(r.B);
        if (!(aType is DataType.UInt8 or DataType.Int8)) throw op.Fail($"input A has element type {aType}; uint8 and int8 are supported");
        if (!(bType is DataType.UInt8 or DataType.Int8)) throw op.Fail($"input B has element type {bType}; uint8 and int8 are supported");
        if (Has(op, r.AZero) && op.Type(r.AZero) != aType) throw op.Fail($"input a_zero_point has element type {op.Type(r.AZero)}, expected {aType} like A");
        if (Has(op, r.BZero) && op.Type(r.BZero) != bType) throw op.Fail($"input b_zero_point has element type {op.Type(r.BZero)}, expected {bType} like B");

        int[] a = op.Shape(r.A), b = op.Shape(r.B);
        int m, n, k;
        bool transposeB = false;
        int[]? aOffsets = null, bOffsets = null;
        int[] shape;
        if (_kind == QuantizedMatMulKind.QGemm)
        {
            if (a.Length != 2 || b.Length != 2) throw op.Fail($"inputs A {Literals.Shape(a)} and B {Literals.Shape(b)} must be 2-D");
            if (op.Attributes.Int("transA", 0) != 0) throw op.Fail("attribute transA=1 is not supported");
            transposeB = op.Attributes.Int("transB", 0) != 0;
            m = a[0]; k = a[1];
            n = transposeB ? b[0] : b[1];
            int bk = transposeB ? b[1] : b[0];
            if (bk != k) throw op.Fail($"inner dimensions differ: A {Literals.Shape(a)}, B {Literals.Shape(b)}{(transposeB ? " (transB)" : "")}");
            shape = new[] { m, n };
        }
        else
        {
            if (a.Length == 0 || b.Length == 0) throw op.Fail("inputs must have at least one dimension");
            int[] a2 = a.Length == 1 ? new[] { 1, a[0] } : a, b2 = b.Length == 1 ? new[] { b[0], 1 } : b;
            m = a2[a2.Length - 2]; k = a2[a2.Length - 1]; n = b2[b2.Length - 1];
            if (b2[b2.Length - 2] != k) throw op.Fail($"inner dimensions differ: A {Literals.Shape(a)} has {k} columns, B {Literals.Shape(b)} has {b2[b2.Length - 2]} rows");
            int[] aBatch = a2.Take(a2.Length - 2).ToArray(), bBatch = b2.Take(b2.Length - 2).ToArray();
            int[] batch = ShapeRules.Broadcast(aBatch, bBatch);
            var list = batch.ToList();
            if (a.Length > 1) list.Add(m);
            if (b.Length > 1) list.Add(n);
            shape = list.ToArray();
            if (MatrixProduct.Count(bBatch) == 1 && MatrixProduct.Count(aBatch) == MatrixProduct.Count(batch))
            {
                int folded = MatrixProduct.Count(batch);
                if (folded > 1 && Has(op, r.AZero) && Count(op, r.AZero) > 1) throw op.Fail("a per-row a_zero_point with batched A is not supported");
                m *= folded;
            }
            else
            {
                (aOffsets, bOffsets) = MatrixProduct.BatchOffsets(batch, aBatch, bBatch, m * k, k * n);
            }
        }
        if (Has(op, r.AZero) && Count(op, r.AZero) != 1 && Count(op, r.AZero) != m) throw op.Fail($"input a_zero_point must have 1 or {m} (rows) elements");
        if (Has(op, r.BZero) && Count(op, r.BZero) != 1 && Count(op, r.BZero) != n) throw op.Fail($"input b_zero_point must have 1 or {n} (columns) elements");
        if (r.AScale >= 0 && Count(op, r.AScale) != 1) throw op.Fail("input a_scale must be a single value (per-row A scales are not supported)");
        if (r.BScale >= 0 && Count(op, r.BScale) != 1 && Count(op, r.BScale) != n) throw op.Fail($"input b_scale must have 1 or {n} (columns) elements");
        if (Has(op, r.YScale) && Count(op, r.YScale) != 1) throw op.Fail("input y_scale must be a single value");
        if (r.BScale >= 0)
        {
            var scaleType = op.Type(r.BScale);
            if (!(scaleType is DataType.Float or DataType.Float16)) throw op.Fail($"input b_scale has element type {scaleType}; float and float16 are supported");
            foreach (int s in new[] { r.AScale, r.YScale })
                if (Has(op, s) && op.Type(s) != scaleType) throw op.Fail($"input {s} has element type {op.Type(s)}, expected {scaleType} like b_scale");
        }
        if (Has(op, r.Bias))
        {
            var expected = _kind == QuantizedMatMulKind.QGemm ? DataType.Int32 : DataType.Float;
            if (op.Type(r.Bias) != expected || (Count(op, r.Bias) != n && Count(op, r.Bias) != 1))
                throw op.Fail($"input {(_kind == QuantizedMatMulKind.QGemm ? "C" : "bias")} must be {expected} with 1 or {n} elements, got {op.Input(r.Bias).Type}{Literals.Shape(op.Shape(r.Bias))}");
        }
        DataType output = _kind switch
        {
            QuantizedMatMulKind.MatMulInteger => DataType.Int32,
            QuantizedMatMulKind.QLinearMatMul => op.Type(r.YZero),
            QuantizedMatMulKind.QGemm when Has(op, r.YScale) => Has(op, r.YZero) ? op.Type(r.YZero) : DataType.UInt8,
            _ => DataType.Float,
        };
        if (!(output is DataType.Int32 or DataType.Float or DataType.UInt8 or DataType.Int8)) throw op.Fail($"output type {output} is not supported (uint8 and int8 are)");
        if (Has(op, r.YZero) && Count(op, r.YZero) != 1) throw op.Fail("input y_zero_point must be a single value");
        bool packedB = aOffsets is null && op.Input(r.B).Constant is not null && (!Has(op, r.BZero) || op.Input(r.BZero).Constant is not null);
        if (transposeB && !packedB) throw op.Fail("transB=1 needs a constant B (and b_zero_point)");
        int rows = ShapeMath.ElementCount(shape) / System.Math.Max(n, 1);
        var (byteGemm, reason) = packedB && (!Has(op, r.AZero) || Count(op, r.AZero) == 1)
            ? QuantizedPacking.ByteGemmChoice(op.Input(r.B).Constant!, Has(op, r.BZero) ? op.Input(r.BZero).Constant : null, n, k, transposed: !transposeB)
            : (null, packedB ? "per-row a_zero_point" : "B not constant");
        return new Plan(aType, bType, output, m, n, k, transposeB, aOffsets, bOffsets, rows, shape, packedB, byteGemm, reason);
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var plan = Describe(op);
        op.SetOutput(0, plan.Output, plan.Shape);
        string batches = plan.AOffsets is null ? "" : $" × {plan.AOffsets.Length} batches";
        string kernel = plan.ByteGemm is null ? $"int16 widening: {plan.WideningReason}" : $"vpmaddubsw, {plan.ByteGemm}";
        op.Node.Annotations["kernel"] = $"int8 {(plan.ByteGemm is not null && plan.M == 1 ? "GEMV" : "GEMM")} ({kernel}) {DataTypes.CSharpName(plan.AType)}×{DataTypes.CSharpName(plan.BType)}{batches}, M={plan.M} N={plan.N} K={plan.K}" +
                                        (plan.PackedB ? ", B pre-packed at type initialisation" : "") + $" → {plan.Output}";
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var plan = Describe(op);
        var r = InputRoles;
        string q = $"{EmitContext.Kernels}.Quantization";
        string aT = DataTypes.CSharpName(plan.AType), bT = DataTypes.CSharpName(plan.BType);
        int m = plan.M, n = plan.N, k = plan.K;
        code.Writer.Line($"// {_kind}: int8 GEMM {aT}×{bT}, M={m} N={n} K={k}{(plan.AOffsets is null ? "" : $", {plan.AOffsets.Length} batches")} → {plan.Output}");

        string a, aZero, aScale = r.AScale >= 0 ? $"{code.In(r.AScale)}[0]" : "";
        if (_kind == QuantizedMatMulKind.DynamicQuantizeMatMul)
        {
            a = code.Scratch(DataType.UInt8, Count(op, r.A));
            string scale = code.Scratch(DataType.Float, 1);
            aZero = code.Scratch(DataType.UInt8, 1);
            code.Writer.Line($"{q}.LinearQuantization.DynamicQuantize({code.In(r.A)}, {a}, {scale}, {aZero});");
            aScale = $"{scale}[0]";
        }
        else
        {
            a = code.In(r.A);
            aZero = Has(op, r.AZero) ? code.In(r.AZero) : $"global::System.ReadOnlySpan<{aT}>.Empty";
        }
        string bZero = Has(op, r.BZero) ? code.In(r.BZero) : $"global::System.ReadOnlySpan<{bT}>.Empty";

        string acc = plan.Output == DataType.Int32 ? code.Out(0) : code.Scratch(DataType.Int32, plan.Rows * n);
        string intBias = _kind == QuantizedMatMulKind.QGemm && Has(op, r.Bias) ? code.In(r.Bias) : "global::System.ReadOnlySpan<int>.Empty";
        string gemm = $"{q}.QuantizedMatrixMultiply";
        if (plan.AOffsets is null && Sparse.SparseInt8ProductEmitter.TryEmit(op, code, a, aZero, aT, acc, plan.Rows, _kind == QuantizedMatMulKind.QGemm ? r.Bias : -1))
        {
            // Pruned weights (Passes/SparseWeightSelection): the band kernel on the centred integers, QGemm's bias included.
            intBias = "global::System.ReadOnlySpan<int>.Empty";
        }
        else if (plan.ByteGemm is not null && m == 1)
        {
            // Batch-1 dense layer: the GEMV, weights in panels of 16 outputs so no lane sums are needed; any bias folds in.
            string zeros = Has(op, r.BZero) ? code.ConstantArray(r.BZero) : $"global::System.Array.Empty<{bT}>()";
            string packed = code.StaticField($"{q}.Int8GemvWeights", $"{q}.Int8GemvWeights.Pack<{bT}>({code.ConstantArray(r.B)}, {zeros}, {n}, {k}, {(plan.TransposeB ? "false" : "true")})");
            string packedRow = code.Scratch(DataType.Int8, QuantizedPacking.PackedRowsLength(1, k));
            bool foldBias = Has(op, r.Bias) && _kind == QuantizedMatMulKind.QGemm && Count(op, r.Bias) == n;
            code.Writer.Line($"{q}.Int8VectorMatrixMultiply.Multiply<{aT}>({a}, {aZero}, {packed}, {(foldBias ? intBias : "global::System.ReadOnlySpan<int>.Empty")}, {acc}, {packedRow});");
            if (foldBias) intBias = "global::System.ReadOnlySpan<int>.Empty";
        }
        else if (plan.ByteGemm is not null)
        {
            string zeros = Has(op, r.BZero) ? code.ConstantArray(r.BZero) : $"global::System.Array.Empty<{bT}>()";
            string packed = code.StaticField($"{q}.Int8PackedWeights", $"{q}.Int8PackedWeights.Pack<{bT}>({code.ConstantArray(r.B)}, {zeros}, {n}, {k}, {(plan.TransposeB ? "false" : "true")})");
            string packedRows = code.Scratch(DataType.Int8, System.Math.Max(1, QuantizedPacking.PackedRowsLength(m, k)));
            string offsets = code.Scratch(DataType.Int32, System.Math.Max(1, n));
            // A per-column bias folds into the GEMM's offsets; a single broadcast value stays in the epilogue.
            bool foldBias = Has(op, r.Bias) && _kind == QuantizedMatMulKind.QGemm && Count(op, r.Bias) == n;
            code.Writer.Line($"{q}.Int8Gemm.Multiply<{aT}>({a}, {aZero}, {packed}, {(foldBias ? intBias : "global::System.ReadOnlySpan<int>.Empty")}, {acc}, {m}, {packedRows}, {offsets});");
            if (foldBias) intBias = "global::System.ReadOnlySpan<int>.Empty";
        }
        else if (plan.PackedB)
        {
            string zeros = Has(op, r.BZero) ? code.ConstantArray(r.BZero) : $"global::System.Array.Empty<{bT}>()";
            string packed = code.StaticField("short[]", $"{gemm}.PackB<{bT}>({code.ConstantArray(r.B)}, {zeros}, {k}, {n}, {(plan.TransposeB ? "true" : "false")})");
            string packedA = code.Scratch(DataType.Int32, System.Math.Max(1, QuantizedPacking.PackedALength(m, k)));
            code.Writer.Line($"{gemm}.Multiply<{aT}>({a}, {aZero}, {packed}, {acc}, {m}, {n}, {k}, {packedA});");
        }
        else
        {
            string packedA = code.Scratch(DataType.Int32, System.Math.Max(1, QuantizedPacking.PackedALength(m, k)));
            string packedB = code.Scratch(DataType.Int16, System.Math.Max(1, QuantizedPacking.PackedBLength(k, n)));
            if (plan.AOffsets is null)
                code.Writer.Line($"{gemm}.Multiply<{aT}, {bT}>({a}, {aZero}, {code.In(r.B)}, {bZero}, {acc}, {m}, {n}, {k}, {packedA}, {packedB});");
            else
                code.Writer.Line($"{gemm}.MultiplyBatched<{aT}, {bT}>({a}, {code.IntArray(plan.AOffsets)}, {aZero}, {code.In(r.B)}, {code.IntArray(plan.BOffsets!)}, {bZero}, " +
                                 $"{acc}, {m}, {n}, {k}, {packedA}, {packedB});");
        }
        if (plan.Output == DataType.Int32) return;

        // Epilogue: multipliers a_scale·b_scale[/y_scale] (·alpha for QGemm), then to integers or floats.
        string scaleType = code.InType(r.BScale);
        float alpha = _kind == QuantizedMatMulKind.QGemm ? op.Attributes.Float("alpha", 1f) : 1f;
        if (alpha != 1f) aScale = $"({scaleType})({Literals.Float(alpha)} * (float){aScale})";
        string multipliers = "";
        // Float scales into a float output: ToFloat forms a_scale·b_scale itself (the same float product), no pass over
        // a multiplier array. Float16 scales multiply in float16 first, as the reference does.
        if (plan.Output != DataType.Float || scaleType != "float")
        {
            multipliers = code.Scratch(DataType.Float, Count(op, r.BScale));
            string yScale = Has(op, r.YScale) ? $"{code.In(r.YScale)}[0]" : $"({scaleType})1f";
            code.Writer.Line($"{q}.Requantization.Multipliers<{scaleType}>({aScale}, {code.In(r.BScale)}, {yScale}, {multipliers});");
        }
        if (plan.Output == DataType.Float)
        {
            string floatBias = _kind != QuantizedMatMulKind.QGemm && Has(op, r.Bias) ? code.In(r.Bias) : "global::System.ReadOnlySpan<float>.Empty";
            string scales = scaleType == "float" ? $"{aScale}, {code.In(r.BScale)}" : $"1f, {multipliers}";
            code.Writer.Line($"{q}.Requantization.ToFloat({acc}, {intBias}, {scales}, {floatBias}, {code.Out(0)}, {plan.Rows}, {n});");
            // An activation fused by ActivationFusion (DynamicQuantizeMatMul, MatMulIntegerToFloat) runs on the rows while they are in cache.
            if (Passes.FusedEpilogue.Of(op.Node) is { } fused)
                code.Writer.Line($"{fused.Expression()}.Apply({code.Out(0)});");
        }
        else
        {
            string zero = Has(op, r.YZero) ? $"(int){code.In(r.YZero)}[0]" : "0";
            code.Writer.Line($"{q}.Requantization.ToInteger<{code.OutType(0)}>({acc}, {intBias}, {multipliers}, false, {zero}, {code.Out(0)}, {plan.Rows}, {n});");
        }
    }
}
