using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Quantization;

/// <summary>
/// Writes calibrated layers as QOperator ONNX using only default-domain operators: Conv becomes QLinearConv, MatMul
/// becomes QLinearMatMul, and Gemm becomes a 1×1 QLinearConv between two Reshapes (QLinearMatMul has no bias input,
/// and ONNX Runtime's QGemm lives in the com.microsoft domain). A Relu that is a layer's only reader is absorbed into
/// the layer's output range (zero point at the bottom of the integer range, so the requantisation clamp is the Relu).
/// MaxPool, Flatten and Reshape run on the integers when their input is already quantised; a QuantizeLinear or
/// DequantizeLinear appears only where float and integer parts of the graph meet. Add, Concat and the other
/// operators stay float: their quantised forms (QLinearAdd, ...) exist only in the com.microsoft domain.
/// </summary>
public static class QOperatorWriter
{
    /// <summary>A quantised twin of a float value: the integer tensor and its quantisation parameters.</summary>
    sealed record QuantizedValue(string Name, string Scale, string ZeroPoint);

    /// <summary>True when the layer has a QOperator form (Gemm: plain A·B + C with a per-output-unit bias).</summary>
    public static bool CanWrite(GraphEditor graph, WeightedLayer layer)
    {
        if (graph.IsConstant(layer.Node.Input[0])) return false;
        if (layer.Node.OpType != "Gemm") return true;
        if (GraphEditor.GetFloat(layer.Node, "alpha", 1) != 1 || GraphEditor.GetFloat(layer.Node, "beta", 1) != 1) return false;
        if (layer.Node.Input.Count > 2 && layer.Node.Input[2].Length > 0)
            return layer.BiasName is not null && graph.ReadFloat(layer.BiasName) is { } bias && bias.Length == layer.OutputCount;
        return true;
    }

    /// <summary>The value whose range the layer's integer output takes: the output of the Relu it absorbs, or its own.</summary>
    public static string QuantizedOutput(GraphEditor graph, WeightedLayer layer, QuantizeSettings settings) =>
        AbsorbedRelu(graph, layer, settings)?.Output[0] ?? layer.Node.Output[0];

    /// <summary>
    /// The Relu the layer absorbs: its only reader, when the output range is asymmetric (a Relu output's range starts
    /// at 0, so its zero point is the integer minimum and the requantisation clamp is the Relu).
    /// </summary>
    static NodeProto? AbsorbedRelu(GraphEditor graph, WeightedLayer layer, QuantizeSettings settings) =>
        settings.Symmetric ? null : FollowingRelu(graph, layer);

    /// <summary>
    /// Rewrites <paramref name="layers"/> in QOperator form with the calibrated <paramref name="ranges"/>; returns,
    /// per layer, the float value its output now stands for (the Relu output when a Relu was absorbed). The float
    /// paths the integers replace are still in the graph (so the error report can observe every layer output):
    /// <see cref="GraphEditor.RemoveDeadNodes"/> removes them.
    /// </summary>
    public static List<string> Write(GraphEditor graph, List<WeightedLayer> layers, IReadOnlyDictionary<string, (float Low, float High)> ranges, QuantizeSettings settings, bool perChannel)
    {
        var twins = new Dictionary<string, QuantizedValue>(StringComparer.Ordinal);
        var byNode = layers.ToDictionary(l => l.Node);
        var absorbed = new HashSet<NodeProto>();
        var outputs = new Dictionary<WeightedLayer, string>();
        var nodes = new List<NodeProto>();
        foreach (var node in graph.Graph.Node.ToList())
        {
            if (absorbed.Contains(node)) continue;
            if (byNode.TryGetValue(node, out var layer))
            {
                var relu = AbsorbedRelu(graph, layer, settings);
                if (relu is not null) absorbed.Add(relu);
                string output = relu?.Output[0] ?? node.Output[0];
                outputs[layer] = output;
                WriteLayer(graph, nodes, twins, layer, output, ranges, settings, perChannel);
                continue;
            }
            nodes.Add(node);
            if (RunsOnIntegers(graph, node) && twins.TryGetValue(node.Input[0], out var input))
            {
                // The same operator on the integers: max, flatten and reshape commute with the affine quantisation.
                var twin = node.Clone();
                twin.Name = graph.UniqueName((node.Name.Length > 0 ? node.Name : node.Output[0]) + "_quantized");
                twin.Input[0] = input.Name;
                twin.Output[0] = graph.UniqueName(node.Output[0] + "_quantized");
                Add(graph, nodes, twin);
                twins[node.Output[0]] = input with { Name = twin.Output[0] };
            }
        }
        graph.Graph.Node.Clear();
        graph.Graph.Node.AddRange(nodes);
        return layers.Select(l => outputs[l]).ToList();
    }

