using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Pruning;

namespace AotInfer.Optimize.Clustering;

/// <summary>How k-means chooses its first centroids.</summary>
public enum ClusterInit
{
    /// <summary>k-means++: each next centroid drawn with probability proportional to its squared distance (D²) to the chosen ones.</summary>
    KMeansPlusPlus,
    /// <summary>
    /// The least-squares optimal 1-D clustering of a fine histogram of the weights (dynamic programming over
    /// <see cref="WeightClustering.HistogramBins"/> bins), then refined by Lloyd iterations on the exact values. Lowest
    /// weight error, yet on fashion_lenet300 (16 values per layer) it lost 0.45 accuracy points where k-means++ lost
    /// 0.30: the weight error is not the accuracy, so k-means++ stays the default.
    /// </summary>
    Optimal,
}

/// <summary>The precision of the centroids (the codebook) a palette stores.</summary>
public enum CodebookPrecision
{
    /// <summary>Centroids are any float32 value.</summary>
    Float32,
    /// <summary>
    /// Centroids are rounded to float16-representable values and every weight re-assigned to the nearest rounded one:
    /// the model stays float32, but the generator stores each palette entry in 2 bytes instead of 4, which matters for
    /// per-channel palettes (16 entries per output channel).
    /// </summary>
    Float16,
}

/// <summary>Result of clustering one layer.</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="Weights">Number of weights.</param>
/// <param name="DistinctValues">Distinct values after clustering (per layer, or the largest per channel).</param>
/// <param name="Sqnr">Signal-to-quantisation-noise ratio of the weights in dB.</param>
public sealed record ClusteredLayer(string Layer, int Weights, int DistinctValues, double Sqnr);

/// <summary>
/// Weight sharing (Deep Compression's second stage): the weights of each layer (or each output channel) are
/// replaced by the nearest of K centroids found by k-means (k-means++ or optimal 1-D initialisation). The written model keeps
/// float weights that take only K distinct values, so ONNX Runtime runs it unchanged and a palette emitter can store
/// ⌈log2 K⌉-bit indices plus K floats. Zeros from pruning stay exactly zero (they are excluded and kept).
/// </summary>
public static class WeightClustering
{
    /// <summary>Clusters every weighted layer of <paramref name="model"/> in place.</summary>
    public static List<ClusteredLayer> Cluster(ModelProto model, int k, bool perChannel, int seed = 1234, int iterations = 50, string? modelDirectory = null,
        ClusterInit init = ClusterInit.KMeansPlusPlus, CodebookPrecision codebook = CodebookPrecision.Float32)
    {
        if (k < 2) throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 2");
        var graph = new GraphEditor(model, modelDirectory);
        var result = new List<ClusteredLayer>();
        foreach (var layer in WeightedLayer.Find(graph))
        {
            var original = graph.ReadFloat(layer.WeightName)!.As<float>();
            var w = (float[])original.Clone();
            var random = new Random(seed);
            int distinct = 0;
            if (perChannel)
            {
                var index = new int[layer.UnitSize];
                var values = new float[layer.UnitSize];
                for (int o = 0; o < layer.OutputCount; o++)
                {
                    for (int j = 0; j < index.Length; j++) { index[j] = layer.Index(o, j); values[j] = w[index[j]]; }
                    ClusterInPlace(values, k, random, iterations, init, codebook);
                    for (int j = 0; j < index.Length; j++) w[index[j]] = values[j];
                    distinct = Math.Max(distinct, values.Distinct().Count());
                }
            }
            else
            {
                ClusterInPlace(w, k, random, iterations, init, codebook);
                distinct = w.Distinct().Count();
            }
            MagnitudePruning.WriteWeight(graph, layer, w);
            result.Add(new ClusteredLayer(layer.Name, w.Length, distinct, Sqnr(original, w)));
        }
        ModelWriter.Stamp(model, "cluster", $"k-means k={k} {(perChannel ? "per channel" : "per layer")} init={init} codebook={codebook} seed={seed}");
        return result;
    }

