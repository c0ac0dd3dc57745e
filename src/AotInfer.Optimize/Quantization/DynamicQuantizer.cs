using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Quantization;

/// <summary>What <see cref="DynamicQuantizer.Quantize"/> did.</summary>
/// <param name="Layers">Names of the layers quantised.</param>
/// <param name="Skipped">Layers left in float, each with the reason.</param>
public sealed record DynamicQuantizeReport(IReadOnlyList<string> Layers, IReadOnlyList<string> Skipped);

/// <summary>
/// Dynamic (weight-only) quantisation, as ONNX Runtime's <c>quantize_dynamic</c>: weights are stored as 8-bit
/// integers, activations are quantised at run time by DynamicQuantizeLinear (uint8, range of each input), and the
/// integer product is rescaled to float. No calibration data is needed. Only default-domain operators are written:
/// <list type="bullet">
/// <item>MatMul / Gemm: MatMulInteger (int8 weight, [K, N]) → Cast → Mul by input scale × weight scale → Add bias.</item>
/// <item>Conv: ConvInteger with a uint8 weight (zero point 128): ONNX Runtime's ConvInteger kernel takes uint8 only.</item>
/// </list>
/// Per-channel scales are applied in the float Mul, so every zero point stays a scalar (128 or 0): both runtimes
/// accept that for ConvInteger and MatMulInteger.
/// </summary>
public static class DynamicQuantizer
{
    /// <summary>Quantises the weighted layers of <paramref name="model"/> in place, except those named in <paramref name="exclude"/>.</summary>
    public static DynamicQuantizeReport Quantize(ModelProto model, bool perChannel, ISet<string>? exclude = null, string? modelDirectory = null)
    {
        var graph = new GraphEditor(model, modelDirectory);
        // DynamicQuantizeLinear, MatMulInteger and ConvInteger came with opset 10 and 11.
        if (graph.OnnxOpset < 11) throw new NotSupportedException($"dynamic quantisation needs opset 11 or later (DynamicQuantizeLinear); the model imports opset {graph.OnnxOpset}");
        exclude ??= new HashSet<string>();
        StaticQuantizer.CheckExcludes(graph, exclude);
        var quantizedInputs = new Dictionary<string, (string Values, string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        var done = new List<string>();
        var skipped = new List<string>();
        foreach (var layer in WeightedLayer.Find(graph))
        {
            if (exclude.Contains(layer.Node.Name) || exclude.Contains(layer.Node.Output[0])) { skipped.Add(layer.Name + ": excluded"); continue; }
            if (Unsupported(graph, layer) is { } reason) { skipped.Add(layer.Name + ": " + reason); continue; }
            string input = layer.Node.Input[0];
            int position = graph.Graph.Node.IndexOf(layer.Node);
            var replacement = new List<NodeProto>();
            if (!quantizedInputs.TryGetValue(input, out var x))
            {
                x = (graph.UniqueName(input + "_quantized"), graph.UniqueName(input + "_scale"), graph.UniqueName(input + "_zero_point"));
                var dynamic = new NodeProto { OpType = "DynamicQuantizeLinear", Name = graph.UniqueName(input + "_DynamicQuantizeLinear") };
                dynamic.Input.Add(input);
                dynamic.Output.Add(new[] { x.Values, x.Scale, x.ZeroPoint });
                replacement.Add(dynamic);
                quantizedInputs[input] = x;
            }
            replacement.AddRange(Lower(graph, layer, x, perChannel));
            graph.Graph.Node.RemoveAt(position);
            for (int i = 0; i < replacement.Count; i++) graph.Graph.Node.Insert(position + i, replacement[i]);
            done.Add(layer.Name);
        }
        graph.RemoveUnused();
        ModelWriter.Stamp(model, "quantize", $"dynamic int8 weights {(perChannel ? "per-channel" : "per-tensor")}, uint8 activations quantised at run time");
        return new DynamicQuantizeReport(done, skipped);
    }

    static string? Unsupported(GraphEditor graph, WeightedLayer layer)
    {
        if (graph.IsConstant(layer.Node.Input[0])) return "its input is a constant";
        if (layer.Node.OpType == "Gemm")
        {
            if (GraphEditor.GetFloat(layer.Node, "alpha", 1) != 1 || GraphEditor.GetFloat(layer.Node, "beta", 1) != 1) return "Gemm alpha or beta is not 1";
            if (layer.Node.Input.Count > 2 && layer.Node.Input[2].Length > 0 && (layer.BiasName is null || graph.ReadFloat(layer.BiasName)?.Length != layer.OutputCount))
                return "the Gemm bias is not a constant with one value per output";
        }
        return null;
    }

    /// <summary>The integer product of one layer and its float epilogue, writing the layer's original output.</summary>
    static List<NodeProto> Lower(GraphEditor graph, WeightedLayer layer, (string Values, string Scale, string ZeroPoint) x, bool perChannel)
    {
        var node = layer.Node;
        string stem = layer.Name, output = node.Output[0];
        var weight = WeightQuantization.Symmetric(graph.ReadFloat(layer.WeightName)!.As<float>(), layer, perChannel);
        var nodes = new List<NodeProto>();
        bool conv = node.OpType == "Conv";
        // Scales and bias broadcast over the output units: the last axis of a product, axis 1 of a Conv output.
        int spatial = conv ? layer.Shape.Length - 2 : 0;
        int[] VectorShape(int length) => length == 1 && !conv ? Array.Empty<int>() : new[] { length }.Concat(Enumerable.Repeat(1, spatial)).ToArray();

        string w = graph.UniqueName(stem + "_weight_quantized"), wZero = graph.UniqueName(stem + "_weight_zero_point");
        string accumulator = graph.UniqueName(output + "_int32");
        if (conv)
        {
            var values = weight.Values.Select(v => (byte)(v + 128)).ToArray();
            graph.SetInitializer(w, new Tensor(DataType.UInt8, layer.Shape, values));
            graph.SetInitializer(wZero, new Tensor(DataType.UInt8, Array.Empty<int>(), new byte[] { 128 }));
            var integer = graph.NewNode("ConvInteger", stem + "_ConvInteger", new[] { x.Values, w, x.ZeroPoint, wZero }, accumulator);
            integer.Attribute.AddRange(node.Attribute.Select(a => a.Clone()));
            nodes.Add(integer);
        }
        else
        {
            // MatMulInteger wants B as [K, N]: a Gemm with transB=1 stores [N, K].
            var values = new sbyte[weight.Values.Length];
            for (int u = 0; u < layer.OutputCount; u++)
                for (int j = 0; j < layer.UnitSize; j++) values[j * layer.OutputCount + u] = weight.Values[layer.Index(u, j)];
            graph.SetInitializer(w, new Tensor(DataType.Int8, new[] { layer.UnitSize, layer.OutputCount }, values));
            graph.SetInitializer(wZero, new Tensor(DataType.Int8, Array.Empty<int>(), new sbyte[1]));
            nodes.Add(graph.NewNode("MatMulInteger", stem + "_MatMulInteger", new[] { x.Values, w, x.ZeroPoint, wZero }, accumulator));
        }
        string asFloat = graph.UniqueName(output + "_int32_as_float");
        var cast = graph.NewNode("Cast", stem + "_Cast", new[] { accumulator }, asFloat);
        GraphEditor.SetInt(cast, "to", (long)DataType.Float);
        nodes.Add(cast);

        string weightScale = graph.UniqueName(stem + "_weight_scale"), scale = graph.UniqueName(stem + "_output_scale");
        graph.SetInitializer(weightScale, new Tensor(DataType.Float, VectorShape(weight.Scales.Length), weight.Scales));
        nodes.Add(graph.NewNode("Mul", stem + "_output_scale", new[] { x.Scale, weightScale }, scale));
        bool hasBias = layer.BiasName is not null && graph.ReadFloat(layer.BiasName) is not null;
        string scaled = hasBias ? graph.UniqueName(output + "_before_bias") : output;
        nodes.Add(graph.NewNode("Mul", stem + "_rescale", new[] { asFloat, scale }, scaled));
        if (hasBias)
        {
            var bias = graph.ReadFloat(layer.BiasName!)!.As<float>();
            string biasName = graph.UniqueName(stem + "_bias");
            graph.SetInitializer(biasName, new Tensor(DataType.Float, VectorShape(bias.Length), bias));
            nodes.Add(graph.NewNode("Add", stem + "_bias", new[] { scaled, biasName }, output));
        }
        return nodes;
    }
}
