using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Linear;

/// <summary>
/// One (possibly batched) matrix product C = op(A)·op(B) as the Linear ops lower it, and the kernel call it becomes:
/// the tuned SGEMM for float (with B packed once at type initialisation when it is a constant and not batched), the
/// generic loop for double and the integers.
/// </summary>
internal sealed class MatrixProduct
{
    /// <summary>Rows of op(A) and of C.</summary>
    public int M { get; init; }
    /// <summary>Columns of op(B) and of C.</summary>
    public int N { get; init; }
    /// <summary>The summed dimension.</summary>
    public int K { get; init; }
    /// <summary>Row stride of A as stored.</summary>
    public int Lda { get; init; }
    /// <summary>Row stride of B as stored.</summary>
    public int Ldb { get; init; }
    /// <summary>A is stored K×M.</summary>
    public bool TransposeA { get; init; }
    /// <summary>B is stored N×K.</summary>
    public bool TransposeB { get; init; }
    /// <summary>Per batch, the element offsets of A and B (C batches are consecutive); null for a single product.</summary>
    public int[]? AOffsets { get; init; }
    /// <summary>See <see cref="AOffsets"/>.</summary>
    public int[]? BOffsets { get; init; }

    /// <summary>The element types the Linear ops run.</summary>
    public static bool IsSupportedType(DataType type) =>
        type is DataType.Float or DataType.Double or DataType.Int32 or DataType.Int64 or DataType.UInt32 or DataType.UInt64;

    /// <summary>True when the product will use a B packed at type initialisation.</summary>
    public bool UsesPackedB(DataType type, bool bIsConstant) => type == DataType.Float && bIsConstant && AOffsets is null && !UsesGemv(type, bIsConstant);

    /// <summary>
    /// True for one row times a constant float matrix (a fully-connected layer at batch 1): the GEMV kernel, with the
    /// weights laid out at build time and bias and activation applied in the same call.
    /// </summary>
    public bool UsesGemv(DataType type, bool bIsConstant) => type == DataType.Float && bIsConstant && AOffsets is null && M == 1;

    /// <summary>
    /// The GEMV kernel's rule for skipping the weight rows of zero inputs (<c>VectorMatrixMultiply.MinSkippingWeights</c>
    /// and <c>MaxKeptPercent</c>; a test holds them equal): weights of at least this many floats…
    /// </summary>
    public const long GemvSkippingMinWeights = 8192;

    /// <summary>…when at most this share (%) of a call's inputs is non-zero.</summary>
    public const int GemvSkippingMaxNonZeroPercent = 60;

    /// <summary>The kernel description for <c>node.Annotations["kernel"]</c>.</summary>
    public string Describe(DataType type, bool bIsConstant)
    {
        string shape = $"M={M} N={N} K={K}{(TransposeA ? " transA" : "")}{(TransposeB ? " transB" : "")}";
        string batches = AOffsets is null ? "" : $" × {AOffsets.Length} batches";
        if (type != DataType.Float) return $"generic {DataTypes.CSharpName(type)} matmul{batches}, {shape}";
        if (UsesGemv(type, bIsConstant))
        {
            string skipping = (long)K * N >= GemvSkippingMinWeights
                ? $", rows of zero inputs skipped when at most {GemvSkippingMaxNonZeroPercent} % are non-zero"
                : "";
            return $"GEMV, weights laid out at build time, bias and activation in the same call{skipping}, {shape}";
        }
        if (UsesPackedB(type, bIsConstant)) return $"SGEMM{(M == 1 ? " (GEMV)" : "")}, B pre-packed at type initialisation, {shape}";
        return $"SGEMM{(M == 1 && AOffsets is null ? " (GEMV)" : "")}{batches}, {shape}";
    }