    /// <summary>The Relu that is the only reader of the layer's output (and the output is not a graph output).</summary>
    static NodeProto? FollowingRelu(GraphEditor graph, WeightedLayer layer)
    {
        string value = layer.Node.Output[0];
        if (graph.IsGraphOutput(value)) return null;
        var readers = graph.Consumers(value);
        return readers.Count == 1 && readers[0].Node.OpType == "Relu" ? readers[0].Node : null;
    }

    static bool RunsOnIntegers(GraphEditor graph, NodeProto node) => node.OpType switch
    {
        // Integer MaxPool came with opset 12; its optional indices output has no integer meaning to keep.
        "MaxPool" => graph.OnnxOpset >= 12 && node.Output.Count == 1,
        "Flatten" => true,
        "Reshape" => node.Input.Count == 2 && graph.IsConstant(node.Input[1]),
        _ => false,
    };

    static void WriteLayer(GraphEditor graph, List<NodeProto> nodes, Dictionary<string, QuantizedValue> twins, WeightedLayer layer, string output,
        IReadOnlyDictionary<string, (float Low, float High)> ranges, QuantizeSettings settings, bool perChannel)
    {
        var node = layer.Node;
        string input = node.Input[0];
        if (!twins.TryGetValue(input, out var x))
        {
            x = Parameters(graph, input, ranges[input], settings);
            Add(graph, nodes, graph.NewNode("QuantizeLinear", input + "_QuantizeLinear", new[] { input, x.Scale, x.ZeroPoint }, x.Name));
            twins[input] = x;
        }
        var y = Parameters(graph, output, ranges[output], settings);
        var weight = WeightQuantization.Symmetric(graph.ReadFloat(layer.WeightName)!.As<float>(), layer, perChannel);
        string stem = layer.Name;
        int[] scaleShape = perChannel ? new[] { layer.OutputCount } : Array.Empty<int>();
        string wScale = graph.UniqueName(stem + "_weight_scale"), wZero = graph.UniqueName(stem + "_weight_zero_point");
        graph.SetInitializer(wScale, new Tensor(DataType.Float, scaleShape, weight.Scales));
        graph.SetInitializer(wZero, new Tensor(DataType.Int8, scaleShape, new sbyte[weight.Scales.Length]));
        float inputScale = graph.ReadFloat(x.Scale)!.As<float>()[0];

        if (node.OpType == "MatMul")
        {
            string w = graph.UniqueName(stem + "_weight_quantized");
            graph.SetInitializer(w, new Tensor(DataType.Int8, layer.Shape, weight.Values));
            Add(graph, nodes, graph.NewNode("QLinearMatMul", stem + "_QLinearMatMul", new[] { x.Name, x.Scale, x.ZeroPoint, w, wScale, wZero, y.Scale, y.ZeroPoint }, y.Name));
        }
        else
        {
            // Conv keeps its weight layout; a Gemm weight becomes [M, K, 1, 1] (output units first, as Conv wants).
            int[] convShape = node.OpType == "Conv" ? layer.Shape : new[] { layer.OutputCount, layer.UnitSize, 1, 1 };
            var values = new sbyte[weight.Values.Length];
            for (int u = 0; u < layer.OutputCount; u++)
                for (int j = 0; j < layer.UnitSize; j++) values[u * layer.UnitSize + j] = weight.Values[layer.Index(u, j)];
            string w = graph.UniqueName(stem + "_weight_quantized");
            graph.SetInitializer(w, new Tensor(DataType.Int8, convShape, values));
            var inputs = new List<string> { x.Name, x.Scale, x.ZeroPoint, w, wScale, wZero, y.Scale, y.ZeroPoint };
            if (layer.BiasName is not null && graph.ReadFloat(layer.BiasName) is { } bias)
            {
                string b = graph.UniqueName(stem + "_bias_quantized");
                graph.SetInitializer(b, new Tensor(DataType.Int32, new[] { layer.OutputCount }, WeightQuantization.Bias(bias.As<float>(), inputScale, weight)));
                inputs.Add(b);
            }
            if (node.OpType == "Conv")
            {
                var conv = graph.NewNode("QLinearConv", stem + "_QLinearConv", inputs.ToArray(), y.Name);
                conv.Attribute.AddRange(node.Attribute.Select(a => a.Clone()));
                Add(graph, nodes, conv);
            }
            else
            {
                // Gemm: [N, K] → [N, K, 1, 1] → 1×1 QLinearConv → [N, M, 1, 1] → [N, M], all on integers.
                string shape = graph.UniqueName(stem + "_as_image_shape");
                graph.SetInitializer(shape, new Tensor(DataType.Int64, new[] { 4 }, new long[] { 0, -1, 1, 1 }));
                string image = graph.UniqueName(x.Name + "_as_image");
                Add(graph, nodes, graph.NewNode("Reshape", stem + "_to_image", new[] { x.Name, shape }, image));
                inputs[0] = image;
                string convOutput = graph.UniqueName(y.Name + "_image");
                Add(graph, nodes, graph.NewNode("QLinearConv", stem + "_QLinearConv", inputs.ToArray(), convOutput));
                var flatten = graph.NewNode("Flatten", stem + "_from_image", new[] { convOutput }, y.Name);
                GraphEditor.SetInt(flatten, "axis", 1);
                Add(graph, nodes, flatten);
            }
        }
        twins[output] = y;
        // The float value keeps its name, so float readers and graph outputs are untouched; unused ones are removed.
        Add(graph, nodes, graph.NewNode("DequantizeLinear", output + "_DequantizeLinear", new[] { y.Name, y.Scale, y.ZeroPoint }, output));
    }