    /// <summary>
    /// 1-D k-means on the non-zero values (zeros are kept: they are pruned weights); every value is replaced by its
    /// centroid. Sorting makes each assignment a binary search over centroid midpoints. With
    /// <see cref="CodebookPrecision.Float16"/> the final centroids are rounded to halves (and merged where they round
    /// alike) before the values are assigned.
    /// </summary>
    public static float[] ClusterInPlace(float[] values, int k, Random random, int iterations, ClusterInit init = ClusterInit.KMeansPlusPlus,
        CodebookPrecision codebook = CodebookPrecision.Float32)
    {
        var nonZero = values.Where(v => v != 0).ToArray();
        bool hasZero = nonZero.Length < values.Length;
        int clusters = Math.Min(hasZero ? k - 1 : k, nonZero.Distinct().Count());
        if (clusters <= 0 || nonZero.Length == 0) return Array.Empty<float>();
        Array.Sort(nonZero);
        var centroids = init switch
        {
            ClusterInit.Optimal => OptimalCentroids(nonZero, clusters),
            _ => KMeansPlusPlus(nonZero, clusters, random),
        };
        clusters = centroids.Length;
        var assignment = new int[nonZero.Length];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            Array.Sort(centroids);
            var sums = new double[clusters];
            var counts = new int[clusters];
            bool changed = false;
            for (int i = 0; i < nonZero.Length; i++)
            {
                int c = Nearest(centroids, nonZero[i]);
                changed |= c != assignment[i];
                assignment[i] = c;
                sums[c] += nonZero[i];
                counts[c]++;
            }
            for (int c = 0; c < clusters; c++) if (counts[c] > 0) centroids[c] = (float)(sums[c] / counts[c]);
            if (!changed && iteration > 0) break;
        }
        if (codebook == CodebookPrecision.Float16) centroids = centroids.Select(RoundToHalf).Distinct().ToArray();
        Array.Sort(centroids);
        for (int i = 0; i < values.Length; i++)
            if (values[i] != 0) values[i] = centroids[Nearest(centroids, values[i])];
        return centroids;
    }

    /// <summary>Most bins of the histogram <see cref="ClusterInit.Optimal"/> clusters exactly.</summary>
    public const int HistogramBins = 2048;

    /// <summary>
    /// Optimal k-means of the values' histogram: the best split of the sorted bins into k runs of consecutive bins
    /// (1-D clusters are always contiguous), by dynamic programming on the within-run squared error; the run means
    /// are the centroids.
    /// </summary>
    static float[] OptimalCentroids(float[] sorted, int k)
    {
        // The search is quadratic in the bins: small tensors (per-channel clustering) get about 4 values per bin.
        int bins = Math.Min(HistogramBins, Math.Max(4 * k, sorted.Length / 4));
        double low = sorted[0], high = sorted[sorted.Length - 1], width = (high - low) / bins;
        // Prefix sums of count, sum and sum of squares per bin: the squared error of any run of bins in O(1).
        var count = new double[bins + 1];
        var sum = new double[bins + 1];
        var squares = new double[bins + 1];
        foreach (float v in sorted)
        {
            int b = width > 0 ? Math.Min((int)((v - low) / width), bins - 1) : 0;
            count[b + 1]++;
            sum[b + 1] += v;
            squares[b + 1] += (double)v * v;
        }
        for (int b = 1; b <= bins; b++) { count[b] += count[b - 1]; sum[b] += sum[b - 1]; squares[b] += squares[b - 1]; }
        double Cost(int from, int to) // bins [from, to)
        {
            double n = count[to] - count[from];
            if (n == 0) return 0;
            double s = sum[to] - sum[from];
            return squares[to] - squares[from] - s * s / n;
        }
        // best[m][i]: least error of the first i bins in m runs; start[m][i]: where the last run begins.
        var best = new double[k + 1, bins + 1];
        var start = new int[k + 1, bins + 1];
        for (int i = 1; i <= bins; i++) best[1, i] = Cost(0, i);
        for (int m = 2; m <= k; m++)
            for (int i = m; i <= bins; i++)
            {
                double bestCost = double.PositiveInfinity;
                int bestStart = m - 1;
                for (int j = m - 1; j < i; j++)
                {
                    double cost = best[m - 1, j] + Cost(j, i);
                    if (cost < bestCost) { bestCost = cost; bestStart = j; }
                }
                best[m, i] = bestCost;
                start[m, i] = bestStart;
            }
        var centroids = new List<float>();
        for (int m = k, end = bins; m >= 1 && end > 0; m--)
        {
            int begin = m == 1 ? 0 : start[m, end];
            double n = count[end] - count[begin];
            if (n > 0) centroids.Add((float)((sum[end] - sum[begin]) / n));
            end = begin;
        }
        return centroids.ToArray();
    }

    /// <summary>k-means++: the first centroid uniformly, each next one with probability proportional to D² (distance to the nearest chosen centroid).</summary>
    static float[] KMeansPlusPlus(float[] sorted, int k, Random random)
    {
        var centroids = new List<float> { sorted[random.Next(sorted.Length)] };
        var distance = new double[sorted.Length];
        for (int i = 0; i < sorted.Length; i++) distance[i] = Square(sorted[i] - centroids[0]);
        while (centroids.Count < k)
        {
            double total = distance.Sum();
            if (total <= 0) break;
            double pick = random.NextDouble() * total;
            int chosen = 0;
            for (double running = 0; chosen < sorted.Length - 1; chosen++) { running += distance[chosen]; if (running >= pick) break; }
            float c = sorted[chosen];
            centroids.Add(c);
            for (int i = 0; i < sorted.Length; i++) distance[i] = Math.Min(distance[i], Square(sorted[i] - c));
        }
        return centroids.ToArray();
    }

    /// <summary>The nearest float16 value (ties to even), kept inside the finite half range.</summary>
    public static float RoundToHalf(float value) => (float)(Half)Math.Clamp(value, (float)Half.MinValue, (float)Half.MaxValue);

    static double Square(double x) => x * x;

    static int Nearest(float[] sortedCentroids, float v)
    {
        int index = Array.BinarySearch(sortedCentroids, v);
        if (index >= 0) return index;
        index = ~index;
        if (index == 0) return 0;
        if (index == sortedCentroids.Length) return index - 1;
        return v - sortedCentroids[index - 1] <= sortedCentroids[index] - v ? index - 1 : index;
    }

    /// <summary>10·log10(Σx² / Σ(x−y)²) in dB (infinity when equal).</summary>
    public static double Sqnr(float[] original, float[] approximation)
    {
        double signal = 0, noise = 0;
        for (int i = 0; i < original.Length; i++) { signal += (double)original[i] * original[i]; double d = original[i] - approximation[i]; noise += d * d; }
        return noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
    }
}
