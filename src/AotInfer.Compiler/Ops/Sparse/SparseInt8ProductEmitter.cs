using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Sparse;

/// <summary>
/// Emits the sparse form of a quantised product (QGemm, QLinearMatMul, MatMulInteger, MatMulIntegerToFloat,
/// DynamicQuantizeMatMul) whose weights <see cref="Passes.SparseWeightSelection"/> chose to store in the band layout:
/// A minus its zero point becomes floats, <c>BandSparseMultiply</c> multiplies it with the centred weights B − zb (and
/// adds QGemm's int32 bias), and the sums become the int32 accumulators the usual requantisation reads. Every value is
/// an integer below 2²⁴ (the selection checked the bound), so the result is the exact integer product.
/// </summary>
internal static class SparseInt8ProductEmitter
{
    const string Sparse = EmitContext.Kernels + ".Sparse";

    /// <summary>
    /// Writes the product into the int32 accumulators <paramref name="acc"/> (<paramref name="rows"/> × N) when the
    /// node was chosen sparse and returns true; returns false (writing nothing) otherwise. <paramref name="a"/>,
    /// <paramref name="aZero"/> and <paramref name="aType"/> are A's span, zero-point span and C# element type;
    /// <paramref name="biasIndex"/> is QGemm's int32 bias input (−1: none), added here when it is given.
    /// </summary>
    public static bool TryEmit(OpContext op, EmitContext code, string a, string aZero, string aType, string acc, int rows, int biasIndex)
    {
        if (SparseDecision.SparseOf(op.Node) is not { } decision) return false;
        if (rows != decision.M) throw new System.InvalidOperationException($"node {op.Node}: the sparse decision covers {decision.M} rows, the product {rows}");
        int k = decision.K, n = decision.N;
        var roles = Quantization.QuantizedMatMulLowering.WeightInputs(op.Node)!.Value;
        var weights = op.Input(roles.B).Constant!;
        long[] stored = weights.ToInt64();
        long[] zeros = roles.BZero >= 0 && op.HasInput(roles.BZero) ? op.Input(roles.BZero).Constant!.ToInt64() : new long[] { 0 };
        bool transB = op.Node.OpType == "QGemm" && op.Attributes.Int("transB", 0) != 0;
        var centred = new float[k * n];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
                centred[p * n + j] = stored[transB ? j * k + p : p * n + j] - zeros[zeros.Length == 1 ? 0 : j];
        var b = new ConstantWeightMatrix(centred, k, n, n, transposed: false);

        code.Writer.Line($"// sparse weights: {Literals.Comment(decision.ToString())}");
        string bands = SparseProductEmitter.BandMatrix(code, b, decision, op.Node.Name);
        string bias = "global::System.ReadOnlySpan<float>.Empty";
        if (biasIndex >= 0 && op.HasInput(biasIndex))
        {
            long[] values = op.Input(biasIndex).Constant!.ToInt64();
            bias = code.Constant(new Tensor(DataType.Float, new[] { n }, Enumerable.Range(0, n).Select(j => (float)values[values.Length == 1 ? 0 : j]).ToArray()), op.Node.Name + "/sparse_bias");
        }
        string input = code.Scratch(DataType.Float, rows * k), sums = code.Scratch(DataType.Float, rows * n);
        code.Writer.Line($"{Sparse}.CentredIntegers.Centre<{aType}>({a}, {aZero}, {input});");
        code.Writer.Line($"{Sparse}.BandSparseMultiply.Multiply({input}, {Literals.Int(k)}, {bands}, {bias}, {Linear.MatrixProduct.NoActivation}, {sums}, {Literals.Int(n)}, {Literals.Int(rows)});");
        code.Writer.Line($"{Sparse}.CentredIntegers.ToIntegers({sums}, {acc});");
        return true;
    }
}
