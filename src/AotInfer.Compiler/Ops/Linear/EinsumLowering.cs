using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>
/// ONNX Einsum (opset 12): implicit and explicit outputs, repeated indices (diagonals), ellipsis broadcasting and
/// sums. A float equation of matmul shape — two operands, indices split into batch (everywhere), M (A and output),
/// N (B and output) and K (A and B), each operand laid out batch first — runs on the GEMM (transposing through
/// strides); everything else runs the generic sum-of-products loop over strides computed here.
/// </summary>
public sealed class EinsumLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Einsum" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var (equation, product) = Plan(op);
        op.SetOutput(0, op.Type(0), equation.OutputShape);
        op.Node.Annotations["kernel"] = product is not null
            ? product.Describe(op.Type(0), op.Input(1).Constant is not null)
            : $"generic einsum loop over {equation.Labels.Length} indices ({equation.SummedLabels.Count()} summed)";
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (equation, product) = Plan(op);
        if (product is not null)
        {
            product.Emit(code, op.Type(0), 0, 1, op.Input(1).Constant is not null, code.Out(0));
            return;
        }
        string t = code.OutType(0);
        string operands = string.Join(", ", Enumerable.Range(0, op.InputCount).Select(i => $"{code.In(i)}, {code.IntArray(equation.Strides(i, op.Shape(i)))}"));
        code.Writer.Line($"{EmitContext.Kernels}.Linear.Einsum.Contract<{t}>({operands}, {code.Out(0)}, {code.IntArray(equation.Extents)}, {Literals.Int(equation.OutputLabels.Length)});");
    }

    static (EinsumEquation Equation, MatrixProduct? Product) Plan(OpContext op)
    {
        string text = op.Attributes.String("equation", "");
        if (text.Trim().Length == 0) throw op.Fail("attribute 'equation' is required");
        if (op.InputCount < 1) throw op.Fail("needs at least one input");
        if (op.InputCount > 2) throw op.Fail($"{op.InputCount} operands are not supported (one or two are)");
        var type = op.Type(0);
        for (int i = 1; i < op.InputCount; i++)
            if (op.Type(i) != type) throw op.Fail($"input {i} has element type {op.Type(i)}, expected {type}");
        if (!(type is DataType.Float or DataType.Double || DataTypes.IsInteger(type)))
            throw op.Fail($"element type {type} is not supported (float, double and the integers are)");
        var shapes = Enumerable.Range(0, op.InputCount).Select(op.Shape).ToArray();
        var equation = EinsumEquation.Parse(text, shapes, message => op.Fail(message));
        return (equation, type == DataType.Float && op.InputCount == 2 ? AsMatrixProduct(equation, shapes) : null);
    }

    /// <summary>The equation as a (batched) GEMM, or null when it is not of that shape.</summary>
    static MatrixProduct? AsMatrixProduct(EinsumEquation equation, int[][] shapes)
    {
        int[] a = equation.OperandLabels[0], b = equation.OperandLabels[1], output = equation.OutputLabels;
        // Diagonals and broadcast dimensions need the general loop.
        if (a.Distinct().Count() != a.Length || b.Distinct().Count() != b.Length) return null;
        for (int t = 0; t < 2; t++)
            for (int d = 0; d < shapes[t].Length; d++)
                if (shapes[t][d] != equation.Extent(equation.OperandLabels[t][d])) return null;

        var batch = output.Where(l => a.Contains(l) && b.Contains(l)).ToArray();
        var m = a.Where(l => !b.Contains(l)).ToArray();
        var n = b.Where(l => !a.Contains(l)).ToArray();
        var k = a.Where(l => b.Contains(l) && !output.Contains(l)).ToArray();
        if (m.Length > 1 || n.Length > 1 || k.Length > 1) return null;
        if (m.Any(l => !output.Contains(l)) || n.Any(l => !output.Contains(l))) return null; // an index summed within one operand
        // Batch indices lead every operand in the same order; the output is [batch, m, n].
        if (!a.Take(batch.Length).SequenceEqual(batch) || !b.Take(batch.Length).SequenceEqual(batch)) return null;
        if (!output.SequenceEqual(batch.Concat(m).Concat(n))) return null;

        int M = m.Length == 1 ? equation.Extent(m[0]) : 1;
        int N = n.Length == 1 ? equation.Extent(n[0]) : 1;
        int K = k.Length == 1 ? equation.Extent(k[0]) : 1;
        bool transposeA = a.Length - batch.Length == 2 && a[batch.Length] == k.FirstOrDefault();
        bool transposeB = b.Length - batch.Length == 2 && b[batch.Length] == n.FirstOrDefault();
        int count = batch.Aggregate(1, (p, l) => p * equation.Extent(l));
        var product = new MatrixProduct { M = M, N = N, K = K, Lda = transposeA ? M : K, Ldb = transposeB ? K : N, TransposeA = transposeA, TransposeB = transposeB };
        if (count == 1) return product;
        return new MatrixProduct
        {
            M = M, N = N, K = K, Lda = product.Lda, Ldb = product.Ldb, TransposeA = transposeA, TransposeB = transposeB,
            AOffsets = Enumerable.Range(0, count).Select(i => i * M * K).ToArray(),
            BOffsets = Enumerable.Range(0, count).Select(i => i * K * N).ToArray(),
        };
    }
}
