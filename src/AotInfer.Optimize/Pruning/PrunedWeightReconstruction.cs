using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Pruning;

/// <summary>
/// Pruning without fine-tuning, repaired by least squares (the layer-wise reconstruction of OBS / SparseGPT): after
/// magnitude pruning fixes which weights are zero, the kept weights of each Gemm / MatMul output unit are re-fitted so
/// that the unit's output on calibration inputs stays as close as possible to the unpruned one. With H = Σ x xᵀ over
/// the layer's inputs (streamed: one K×K sum per layer, never the inputs), kept set S and pruned set P,
/// minimising (w − w')ᵀ H (w − w') with w'_P = 0 gives w'_S = w_S + H_SS⁻¹ H_SP w_P. Conv layers keep their
/// magnitude-pruned weights.
/// </summary>
public static class PrunedWeightReconstruction
{
    /// <summary>Relative damping added to the diagonal of H (inputs that never vary make H singular).</summary>
    public const double Damping = 0.01;

    /// <summary>
    /// Re-fits the kept weights of the Gemm / MatMul layers of <paramref name="pruned"/> (edited in place), using the
    /// layer inputs of <paramref name="original"/> on <paramref name="data"/>; returns the names of the layers re-fitted.
    /// </summary>
    public static List<string> Reconstruct(ModelProto pruned, ModelProto original, LabeledImages data, ModelRunnerFactory runners, string? modelDirectory = null)
    {
        var graph = new GraphEditor(pruned, modelDirectory);
        var layers = WeightedLayer.Find(graph).Where(l => l.Node.OpType is "Gemm" or "MatMul").ToList();
        var originalGraph = new GraphEditor(original, modelDirectory);
        var originalWeights = WeightedLayer.Find(originalGraph).ToDictionary(l => l.Name, l => originalGraph.ReadFloat(l.WeightName)!.As<float>());
        layers = layers.Where(l => originalWeights.TryGetValue(l.Name, out var w) && w.Length == l.OutputCount * l.UnitSize).ToList();
        if (layers.Count == 0) return new List<string>();

        var hessians = Accumulate(original, data, layers, runners, modelDirectory);
        var done = new List<string>();
        foreach (var layer in layers)
        {
            var w = originalWeights[layer.Name];
            var mask = graph.ReadFloat(layer.WeightName)!.As<float>();
            var result = (float[])mask.Clone();
            var h = hessians[layer.Node.Input[0]];
            int k = layer.UnitSize;
            double damping = Damping * Enumerable.Range(0, k).Average(i => h[i * k + i]) + 1e-12;
            for (int unit = 0; unit < layer.OutputCount; unit++)
            {
                var kept = Enumerable.Range(0, k).Where(j => mask[layer.Index(unit, j)] != 0).ToArray();
                var removed = Enumerable.Range(0, k).Where(j => mask[layer.Index(unit, j)] == 0 && w[layer.Index(unit, j)] != 0).ToArray();
                if (kept.Length == 0 || removed.Length == 0) continue;
                // Solve (H_SS + λI) δ = H_SP w_P; the kept weights become w_S + δ.
                var system = new double[kept.Length * kept.Length];
                var rhs = new double[kept.Length];
                for (int a = 0; a < kept.Length; a++)
                {
                    for (int b = 0; b < kept.Length; b++) system[a * kept.Length + b] = h[kept[a] * k + kept[b]];
                    system[a * kept.Length + a] += damping;
                    double sum = 0;
                    foreach (int p in removed) sum += h[kept[a] * k + p] * w[layer.Index(unit, p)];
                    rhs[a] = sum;
                }
                if (!CholeskySolve(system, rhs, kept.Length)) continue;
                for (int a = 0; a < kept.Length; a++)
                {
                    int index = layer.Index(unit, kept[a]);
                    result[index] = (float)(w[index] + rhs[a]);
                }
            }
            MagnitudePruning.WriteWeight(graph, layer, result);
            done.Add(layer.Name);
        }
        ModelWriter.Stamp(pruned, "prune.reconstruct", $"least-squares re-fit of the kept weights of {done.Count} layers on {data.Count} samples");
        return done;
    }

    /// <summary>H = Σ x xᵀ of each layer's input over the data (rows of a batched input each count), streamed.</summary>
    static Dictionary<string, double[]> Accumulate(ModelProto model, LabeledImages data, List<WeightedLayer> layers, ModelRunnerFactory runners, string? modelDirectory)
    {
        var sizes = new Dictionary<string, int>();
        foreach (var l in layers) sizes[l.Node.Input[0]] = l.UnitSize;
        var inputNames = new HashSet<string>(model.Graph.Input.Select(i => i.Name));
        var observed = sizes.Keys.Where(n => !inputNames.Contains(n)).ToList();
        var sums = sizes.ToDictionary(s => s.Key, s => new double[s.Value * s.Value]);
        using var runner = runners(model, modelDirectory, observed);
        var progress = new Progress("reconstruction statistics", data.Count);
        for (int i = 0; i < data.Count; i++)
        {
            var sample = data.Sample(i);
            var outputs = runner.Run(sample);
            foreach (var (name, k) in sizes)
            {
                ReadOnlySpan<float> x = inputNames.Contains(name) ? sample : outputs[LastIndexOf(runner.OutputNames, name)];
                var h = sums[name];
                for (int row = 0; row + k <= x.Length; row += k)
                    for (int a = 0; a < k; a++)
                    {
                        double xa = x[row + a];
                        if (xa == 0) continue; // ReLU outputs are mostly zeros
                        for (int b = 0; b < k; b++) h[a * k + b] += xa * x[row + b];
                    }
            }
            progress.Report(i + 1);
        }
        return sums;
    }

    static int LastIndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = names.Count - 1; i >= 0; i--) if (names[i] == name) return i;
        throw new InvalidOperationException($"the runner does not output '{name}'");
    }

    /// <summary>Solves A x = b in place (b becomes x) for symmetric positive definite A; false when A is not.</summary>
    static bool CholeskySolve(double[] a, double[] b, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double diagonal = a[j * n + j];
            for (int p = 0; p < j; p++) diagonal -= a[j * n + p] * a[j * n + p];
            if (!(diagonal > 0)) return false;
            double l = Math.Sqrt(diagonal);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                double sum = a[i * n + j];
                for (int p = 0; p < j; p++) sum -= a[i * n + p] * a[j * n + p];
                a[i * n + j] = sum / l;
            }
        }
        for (int i = 0; i < n; i++)
        {
            double sum = b[i];
            for (int p = 0; p < i; p++) sum -= a[i * n + p] * b[p];
            b[i] = sum / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = b[i];
            for (int p = i + 1; p < n; p++) sum -= a[p * n + i] * b[p];
            b[i] = sum / a[i * n + i];
        }
        return true;
    }
}