    /// <summary>Writes the call computing output <paramref name="output"/> from inputs <paramref name="a"/> and <paramref name="b"/> of the node.</summary>
    public void Emit(EmitContext code, DataType type, int a, int b, bool bIsConstant, string output)
    {
        string t = DataTypes.CSharpName(type);
        string ta = TransposeA ? "true" : "false", tb = TransposeB ? "true" : "false";
        string linear = $"{EmitContext.Kernels}.Linear";
        if (UsesPackedB(type, bIsConstant))
        {
            string packed = code.StaticField($"{linear}.PackedMatrix",
                $"{linear}.PackedMatrix.Pack({code.ConstantArray(b)}, {Literals.Int(Ldb)}, {tb}, {Literals.Int(K)}, {Literals.Int(N)})");
            code.Writer.Line($"{linear}.MatrixMultiply.Multiply({code.In(a)}, {Literals.Int(Lda)}, {ta}, {packed}, {output}, {Literals.Int(N)}, {Literals.Int(M)});");
            return;
        }
        string kernel = type == DataType.Float ? $"{linear}.MatrixMultiply" : $"{linear}.GenericMatrixMultiply";
        string generic = type == DataType.Float ? "" : $"<{t}>";
        if (AOffsets is null)
        {
            code.Writer.Line($"{kernel}.Multiply{generic}({code.In(a)}, {Literals.Int(Lda)}, {ta}, {code.In(b)}, {Literals.Int(Ldb)}, {tb}, {output}, {Literals.Int(N)}, " +
                             $"{Literals.Int(M)}, {Literals.Int(N)}, {Literals.Int(K)});");
        }
        else
        {
            code.Writer.Line($"{kernel}.MultiplyBatched{generic}({code.In(a)}, {code.IntArray(AOffsets)}, {Literals.Int(Lda)}, {ta}, " +
                             $"{code.In(b)}, {code.IntArray(BOffsets!)}, {Literals.Int(Ldb)}, {tb}, {output}, {Literals.Int(M)}, {Literals.Int(N)}, {Literals.Int(K)});");
        }
    }

    /// <summary>
    /// Writes the GEMV call for a product that <see cref="UsesGemv"/>: <paramref name="output"/> = act(A · B + bias),
    /// where <paramref name="bias"/> is an empty span or one value per column and <paramref name="activation"/> a
    /// <c>FusedActivation</c> expression.
    /// </summary>
    public void EmitGemv(EmitContext code, OpContext op, int a, int b, string output, string bias, string activation)
    {
        string linear = $"{EmitContext.Kernels}.Linear";
        string laidOut = code.KernelLayoutConstant(GemvLayout.LayOut(op.Input(b).Constant!, Ldb, TransposeB, K, N), op.Input(b).Name + " (laid out for the GEMV)", new GemvColumns(K, N));
        string weights = code.StaticField($"{linear}.GemvWeights", $"new {linear}.GemvWeights({laidOut}, {Literals.Int(K)}, {Literals.Int(N)})");
        code.Writer.Line($"{linear}.VectorMatrixMultiply.Multiply({code.In(a)}, {weights}, {bias}, {activation}, {output});");
    }

    /// <summary>The <c>FusedActivation</c> expression that applies nothing.</summary>
    public static string NoActivation => $"new {EmitContext.Kernels}.Linear.FusedActivation({EmitContext.Kernels}.Linear.ActivationKind.None, 0f, 0f)";

    /// <summary>
    /// Offsets of each output batch into A and B for numpy batch broadcasting: output batch shape
    /// <paramref name="batch"/>, operand batch shapes right-aligned against it.
    /// </summary>
    public static (int[] A, int[] B) BatchOffsets(int[] batch, int[] aBatch, int[] bBatch, int aMatrixSize, int bMatrixSize)
    {
        int count = ShapeMath.ElementCount(batch);
        var aOffsets = new int[count];
        var bOffsets = new int[count];
        for (int i = 0; i < count; i++)
        {
            aOffsets[i] = ShapeRules.BroadcastIndex(i, batch, aBatch) * aMatrixSize;
            bOffsets[i] = ShapeRules.BroadcastIndex(i, batch, bBatch) * bMatrixSize;
        }
        return (aOffsets, bOffsets);
    }

    /// <summary>Product of the dimensions.</summary>
    public static int Count(int[] dims) => dims.Aggregate(1, (x, y) => x * y);
}
