using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Decides whether a model whose leading input dimension is symbolic can take the batch size at run time. The graph
/// is compiled for one sample; a run over N samples runs it N times on consecutive slices. That is only equal to
/// the model's meaning when no node mixes samples, which this pass proves by following the batch axis through every
/// node: it must stay the outermost axis and no op may compute across it. Unknown ops are assumed to mix.
/// </summary>
public static class BatchSeparability
{
    /// <summary>
    /// Returns null when every node keeps samples apart (and <paramref name="batched"/> holds the values that carry the
    /// batch axis), or the reason naming the first node that mixes them.
    /// </summary>
    public static string? Analyze(Graph graph, out HashSet<Value> batched)
    {
        var carrying = new HashSet<Value>(graph.Batched);
        batched = carrying;
        foreach (var node in graph.Nodes)
        {
            var inputs = node.Inputs.Where(i => i is not null && carrying.Contains(i)).Select(i => i!).ToList();
            if (inputs.Count == 0) continue; // computed from constants and unbatched inputs only: the same for every sample
            string? problem = Check(node, inputs);
            if (problem is not null) return $"node {node} {problem}";
            foreach (var output in node.Outputs)
            {
                if (output.Shape!.Length == 0 || output.Shape[0] != 1) return $"node {node} output '{output.Name}' loses the batch axis";
                batched.Add(output);
            }
        }
        foreach (var output in graph.Outputs)
            if (!batched.Contains(output)) return $"graph output '{output.Name}' does not depend on the batched inputs";
        return null;
    }

    static string? Check(Node node, List<Value> batchedInputs)
    {
        var a = node.Attributes;
        int rank = node.Outputs[0].Shape!.Length;
        // Every batched input must carry the batch on its first axis and be as long as the output (no broadcasting of
        // a batched tensor into a higher rank, which would move the batch inward).
        foreach (var input in batchedInputs)
            if (input.Shape!.Length != rank && !RankChanging.Contains(node.OpType)) return "broadcasts a batched tensor to another rank";
        switch (node.OpType)
        {
            case var op when SampleWise.Contains(op):
                return null;
            case "BatchNormalization":
                return a.Int("training_mode", 0) != 0 || node.Input(5) is not null ? "computes statistics over the batch" : null;
            case "LayerNormalization":
                return Normalize(a.Int("axis", -1), rank) == 0 ? "normalises across the batch axis" : null;
            case "Softmax" or "LogSoftmax" or "Hardmax":
                long axis = a.Int("axis", node.Opset >= 13 ? -1 : 1);
                return Normalize(axis, rank) == 0 ? "normalises across the batch axis" : null;
            case "QuantizeLinear" or "DequantizeLinear":
                // Per tensor, or per axis along a channel axis: each element is converted alone.
                bool perAxis = node.Input(1)?.Shape is { Length: 1 } scales && scales[0] > 1;
                return perAxis && Normalize(a.Int("axis", 1), rank) == 0 ? "quantises along the batch axis" : null;
            case "Gemm" or "QGemm":
                return node.Input(0) is { } x && batchedInputs.Contains(x) && a.Int("transA", 0) == 0 && batchedInputs.Count == 1
                    ? null : "multiplies across the batch";
            case "MatMul" or "QLinearMatMul" or "MatMulIntegerToFloat":
                return batchedInputs.Count == 1 && batchedInputs[0] == node.Input(0) && node.Input(0)!.Shape!.Length >= 2
                    ? null : "multiplies across the batch";
            case "Flatten":
                return a.Int("axis", 1) == 0 ? "flattens the batch axis" : null;
            case "Reshape":
                return null; // the output's first dimension is checked to be 1: the sample block stays contiguous and first
            case "Squeeze" or "Unsqueeze":
                var changed = a.Ints("axes") ?? node.Input(1)?.Constant?.ToInt64();
                int axesRank = node.OpType == "Squeeze" ? node.Input(0)!.Shape!.Length : rank;
                return changed is null || changed.Any(x => Normalize(x, axesRank) == 0) ? "changes the batch axis" : null;
            case "Transpose":
                var perm = a.Ints("perm");
                return perm is null || perm.Length == 0 || perm[0] == 0 ? (perm is null && rank > 1 ? "moves the batch axis" : null) : "moves the batch axis";
            case "Concat" or "Split" or "ArgMax" or "ArgMin" or "LpNormalization" or "CumSum" or "Gather":
                long along = a.Int("axis", node.OpType is "LpNormalization" ? -1 : 0);
                if (node.OpType is "Gather" && batchedInputs.Contains(node.Input(1)!)) return "gathers with batched indices";
                return Normalize(along, node.Input(0)!.Shape!.Length) == 0 ? "works along the batch axis" : null;
            case var op when op.StartsWith("Reduce", System.StringComparison.Ordinal):
                var axes = a.Ints("axes") ?? node.Input(1)?.Constant?.ToInt64();
                int inputRank = node.Input(0)!.Shape!.Length;
                if (axes is null || axes.Length == 0) return "reduces over every axis, the batch included";
                return axes.Any(x => Normalize(x, inputRank) == 0) ? "reduces over the batch axis" : null;
            default:
                return $"({node.OpType}) is not known to keep samples apart";
        }
    }

    static long Normalize(long axis, int rank) => axis < 0 ? axis + rank : axis;

    /// <summary>Ops whose output for one sample depends only on that sample (first axis = batch, N-first layouts).</summary>
    static readonly HashSet<string> SampleWise = new()
    {
        "Abs", "Acos", "Acosh", "Add", "And", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Celu", "Clip", "Cos", "Cosh", "Div",
        "Elu", "Equal", "Erf", "Exp", "Floor", "Gelu", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "IsInf",
        "IsNaN", "LeakyRelu", "Less", "LessOrEqual", "Log", "Max", "Mean", "Min", "Mish", "Mod", "Mul", "Neg", "Not", "Or",
        "Pow", "PRelu", "Reciprocal", "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus",
        "Softsign", "Sqrt", "Sub", "Sum", "Swish", "Tan", "Tanh", "ThresholdedRelu", "Where", "Xor", "Cast", "CastLike",
        "Identity", "Dropout", "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
        "GlobalMaxPool", "GlobalLpPool", "InstanceNormalization", "LRN", "GroupNormalization", "RMSNormalization",
        "DepthToSpace", "SpaceToDepth",
        // The integer forms QDQ lowering produces (constant weights, per-tensor activation parameters).
        "QLinearConv", "QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "QLinearSigmoid", "QLinearLeakyRelu",
    };

    /// <summary>Ops whose output rank legitimately differs from their batched input's (checked separately).</summary>
    static readonly HashSet<string> RankChanging = new(new[]
    {
        "Flatten", "Reshape", "Squeeze", "Unsqueeze", "MatMul", "QLinearMatMul", "MatMulIntegerToFloat", "ArgMax", "ArgMin", "ReduceL1", "ReduceL2", "ReduceLogSum",
        "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare",
    });
}
