using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// GatherND (opsets 11, 12, 13): each innermost row of the int64 indices addresses a slice of the data; the first
/// <c>batch_dims</c> dimensions (opset 12+) are shared batch dimensions of data and indices.
/// </summary>
public sealed class GatherNDLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "GatherND" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var data = op.Shape(0);
        var indices = op.Shape(1);
        if (op.Type(1) != DataType.Int64) throw op.Fail($"indices must be int64, got {op.Type(1)}");
        int batchDims = BatchDims(op);
        if (indices.Length < 1) throw op.Fail("indices must have rank 1 or more");
        int depth = indices[indices.Length - 1];
        if (batchDims >= indices.Length || batchDims >= data.Length) throw op.Fail($"batch_dims {batchDims} must be less than the ranks of data and indices");
        if (depth > data.Length - batchDims) throw op.Fail($"index tuples of length {depth} exceed the {data.Length - batchDims} non-batch data dimensions");
        for (int d = 0; d < batchDims; d++)
            if (data[d] != indices[d]) throw op.Fail($"batch dimension {d} differs between data ({data[d]}) and indices ({indices[d]})");
        op.SetOutput(0, op.Type(0), indices.Take(indices.Length - 1).Concat(data.Skip(batchDims + depth)).ToArray());
    }

    static int BatchDims(OpContext op)
    {
        long batchDims = op.Attributes.Int("batch_dims", 0);
        // Bounded before narrowing: a huge value must not wrap to a small or negative int.
        if (batchDims < 0 || batchDims > int.MaxValue) throw op.Fail($"batch_dims {batchDims} must be between 0 and the rank of the inputs");
        return (int)batchDims;
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var indices = op.Shape(1);
        int batchDims = BatchDims(op), depth = indices[indices.Length - 1];
        int tuplesPerBatch = TensorSelection.Product(indices, batchDims, indices.Length - 1);
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.GatherND.Run<{code.InType(0)}>({code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, " +
                         $"{Literals.Int(batchDims)}, {Literals.Int(depth)}, {Literals.Int(tuplesPerBatch)}, {code.Out(0)});");
    }
}
