using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Pruning;

/// <summary>One layer whose output units were removed.</summary>
/// <param name="Layer">The pruned layer.</param>
/// <param name="Before">Output units before.</param>
/// <param name="After">Output units after.</param>
/// <param name="Consumer">The layer whose inputs were rewired.</param>
public sealed record StructuredPruneStep(string Layer, int Before, int After, string Consumer);

/// <summary>
/// Structured pruning: removes whole Conv output channels / Gemm neurons with the smallest L1 (or L2) norm and
/// rewires what follows so the model really shrinks: the layer's weight rows and bias, the BatchNormalization
/// parameters of the removed channels, and the matching input channels (Conv) or input features (Gemm after
/// Flatten: each channel owns H·W consecutive features) of the next weighted layer. A layer is left alone when its
/// output reaches anything else (residual Add, Concat, several readers, a graph output), so the graph stays consistent.
/// </summary>
public static class StructuredPruning
{
    static readonly HashSet<string> ChannelWiseOps = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus",
        "MaxPool", "AveragePool", "LpPool", "Dropout", "Identity", "BatchNormalization",
    };

    /// <summary>Removes the fraction <paramref name="ratio"/> of output units of every prunable layer.</summary>
    public static List<StructuredPruneStep> Prune(ModelProto model, double ratio, bool l2 = false, string? modelDirectory = null)
    {
        if (ratio <= 0 || ratio >= 1) throw new ArgumentOutOfRangeException(nameof(ratio), "ratio must be in (0, 1)");
        var graph = new GraphEditor(model, modelDirectory);
        var steps = new List<StructuredPruneStep>();
        // Layers are rediscovered after each step: shapes change as the graph is rewired.
        var names = WeightedLayer.Find(graph).Select(l => l.Node).ToList();
        foreach (var node in names)
        {
            var layer = WeightedLayer.Find(graph).First(l => l.Node == node);
            if (layer.Node.OpType == "Conv" && GraphEditor.GetInt(layer.Node, "group", 1) != 1) continue;
            var path = FollowToConsumer(graph, layer);
            if (path is null) continue;
            var (passThrough, consumer, flattenBlock) = path.Value;
            if (consumer.Node.OpType == "Conv" && GraphEditor.GetInt(consumer.Node, "group", 1) != 1) continue;

            int before = layer.OutputCount, keepCount = Math.Max(1, (int)Math.Round(before * (1 - ratio)));
            if (keepCount == before) continue;
            var w = graph.ReadFloat(layer.WeightName)!.As<float>();
            var norms = new double[before];
            for (int o = 0; o < before; o++)
                for (int j = 0; j < layer.UnitSize; j++) { double v = w[layer.Index(o, j)]; norms[o] += l2 ? v * v : Math.Abs(v); }
            var keep = Enumerable.Range(0, before).OrderByDescending(o => norms[o]).Take(keepCount).OrderBy(o => o).ToArray();

            SliceAxis(graph, layer.Node, 1, layer.WeightName, layer.OutputAxis, keep, 1);
            if (layer.BiasName is not null && graph.ReadFloat(layer.BiasName) is { } bias && bias.Length == before) SliceAxis(graph, layer.Node, 2, layer.BiasName, 0, keep, 1);
            foreach (var bn in passThrough.Where(n => n.OpType == "BatchNormalization"))
                for (int i = 1; i <= 4; i++) SliceAxis(graph, bn, i, bn.Input[i], 0, keep, 1);
            // The consumer's input axis: channels of a Conv weight (axis 1), features of a Gemm/MatMul weight.
            int inputAxis = consumer.Node.OpType == "Conv" ? 1 : 1 - consumer.OutputAxis;
            SliceAxis(graph, consumer.Node, 1, consumer.WeightName, inputAxis, keep, flattenBlock);
            foreach (var n in passThrough.Prepend(layer.Node)) foreach (var o in n.Output) graph.ForgetValueInfo(o);
            steps.Add(new StructuredPruneStep(layer.Name, before, keepCount, consumer.Name));
        }
        graph.RemoveUnused();
        ModelWriter.Stamp(model, "prune", $"structured ratio {ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({(l2 ? "L2" : "L1")})");
        return steps;
    }

    /// <summary>
    /// Walks from the layer's output through channel-wise nodes (and at most one Flatten) to the next weighted layer;
    /// null when the path branches or meets anything else.
    /// </summary>
    static (List<NodeProto> PassThrough, WeightedLayer Consumer, int FlattenBlock)? FollowToConsumer(GraphEditor graph, WeightedLayer layer)
    {
        var passThrough = new List<NodeProto>();
        string value = layer.Node.Output[0];
        bool flattened = false;
        var layers = WeightedLayer.Find(graph);
        while (true)
        {
            if (graph.IsGraphOutput(value)) return null;
            var readers = graph.Consumers(value);
            if (readers.Count != 1) return null;
            var (node, input) = readers[0];
            if (layers.FirstOrDefault(l => l.Node == node) is { } next)
            {
                if (input != 0) return null;
                int features = next.Node.OpType == "Conv" ? next.Shape[1] : next.Shape[1 - next.OutputAxis];
                if (next.Node.OpType == "Conv" && flattened) return null;
                if (features % layer.OutputCount != 0) return null;
                int block = features / layer.OutputCount;
                // Without a Flatten the features must be exactly the channels.
                if (!flattened && block != 1) return null;
                return (passThrough, next, block);
            }
            if (node.OpType == "Flatten" && !flattened && GraphEditor.GetInt(node, "axis", 1) == 1) flattened = true;
            else if (!ChannelWiseOps.Contains(node.OpType) || input != 0) return null;
            else if (node.OpType == "BatchNormalization" && node.Input.Skip(1).Take(4).Any(i => !graph.IsConstant(i))) return null;
            else if (node.OpType == "Clip" && node.Input.Skip(1).Any(i => i.Length > 0 && !graph.IsConstant(i))) return null;
            if (node.Output.Count > 1 && node.Output.Skip(1).Any(o => o.Length > 0 && graph.Consumers(o).Count > 0)) return null;
            passThrough.Add(node);
            value = node.Output[0];
        }
    }

    /// <summary>
    /// Keeps only the <paramref name="keep"/> indices (each a block of <paramref name="block"/> consecutive entries)
    /// along <paramref name="axis"/> of the initializer <paramref name="name"/>, written under a fresh name for the node's input.
    /// </summary>
    static void SliceAxis(GraphEditor graph, NodeProto node, int inputIndex, string name, int axis, int[] keep, int block)
    {
        var tensor = graph.ReadFloat(name)!;
        var shape = tensor.Shape;
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        var source = tensor.As<float>();
        var newShape = (int[])shape.Clone();
        newShape[axis] = keep.Length * block;
        var result = new float[ShapeMath.ElementCount(newShape)];
        int r = 0;
        for (int o = 0; o < outer; o++)
            foreach (int k in keep)
                for (int b = 0; b < block; b++)
                {
                    Array.Copy(source, (o * shape[axis] + k * block + b) * inner, result, r, inner);
                    r += inner;
                }
        string newName = graph.UniqueName(name + "_pruned");
        graph.SetInitializer(newName, new Tensor(DataType.Float, newShape, result));
        node.Input[inputIndex] = newName;
    }
}
