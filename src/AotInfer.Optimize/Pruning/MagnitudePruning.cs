using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Pruning;

/// <summary>Sparsity of one layer after pruning.</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="Weights">Number of weights.</param>
/// <param name="Zeros">Weights that are zero.</param>
public sealed record LayerSparsity(string Layer, int Weights, int Zeros)
{
    /// <summary>Zeros / Weights.</summary>
    public double Sparsity => Weights == 0 ? 0 : (double)Zeros / Weights;
}

/// <summary>
/// Unstructured magnitude pruning (the smallest |w| become zero, per layer or with one global threshold) and N:M
/// pruning (in every group of M consecutive weights along the input dimension, only the N largest survive — the
/// 2:4 pattern sparse tensor cores run). Biases are never pruned.
/// </summary>
public static class MagnitudePruning
{
    /// <summary>
    /// Zeroes the fraction <paramref name="sparsity"/> of the weights with the smallest magnitude, per layer or across
    /// all layers at once (<paramref name="global"/>: layers with many redundant weights lose more).
    /// </summary>
    /// <param name="model">The model, edited in place.</param>
    /// <param name="sparsity">Fraction of weights to zero, in [0, 1).</param>
    /// <param name="global">One threshold over all layers (otherwise each layer reaches the sparsity).</param>
    /// <param name="modelDirectory">Folder of external data.</param>
    /// <param name="only">With per-layer pruning, the names of the only layers to prune (null: all).</param>
    public static List<LayerSparsity> Prune(ModelProto model, double sparsity, bool global, string? modelDirectory = null, ISet<string>? only = null)
    {
        if (global && only is not null) throw new ArgumentException("global pruning ranks every layer together; choose layers with per-layer pruning");
        if (sparsity < 0 || sparsity >= 1) throw new ArgumentOutOfRangeException(nameof(sparsity), "sparsity must be in [0, 1)");
        var graph = new GraphEditor(model, modelDirectory);
        var layers = WeightedLayer.Find(graph);
        var weights = layers.Select(l => graph.ReadFloat(l.WeightName)!.As<float>().ToArray()).ToList();
        if (global)
        {
            // One ranking over every weight: (layer, index) pairs sorted by magnitude, the smallest zeroed.
            var all = new List<(float Magnitude, int Layer, int Index)>();
            for (int i = 0; i < layers.Count; i++)
                for (int j = 0; j < weights[i].Length; j++) all.Add((Math.Abs(weights[i][j]), i, j));
            all.Sort((a, b) => a.Magnitude.CompareTo(b.Magnitude));
            int count = (int)Math.Round(sparsity * all.Count);
            for (int k = 0; k < count; k++) weights[all[k].Layer][all[k].Index] = 0;
        }
        else
        {
            for (int i = 0; i < layers.Count; i++)
                if (only is null || only.Contains(layers[i].Name)) PruneWeights(weights[i], sparsity);
        }
        var result = new List<LayerSparsity>();
        for (int i = 0; i < layers.Count; i++)
        {
            WriteWeight(graph, layers[i], weights[i]);
            result.Add(new LayerSparsity(layers[i].Name, weights[i].Length, weights[i].Count(v => v == 0)));
        }
        ModelWriter.Stamp(model, "prune", $"magnitude {(global ? "global" : "per-layer")} sparsity {sparsity.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return result;
    }

    /// <summary>
    /// Zeroes the <paramref name="sparsity"/> fraction of <paramref name="weights"/> with the smallest magnitude
    /// (weights already zero count) and returns how many are zero: the step a fine-tuning loop repeats with
    /// <see cref="PruningSchedule.SparsityAt"/>.
    /// </summary>
    public static int PruneWeights(Span<float> weights, double sparsity)
    {
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be in [0, 1)");
        int count = (int)Math.Round(sparsity * weights.Length);
        var order = new int[weights.Length];
        var magnitudes = new float[weights.Length];
        for (int i = 0; i < weights.Length; i++) { order[i] = i; magnitudes[i] = Math.Abs(weights[i]); }
        Array.Sort(magnitudes, order);
        for (int k = 0; k < count; k++) weights[order[k]] = 0;
        int zeros = 0;
        foreach (float w in weights) if (w == 0) zeros++;
        return zeros;
    }

    /// <summary>Keeps the <paramref name="n"/> largest of every <paramref name="m"/> consecutive input weights of each output unit.</summary>
    public static List<LayerSparsity> PruneNofM(ModelProto model, int n, int m, string? modelDirectory = null)
    {
        if (m <= 0 || n < 0 || n > m) throw new ArgumentOutOfRangeException(nameof(n), "N:M needs 0 ≤ N ≤ M and M > 0");
        var graph = new GraphEditor(model, modelDirectory);
        var result = new List<LayerSparsity>();
        Span<int> order = stackalloc int[m];
        foreach (var layer in WeightedLayer.Find(graph))
        {
            var w = graph.ReadFloat(layer.WeightName)!.As<float>().ToArray();
            for (int unit = 0; unit < layer.OutputCount; unit++)
            {
                for (int start = 0; start < layer.UnitSize; start += m)
                {
                    int size = Math.Min(m, layer.UnitSize - start);
                    // A partial last group keeps the same proportion of weights.
                    int keep = size == m ? n : (int)Math.Ceiling((double)n * size / m);
                    for (int k = 0; k < size; k++) order[k] = layer.Index(unit, start + k);
                    var group = order.Slice(0, size);
                    // Selection by repeated maximum: groups are tiny.
                    for (int k = 0; k < keep; k++)
                    {
                        int best = k;
                        for (int q = k + 1; q < size; q++) if (Math.Abs(w[group[q]]) > Math.Abs(w[group[best]])) best = q;
                        (group[k], group[best]) = (group[best], group[k]);
                    }
                    for (int k = keep; k < size; k++) w[group[k]] = 0;
                }
            }
            WriteWeight(graph, layer, w);
            result.Add(new LayerSparsity(layer.Name, w.Length, w.Count(v => v == 0)));
        }
        ModelWriter.Stamp(model, "prune", $"{n}:{m} structured sparsity");
        return result;
    }

    /// <summary>Writes a layer's new weight under a fresh name (the old initializer may be shared).</summary>
    public static void WriteWeight(GraphEditor graph, WeightedLayer layer, float[] weights)
    {
        if (graph.Consumers(layer.WeightName).Count == 1) graph.SetInitializer(layer.WeightName, new Tensor(DataType.Float, layer.Shape, weights));
        else
        {
            string name = graph.UniqueName(layer.WeightName + "_" + layer.Name);
            graph.SetInitializer(name, new Tensor(DataType.Float, layer.Shape, weights));
            layer.Node.Input[1] = name;
        }
    }
}
