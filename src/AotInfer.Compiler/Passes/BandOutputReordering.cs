using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Moves a band layout's lane order into the graph: when a product's only reader is another product with constant
/// weights, the first computes its outputs in lane order (its weight columns and bias permuted) and the second reads
/// them so (its weight rows permuted the same way). The band kernel then needs no gathers to put its sums back in
/// output order (0.1 µs of the 784×300 layer of fashion_lenet300 at 95 %), and the reader's own lane order is free.
/// The fused activation is element-wise, so the order does not matter to it.
/// </summary>
internal static class BandOutputReordering
{
    /// <summary>
    /// True when <paramref name="producer"/>'s outputs may be computed in any order: its only reader is a Gemm/MatMul
    /// that takes them as A against a constant float B, and its bias (if any) is per output or a scalar.
    /// </summary>
    public static bool CanReorder(Node producer, int n)
    {
        if (FusionGraph.SoleReader(producer) is not { Domain: "", OpType: "Gemm" or "MatMul" } reader || reader.Input(0) != producer.Outputs[0]) return false;
        if (reader.OpType == "Gemm" && reader.Attributes.Int("transA", 0) != 0) return false;
        if (reader.Input(1)?.Constant is not { Type: DataType.Float, Shape.Length: 2 } readerWeights || readerWeights.Shape[ReaderTransB(reader) ? 1 : 0] != n) return false;
        return producer.Input(2) is null || producer.Input(2)!.Constant is { Type: DataType.Float } bias && (bias.Length == n || bias.Length == 1);
    }

    /// <summary>
    /// Permutes the outputs of a <paramref name="producer"/> that <see cref="CanReorder"/> to <paramref name="outputOfSlot"/>
    /// (new output s is old output outputOfSlot[s]), and its reader's inputs with them.
    /// </summary>
    public static void Reorder(Graph graph, Node producer, int[] outputOfSlot)
    {
        var reader = FusionGraph.SoleReader(producer)!;
        var bias = producer.Input(2)?.Constant;
        bool transB = producer.OpType == "Gemm" && producer.Attributes.Int("transB", 0) != 0;
        FusionGraph.SetConstantInput(graph, producer, 1, producer.Name + ":lane_ordered_weights", Permute(producer.Input(1)!.Constant!, transB ? 0 : 1, outputOfSlot));
        if (bias is not null && bias.Length == outputOfSlot.Length)
            FusionGraph.SetConstantInput(graph, producer, 2, producer.Name + ":lane_ordered_bias", new Tensor(DataType.Float, bias.Shape, outputOfSlot.Select(j => bias.As<float>()[j]).ToArray()));
        FusionGraph.SetConstantInput(graph, reader, 1, reader.Name + ":lane_ordered_weights", Permute(reader.Input(1)!.Constant!, ReaderTransB(reader) ? 1 : 0, outputOfSlot));
    }

    static bool ReaderTransB(Node reader) => reader.OpType == "Gemm" && reader.Attributes.Int("transB", 0) != 0;

    /// <summary>A copy of the 2-D float <paramref name="matrix"/> whose index i along <paramref name="axis"/> holds the old index order[i].</summary>
    static Tensor Permute(Tensor matrix, int axis, int[] order)
    {
        int rows = matrix.Shape[0], columns = matrix.Shape[1];
        var from = matrix.As<float>();
        var to = new float[from.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                to[r * columns + c] = axis == 0 ? from[order[r] * columns + c] : from[r * columns + order[c]];
        return new Tensor(DataType.Float, matrix.Shape, to);
    }
}
