using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Distillation;

/// <summary>
/// Plain transfer learning: freeze chosen layers so only the rest trains, and replace the classification head (the
/// last Gemm, whose output is the logits) with a freshly initialised one for a new number of classes.
/// </summary>
public static class TransferLearning
{
    /// <summary>
    /// Freezes the parameters named by <paramref name="names"/>: an initializer name, or a node name (all of its
    /// trainable inputs). Every name that matches nothing is reported at once.
    /// </summary>
    public static int Freeze(TrainingGraph graph, ModelProto model, IEnumerable<string> names)
    {
        var parameters = graph.Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var unknown = new List<string>();
        int frozen = 0;
        foreach (var name in names)
        {
            var matched = parameters.TryGetValue(name, out var direct) ? new List<Parameter> { direct }
                : model.Graph.Node.Where(n => n.Name == name).SelectMany(n => n.Input).Where(parameters.ContainsKey).Select(i => parameters[i]).ToList();
            if (matched.Count == 0) { unknown.Add(name); continue; }
            foreach (var p in matched.Where(p => !p.Frozen)) { p.Frozen = true; frozen++; }
        }
        if (unknown.Count > 0)
            throw new ArgumentException($"cannot freeze {string.Join(", ", unknown.Select(u => "'" + u + "'"))}: not a trainable initializer or a node with one (parameters: {string.Join(", ", parameters.Keys.Take(12))}{(parameters.Count > 12 ? ", ..." : "")})");
        return frozen;
    }

    /// <summary>
    /// Replaces the weight and bias of the Gemm that produces the logits with He-initialised weights and zero biases
    /// for <paramref name="classes"/> outputs (seeded by <paramref name="seed"/>). Returns the head's node name.
    /// </summary>
    public static string ReplaceHead(ModelProto model, int classes, int seed, string? modelDirectory = null)
    {
        if (classes < 2) throw new ArgumentException($"a new head needs at least 2 classes, not {classes}");
        var graph = new GraphEditor(model, modelDirectory);
        string logits = graph.Graph.Output[0].Name;
        var producer = graph.Producer(logits);
        if (producer is { OpType: "Softmax" or "LogSoftmax" }) producer = graph.Producer(producer.Input[0]);
        var layer = producer is null ? null : WeightedLayer.Find(graph).FirstOrDefault(l => ReferenceEquals(l.Node, producer));
        if (layer is null || producer!.OpType != "Gemm")
            throw new InvalidOperationException($"the model's output '{logits}' is not produced by a Gemm with a constant weight (optionally followed by Softmax), so there is no head to replace");
        if (graph.Consumers(layer.WeightName).Count > 1) throw new InvalidOperationException($"the head's weight '{layer.WeightName}' is shared with other nodes");
        int features = layer.UnitSize;
        int[] shape = layer.OutputAxis == 0 ? new[] { classes, features } : new[] { features, classes };
        var weights = Models.MlpBuilder.HeNormal(new Random(seed), classes * features, features);
        graph.SetInitializer(layer.WeightName, new Tensor(DataType.Float, shape, weights));
        if (layer.BiasName is not null) graph.SetInitializer(layer.BiasName, new Tensor(DataType.Float, new[] { classes }, new float[classes]));
        // The old output shapes no longer hold.
        foreach (var output in graph.Graph.Output.Where(o => o.Type?.TensorType is not null)) output.Type.TensorType.Shape = null;
        graph.ForgetValueInfo(producer.Output[0]);
        return layer.Name;
    }
}
