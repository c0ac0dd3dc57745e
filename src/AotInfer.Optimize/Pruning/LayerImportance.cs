using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Pruning;

/// <summary>How much accuracy one layer loses when pruned alone.</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="OpType">Conv, Gemm or MatMul.</param>
/// <param name="Weights">Number of weights of the layer.</param>
/// <param name="Accuracy">Top-1 accuracy with only this layer pruned.</param>
/// <param name="Drop">Baseline accuracy minus <paramref name="Accuracy"/> (positive: the layer is sensitive).</param>
public sealed record LayerSensitivity(string Layer, string OpType, int Weights, double Accuracy, double Drop);

/// <summary>The baseline accuracy and each layer's sensitivity, most sensitive first.</summary>
/// <param name="Sparsity">Sparsity each layer was pruned to.</param>
/// <param name="BaselineAccuracy">Accuracy of the unpruned model.</param>
/// <param name="Layers">Layers sorted by accuracy drop, largest first.</param>
public sealed record LayerRanking(double Sparsity, double BaselineAccuracy, IReadOnlyList<LayerSensitivity> Layers);

/// <summary>
/// Layer-importance ranking by accuracy drop: each prunable layer is pruned alone (magnitude, to the given
/// sparsity) and the model evaluated; layers whose pruning costs little are where to prune harder (or to give a
/// per-layer sparsity budget), sensitive ones are to spare.
/// </summary>
public static class LayerImportance
{
    /// <summary>Ranks the layers of <paramref name="model"/> (not modified) on <paramref name="data"/>.</summary>
    public static LayerRanking Rank(ModelProto model, LabeledImages data, double sparsity, ModelRunnerFactory runners, string? modelDirectory = null)
    {
        if (!(sparsity > 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be in (0, 1)");
        var layers = WeightedLayer.Find(new GraphEditor(model, modelDirectory));
        if (layers.Count == 0) throw new InvalidOperationException("the model has no prunable layer (Conv, Gemm or MatMul with a constant float weight)");
        double baseline = Accuracy(model, data, runners, modelDirectory, "baseline");
        var result = new List<LayerSensitivity>();
        foreach (var layer in layers)
        {
            var pruned = model.Clone();
            MagnitudePruning.Prune(pruned, sparsity, global: false, modelDirectory, only: new HashSet<string> { layer.Name });
            double accuracy = Accuracy(pruned, data, runners, modelDirectory, "prune " + layer.Name);
            result.Add(new LayerSensitivity(layer.Name, layer.Node.OpType, ShapeWeights(layer), accuracy, baseline - accuracy));
        }
        return new LayerRanking(sparsity, baseline, result.OrderByDescending(l => l.Drop).ThenBy(l => l.Layer, StringComparer.Ordinal).ToList());
    }

    static int ShapeWeights(WeightedLayer layer) => layer.OutputCount * layer.UnitSize;

    static double Accuracy(ModelProto model, LabeledImages data, ModelRunnerFactory runners, string? modelDirectory, string label)
    {
        using var runner = runners(model, modelDirectory, Array.Empty<string>());
        return AccuracyEvaluator.Evaluate(runner, null, data, label).Accuracy;
    }
}
