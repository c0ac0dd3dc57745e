using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>
/// ONNX MatMul (opsets 1, 9, 13): numpy matmul semantics. A 1-D A is a row vector and a 1-D B a column vector (the
/// added dimension is removed from the result); leading batch dimensions broadcast. When B has no batch dimensions
/// the batches of A fold into M so that one GEMM covers them all; a constant B is then packed once.
/// </summary>
public sealed class MatMulLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "MatMul" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var (product, shape) = Plan(op);
        var type = op.Type(0);
        op.SetOutput(0, type, shape);
        op.Node.Annotations["kernel"] = product.Describe(type, op.Input(1).Constant is not null);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (product, _) = Plan(op);
        // Passes/BiasFusion gives a MatMul a bias over the last axis as input 2; Passes/ActivationFusion an activation.
        var fused = Passes.FusedEpilogue.Of(op.Node);
        bool hasBias = op.HasInput(2);
        string activation = fused?.Expression() ?? MatrixProduct.NoActivation;
        string bias = hasBias ? code.In(2) : "global::System.ReadOnlySpan<float>.Empty";
        // A sparse kernel, when the cost model picks one, replaces the dense product (and may apply the epilogue).
        bool sparse = Sparse.SparseProductEmitter.TryEmit(op, code, product, code.Out(0), bias, activation, out bool applied);
        if (applied) return;
        if (!sparse && product.UsesGemv(op.Type(0), op.Input(1).Constant is not null))
        {
            product.EmitGemv(code, op, 0, 1, code.Out(0), bias, activation);
            return;
        }
        if (!sparse) product.Emit(code, op.Type(0), 0, 1, op.Input(1).Constant is not null, code.Out(0));
        if (fused is null && !hasBias) return;
        if (op.Type(0) != DataType.Float) throw op.Fail("a fused bias or activation needs float tensors");
        int n = product.N, rows = n == 0 ? 0 : op.Node.Outputs[0].ElementCount / n;
        code.Writer.Line($"{activation}.ApplyRows({code.Out(0)}, {Literals.Int(rows)}, {Literals.Int(n)}, {bias}, 0, 1);");
    }

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) =>
        // The GEMV and the sparse kernels take B laid out at build time: the original weights are not needed in the generated code.
        inputIndex != 1 || !(Sparse.SparseProductEmitter.Replaces(op.Node) || Plan(op).Product.UsesGemv(op.Type(0), op.Input(1).Constant is not null));

    static (MatrixProduct Product, int[] OutputShape) Plan(OpContext op)
    {
        var type = op.Type(0);
        if (op.Type(1) != type) throw op.Fail($"inputs have different element types {type} and {op.Type(1)}");
        if (!MatrixProduct.IsSupportedType(type)) throw op.Fail($"element type {type} is not supported (float, double, int32, int64, uint32, uint64 are)");
        int[] a = op.Shape(0), b = op.Shape(1);
        if (a.Length == 0 || b.Length == 0) throw op.Fail("inputs must have at least one dimension");
        // numpy: a 1-D A is [1, K], a 1-D B is [K, 1].
        int[] a2 = a.Length == 1 ? new[] { 1, a[0] } : a;
        int[] b2 = b.Length == 1 ? new[] { b[0], 1 } : b;
        int m = a2[a2.Length - 2], k = a2[a2.Length - 1], n = b2[b2.Length - 1];
        if (b2[b2.Length - 2] != k)
            throw op.Fail($"inner dimensions differ: A {Literals.Shape(a)} has {k} columns, B {Literals.Shape(b)} has {b2[b2.Length - 2]} rows");
        int[] aBatch = a2.Take(a2.Length - 2).ToArray(), bBatch = b2.Take(b2.Length - 2).ToArray();
        int[] batch = ShapeRules.Broadcast(aBatch, bBatch);
        var shape = batch.ToList();
        if (a.Length > 1) shape.Add(m);
        if (b.Length > 1) shape.Add(n);

        MatrixProduct product;
        if (MatrixProduct.Count(bBatch) == 1 && MatrixProduct.Count(aBatch) == MatrixProduct.Count(batch))
        {
            // B is one matrix used by every batch: A's batches are consecutive rows of one taller product.
            product = new MatrixProduct { M = MatrixProduct.Count(batch) * m, N = n, K = k, Lda = k, Ldb = n };
        }
        else
        {
            var (aOffsets, bOffsets) = MatrixProduct.BatchOffsets(batch, aBatch, bBatch, m * k, k * n);
            product = new MatrixProduct { M = m, N = n, K = k, Lda = k, Ldb = n, AOffsets = aOffsets, BOffsets = bOffsets };
        }
        return (product, shape.ToArray());
    }
}
