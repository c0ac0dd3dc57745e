using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Folding;

/// <summary>What <see cref="ModelFolding.Fold"/> changed.</summary>
public sealed class FoldReport
{
    /// <summary>One line per change, for the console.</summary>
    public List<string> Changes { get; } = new();

    /// <summary>BatchNormalization nodes folded into the preceding Conv/Gemm.</summary>
    public int BatchNormsFolded { get; set; }

    /// <summary>Identity and Dropout nodes removed.</summary>
    public int PassThroughsRemoved { get; set; }

    /// <summary>Constant nodes turned into initializers and nodes evaluated at fold time.</summary>
    public int ConstantsFolded { get; set; }
}

/// <summary>
/// ONNX-to-ONNX simplification on the <see cref="ModelProto"/>: Constant nodes become initializers, inference-mode
/// Identity and Dropout disappear, element-wise arithmetic on constants is evaluated, and BatchNormalization is
/// folded into the Conv or Gemm before it (W' = W·s per output unit, b' = (b − mean)·s + β with s = γ/√(var+ε)).
/// Works on the protobuf alone so its output is a standard model any runtime can check.
/// </summary>
public static class ModelFolding
{
    /// <summary>Folds <paramref name="model"/> in place.</summary>
    public static FoldReport Fold(ModelProto model, string? modelDirectory = null)
    {
        var graph = new GraphEditor(model, modelDirectory);
        var report = new FoldReport();
        FoldConstantNodes(graph, report);
        RemovePassThroughs(graph, report);
        FoldConstantArithmetic(graph, report);
        FoldBatchNorms(graph, report);
        int removed = graph.RemoveUnused();
        if (removed > 0) report.Changes.Add($"removed {removed} unused initializers");
        return report;
    }