    /// <summary>Scale and zero-point initializers for the float value <paramref name="value"/>, and its quantised name.</summary>
    static QuantizedValue Parameters(GraphEditor graph, string value, (float Low, float High) range, QuantizeSettings settings)
    {
        var (scale, zeroPoint) = StaticQuantizer.ActivationParameters(range, settings.Symmetric, settings.SignedActivations);
        string scaleName = graph.UniqueName(value + "_scale"), zeroName = graph.UniqueName(value + "_zero_point");
        graph.SetInitializer(scaleName, new Tensor(DataType.Float, Array.Empty<int>(), new[] { scale }));
        graph.SetInitializer(zeroName, settings.SignedActivations
            ? new Tensor(DataType.Int8, Array.Empty<int>(), new[] { (sbyte)zeroPoint })
            : new Tensor(DataType.UInt8, Array.Empty<int>(), new[] { (byte)zeroPoint }));
        return new QuantizedValue(graph.UniqueName(value + "_quantized"), scaleName, zeroName);
    }

    /// <summary>
    /// Appends a new node to the output list, and to the graph until it is rebuilt so that
    /// <see cref="GraphEditor.UniqueName"/> sees the names already taken.
    /// </summary>
    static void Add(GraphEditor graph, List<NodeProto> nodes, NodeProto node)
    {
        nodes.Add(node);
        graph.Graph.Node.Add(node);
    }
}
