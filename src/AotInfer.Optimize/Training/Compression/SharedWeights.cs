using System;
using System.Collections.Generic;

namespace AotInfer.Optimize.Training.Compression;

/// <summary>
/// Fine-tuning of shared weights (Deep Compression's centroid fine-tuning): after clustering, the weights of a layer
/// that hold the same value are one shared weight, a centroid. Its gradient is the sum of its members' gradients, so
/// before each optimiser step every member's gradient is replaced by that sum: element-wise optimisers (SGD, momentum,
/// AdaGrad, Adam) then move all members alike, and before each forward pass the members are set to their mean so
/// rounding can never split a cluster. Zero weights are pruned ones and stay out of every cluster (the pruning mask
/// keeps them zero). The clusters are read from the values at the first step.
/// </summary>
public sealed class SharedWeights : ITrainingHook
{
    readonly Dictionary<string, Clusters> _clusters = new(StringComparer.Ordinal);

    /// <summary>The members of each centroid of one weight tensor: <c>Of[i]</c> is element i's centroid, −1 when pruned.</summary>
    sealed class Clusters(int[] of, int count)
    {
        public int[] Of { get; } = of;
        public int Count { get; } = count;
        public double[] Sums { get; } = new double[count];
        public int[] Sizes { get; } = new int[count];
    }

    /// <summary>Number of shared values of each weight found so far (for reports).</summary>
    public IReadOnlyDictionary<string, int> CentroidCounts
    {
        get
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (name, c) in _clusters) counts[name] = c.Count;
            return counts;
        }
    }

    /// <inheritdoc />
    public void BeforeForward(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            if (p.Role != ParameterRole.Weight || p.Frozen) continue;
            if (!_clusters.TryGetValue(p.Name, out var clusters)) _clusters[p.Name] = Find(p.Values.Span);
            else Average(p.Values.Span, clusters);
        }
    }

    /// <inheritdoc />
    public void BeforeStep(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            if (!_clusters.TryGetValue(p.Name, out var c)) continue;
            Span<float> g = p.Gradient.Span;
            Array.Clear(c.Sums);
            for (int i = 0; i < g.Length; i++) if (c.Of[i] >= 0) c.Sums[c.Of[i]] += g[i];
            for (int i = 0; i < g.Length; i++) g[i] = c.Of[i] >= 0 ? (float)c.Sums[c.Of[i]] : 0f;
        }
    }

    /// <inheritdoc />
    public void AfterSteps(IReadOnlyList<Parameter> parameters)
    {
        foreach (var p in parameters)
            if (_clusters.TryGetValue(p.Name, out var c)) Average(p.Values.Span, c);
    }

    static Clusters Find(ReadOnlySpan<float> values)
    {
        var index = new Dictionary<float, int>();
        var of = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] == 0) { of[i] = -1; continue; }
            if (!index.TryGetValue(values[i], out int c)) index[values[i]] = c = index.Count;
            of[i] = c;
        }
        return new Clusters(of, index.Count);
    }

    static void Average(Span<float> values, Clusters c)
    {
        Array.Clear(c.Sums);
        Array.Clear(c.Sizes);
        for (int i = 0; i < values.Length; i++)
            if (c.Of[i] >= 0) { c.Sums[c.Of[i]] += values[i]; c.Sizes[c.Of[i]]++; }
        for (int i = 0; i < values.Length; i++)
            if (c.Of[i] >= 0) values[i] = (float)(c.Sums[c.Of[i]] / c.Sizes[c.Of[i]]);
    }
}