    static void FoldConstantNodes(GraphEditor graph, FoldReport report)
    {
        foreach (var node in graph.Graph.Node.Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx").ToList())
        {
            var attribute = node.Attribute.FirstOrDefault();
            TensorProto? value = attribute?.Name switch
            {
                "value" => attribute.T.Clone(),
                "value_float" => TensorProtoReader.Write(new Tensor(DataType.Float, Array.Empty<int>(), new[] { attribute.F }), ""),
                "value_floats" => TensorProtoReader.Write(new Tensor(DataType.Float, new[] { attribute.Floats.Count }, attribute.Floats.ToArray()), ""),
                "value_int" => TensorProtoReader.Write(new Tensor(DataType.Int64, Array.Empty<int>(), new[] { attribute.I }), ""),
                "value_ints" => TensorProtoReader.Write(new Tensor(DataType.Int64, new[] { attribute.Ints.Count }, attribute.Ints.ToArray()), ""),
                _ => null, // sparse and string constants stay nodes
            };
            if (value is null || node.Attribute.Count != 1) continue;
            value.Name = node.Output[0];
            graph.Graph.Initializer.Add(value);
            graph.Graph.Node.Remove(node);
            report.ConstantsFolded++;
            report.Changes.Add($"Constant '{node.Output[0]}' became an initializer");
        }
    }

    static void RemovePassThroughs(GraphEditor graph, FoldReport report)
    {
        foreach (var node in graph.Graph.Node.Where(n => n.Domain is "" or "ai.onnx" && n.OpType is "Identity" or "Dropout").ToList())
        {
            if (node.OpType == "Dropout")
            {
                // Dropout is the identity only in inference mode and when nothing reads its mask.
                if (node.Output.Count > 1 && node.Output[1].Length > 0 && (graph.Consumers(node.Output[1]).Count > 0 || graph.IsGraphOutput(node.Output[1]))) continue;
                if (node.Input.Count > 2 && node.Input[2].Length > 0 && !(graph.IsConstant(node.Input[2]) && graph.Read(node.Input[2]).ToInt64().All(v => v == 0))) continue;
                if (GraphEditor.GetInt(node, "is_test", 1) == 0 && graph.OnnxOpset < 7) continue;
            }
            string input = node.Input[0], output = node.Output[0];
            if (graph.IsGraphOutput(output))
            {
                // The graph output keeps its name: the producer of the input writes it directly, when that is possible.
                var producer = graph.Producer(input);
                if (producer is null || graph.IsGraphOutput(input) || graph.Consumers(input).Count != 1) continue;
                for (int i = 0; i < producer.Output.Count; i++) if (producer.Output[i] == input) producer.Output[i] = output;
            }
            else graph.ReplaceUses(output, input);
            graph.Graph.Node.Remove(node);
            report.PassThroughsRemoved++;
            report.Changes.Add($"removed {node.OpType} '{node.Name}'");
        }
    }

    static void FoldConstantArithmetic(GraphEditor graph, FoldReport report)
    {
        // Float element-wise arithmetic whose inputs are all constants of one shape: evaluated here, node removed.
        foreach (var node in graph.Graph.Node.ToList())
        {
            if (node.Domain is not ("" or "ai.onnx") || node.OpType is not ("Add" or "Sub" or "Mul" or "Div" or "Sqrt" or "Neg" or "Reciprocal")) continue;
            if (node.Input.Any(i => !graph.IsConstant(i) || graph.ReadFloat(i) is null) || graph.IsGraphOutput(node.Output[0])) continue;
            var inputs = node.Input.Select(i => graph.ReadFloat(i)!).ToList();
            var a = inputs[0].As<float>();
            float[] result;
            if (inputs.Count == 1)
            {
                result = node.OpType switch
                {
                    "Sqrt" => a.Select(MathF.Sqrt).ToArray(),
                    "Neg" => a.Select(v => -v).ToArray(),
                    _ => a.Select(v => 1f / v).ToArray(),
                };
            }
            else
            {
                var b = inputs[1].As<float>();
                int[] shape;
                if (inputs[0].Shape.SequenceEqual(inputs[1].Shape)) shape = inputs[0].Shape;
                else if (b.Length == 1) shape = inputs[0].Shape;
                else if (a.Length == 1) shape = inputs[1].Shape;
                else continue;
                int n = ShapeMath.ElementCount(shape);
                result = new float[n];
                for (int i = 0; i < n; i++)
                {
                    float x = a[a.Length == 1 ? 0 : i], y = b[b.Length == 1 ? 0 : i];
                    result[i] = node.OpType switch { "Add" => x + y, "Sub" => x - y, "Mul" => x * y, _ => x / y };
                }
                graph.SetInitializer(node.Output[0], new Tensor(DataType.Float, shape, result));
                graph.Graph.Node.Remove(node);
                report.ConstantsFolded++;
                report.Changes.Add($"evaluated {node.OpType} '{node.Name}' on constants");
                continue;
            }
            graph.SetInitializer(node.Output[0], new Tensor(DataType.Float, inputs[0].Shape, result));
            graph.Graph.Node.Remove(node);
            report.ConstantsFolded++;
            report.Changes.Add($"evaluated {node.OpType} '{node.Name}' on constants");
        }
    }

    static void FoldBatchNorms(GraphEditor graph, FoldReport report)
    {
        foreach (var bn in graph.Graph.Node.Where(n => n.OpType == "BatchNormalization" && n.Domain is "" or "ai.onnx").ToList())
        {
            if (bn.Output.Count > 1 && bn.Output.Skip(1).Any(o => o.Length > 0)) continue; // training mode outputs
            if (GraphEditor.GetInt(bn, "training_mode", 0) != 0) continue;
            if (bn.Input.Skip(1).Take(4).Any(i => graph.ReadFloat(i) is null || !graph.IsConstant(i))) continue;
            var layer = graph.Producer(bn.Input[0]);
            if (layer is null || layer.OpType is not ("Conv" or "Gemm") || graph.Consumers(bn.Input[0]).Count != 1 || graph.IsGraphOutput(bn.Input[0])) continue;
            var weighted = WeightedLayer.Find(graph).FirstOrDefault(w => w.Node == layer);
            if (weighted is null) continue;
            float epsilon = GraphEditor.GetFloat(bn, "epsilon", 1e-5f);
            var gamma = graph.ReadFloat(bn.Input[1])!.As<float>();
            var beta = graph.ReadFloat(bn.Input[2])!.As<float>();
            var mean = graph.ReadFloat(bn.Input[3])!.As<float>();
            var variance = graph.ReadFloat(bn.Input[4])!.As<float>();
            int units = weighted.OutputCount;
            if (gamma.Length != units || beta.Length != units || mean.Length != units || variance.Length != units) continue;

            float alpha = layer.OpType == "Gemm" ? GraphEditor.GetFloat(layer, "alpha", 1f) : 1f;
            float gemmBeta = layer.OpType == "Gemm" ? GraphEditor.GetFloat(layer, "beta", 1f) : 1f;
            float[]? oldBias = null;
            if (weighted.BiasName is not null)
            {
                var biasTensor = graph.ReadFloat(weighted.BiasName);
                if (biasTensor is null) continue;
                oldBias = biasTensor.As<float>();
                if (oldBias.Length != units && oldBias.Length != 1) continue; // a per-row Gemm C cannot be folded
            }
            else if (layer.Input.Count > 2 && layer.Input[2].Length > 0) continue; // bias computed at run time

            var weights = graph.ReadFloat(weighted.WeightName)!.As<float>().ToArray();
            var bias = new float[units];
            for (int o = 0; o < units; o++)
            {
                double scale = gamma[o] / Math.Sqrt(variance[o] + (double)epsilon);
                // Gemm's alpha multiplies the product: folding it into W lets the new node use alpha = 1.
                for (int j = 0; j < weighted.UnitSize; j++) weights[weighted.Index(o, j)] = (float)(weights[weighted.Index(o, j)] * scale * alpha);
                double b = oldBias is null ? 0 : oldBias[oldBias.Length == 1 ? 0 : o] * (double)gemmBeta;
                bias[o] = (float)((b - mean[o]) * scale + beta[o]);
            }
            // Fresh names: the old weight or bias may be shared with another node.
            string weightName = graph.UniqueName(weighted.WeightName + "_bnfolded");
            string biasName = graph.UniqueName((weighted.BiasName ?? layer.Output[0] + "_bias") + "_bnfolded");
            graph.SetInitializer(weightName, new Tensor(DataType.Float, weighted.Shape, weights));
            graph.SetInitializer(biasName, new Tensor(DataType.Float, new[] { units }, bias));
            layer.Input[1] = weightName;
            if (layer.Input.Count > 2) layer.Input[2] = biasName; else layer.Input.Add(biasName);
            if (layer.OpType == "Gemm") { GraphEditor.SetFloat(layer, "alpha", 1f); GraphEditor.SetFloat(layer, "beta", 1f); }
            // The layer now writes what the BatchNormalization wrote.
            graph.ForgetValueInfo(layer.Output[0]);
            layer.Output[0] = bn.Output[0];
            graph.Graph.Node.Remove(bn);
            report.BatchNormsFolded++;
            report.Changes.Add($"folded BatchNormalization '{bn.Name}' into {layer.OpType} '{layer.Name}'");
        }
    }
}
