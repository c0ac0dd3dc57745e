using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Quantization;

/// <summary>
/// The QDQ layout ONNX Runtime's static quantizer writes, which integer runtimes (ONNX Runtime's QDQ transformer,
/// AotInfer's QDQ lowering) turn into integer kernels end to end: a QuantizeLinear → DequantizeLinear pair on the
/// input and on the result of every quantised Conv/Gemm/MatMul (the result is the output of the Relu/Clip that alone
/// reads the layer, which the integer kernel applies while requantising); ops that only move or select values
/// (MaxPool, Flatten, Reshape…) pass the pair on with the same parameters, so they run on the integers; weights are
/// int8 and biases int32 with scale input scale × weight scale and zero point 0. Without the pair after a layer or
/// with a float bias, a runtime has to keep the layer in float.
/// </summary>
public static class IntegerQdqLayout
{
    /// <summary>Ops whose output is quantised like their input: they only move or select values.</summary>
    static readonly HashSet<string> SharedParameterOps = new(StringComparer.Ordinal) { "MaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze" };

    /// <summary>
    /// The value holding the layer's quantised result: its output, or that of the Relu/Clip at 0 that is its only
    /// reader when activations are asymmetric: the range then starts at 0, so the zero point is the integer minimum
    /// and saturating requantisation applies the clamp. A symmetric range keeps negative integers, so there the
    /// layer's own output is quantised.
    /// </summary>
    public static string ResultOf(GraphEditor graph, WeightedLayer layer, QuantizeSettings settings)
    {
        string output = layer.Node.Output[0];
        var readers = graph.Consumers(output);
        bool fusable = !settings.Symmetric && readers.Count == 1 && readers[0].Input == 0 && ClampsAtZero(graph, readers[0].Node) && !graph.IsGraphOutput(output);
        return fusable ? readers[0].Node.Output[0] : output;
    }

    /// <summary>True for Relu and for a Clip whose lower bound is 0 (ReLU6).</summary>
    static bool ClampsAtZero(GraphEditor graph, NodeProto node)
    {
        if (node.Domain is not ("" or "ai.onnx")) return false;
        if (node.OpType == "Relu") return true;
        if (node.OpType != "Clip") return false;
        if (node.Input.Count < 2) return GraphEditor.GetFloat(node, "min", float.MinValue) == 0; // before opset 11, bounds are attributes
        return graph.IsConstant(node.Input[1]) && graph.ReadFloat(node.Input[1]) is { } min && min.As<float>()[0] == 0;
    }

    /// <summary>The values whose ranges calibration must observe: every layer's float input and result.</summary>
    public static List<string> CalibratedValues(GraphEditor graph, IEnumerable<WeightedLayer> layers, QuantizeSettings settings) =>
        layers.SelectMany(l => new[] { l.Node.Input[0], ResultOf(graph, l, settings) }).Where(n => !graph.IsConstant(n)).Distinct().ToList();

    /// <summary>
    /// Rewrites <paramref name="graph"/> into the integer layout for <paramref name="layers"/>, with activation
    /// <paramref name="ranges"/> from calibration (keyed by the names <see cref="CalibratedValues"/> returned).
    /// </summary>
    public static void Write(GraphEditor graph, List<WeightedLayer> layers, IReadOnlyDictionary<string, (float Low, float High)> ranges, QuantizeSettings settings, bool perChannel)
    {
        InsertPairs(graph, layers, ranges, settings);
        QuantizeLayers(graph, layers, perChannel);
    }

    /// <summary>
    /// The activation half of <see cref="Write"/>: a QuantizeLinear → DequantizeLinear pair on every layer's input and
    /// result (and after the pass-through ops between them), scales and zero points from <paramref name="ranges"/>.
    /// Quantisation-aware training trains with these pairs in place before <see cref="QuantizeLayers"/> runs.
    /// </summary>
    public static void InsertPairs(GraphEditor graph, List<WeightedLayer> layers, IReadOnlyDictionary<string, (float Low, float High)> ranges, QuantizeSettings settings)
    {
        foreach (var (value, names) in AssignParameters(graph, layers, ranges, settings)) InsertPair(graph, value, names.Scale, names.ZeroPoint);
    }

    /// <summary>
    /// The weight half of <see cref="Write"/>, after the pairs are in place: int8 weights behind DequantizeLinear and an
    /// int32 bias in the scale of input × weight, the input scale read from the DequantizeLinear feeding the layer.
    /// </summary>
    public static void QuantizeLayers(GraphEditor graph, List<WeightedLayer> layers, bool perChannel)
    {
        foreach (var layer in layers)
        {
            var weight = StaticQuantizer.QuantizeWeight(graph, layer, perChannel);
            // A constant input has no pair, so no input scale: its bias stays float.
            if (layer.BiasName is not null && InputScale(graph, layer) is float inputScale) QuantizeBias(graph, layer, inputScale, weight, perChannel);
        }
    }

    /// <summary>The scalar scale of the DequantizeLinear that produces the layer's input, if one does.</summary>
    static float? InputScale(GraphEditor graph, WeightedLayer layer) =>
        graph.Producer(layer.Node.Input[0]) is { OpType: "DequantizeLinear" } dequantize && graph.IsConstant(dequantize.Input[1]) &&
        graph.ReadFloat(dequantize.Input[1])?.As<float>() is [var scale] ? scale : null;

    /// <summary>Scale and zero point initializers of every value that gets a pair, in node order.</summary>
    static List<(string Value, (string Scale, string ZeroPoint) Names)> AssignParameters(GraphEditor graph, List<WeightedLayer> layers, IReadOnlyDictionary<string, (float Low, float High)> ranges, QuantizeSettings settings)
    {
        var assigned = new Dictionary<string, (string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        var order = new List<string>();
        void Assign(string value, (string, string) names) { if (assigned.TryAdd(value, names)) order.Add(value); }
        var inputs = new HashSet<string>(layers.Select(l => l.Node.Input[0]).Where(n => !graph.IsConstant(n)), StringComparer.Ordinal);
        var results = new HashSet<string>(layers.Select(l => ResultOf(graph, l, settings)), StringComparer.Ordinal);
        // Graph inputs first, then values in the order they are produced, so a shared op sees its input's parameters.
        foreach (var input in graph.Graph.Input.Select(i => i.Name).Where(inputs.Contains))
            Assign(input, StaticQuantizer.AddActivationParameters(graph, input, ranges[input], settings));
        foreach (var node in graph.Graph.Node.ToList())
            foreach (var output in node.Output)
            {
                if (SharedParameterOps.Contains(node.OpType) && node.Domain is "" or "ai.onnx" && output == node.Output[0] && assigned.TryGetValue(node.Input[0], out var shared))
                    Assign(output, shared);
                else if (inputs.Contains(output) || results.Contains(output))
                    Assign(output, StaticQuantizer.AddActivationParameters(graph, output, ranges[output], settings));
            }
        return order.Select(v => (v, assigned[v])).ToList();
    }

    /// <summary>
    /// Puts a QuantizeLinear → DequantizeLinear pair right after the producer of <paramref name="value"/> and makes
    /// every reader read the dequantised value; a graph output keeps its name (the producer writes a new one).
    /// </summary>
    static void InsertPair(GraphEditor graph, string value, string scaleName, string zeroName)
    {
        var producer = graph.Producer(value);
        var readers = graph.Consumers(value);
        string source = value;
        if (graph.IsGraphOutput(value))
        {
            source = graph.UniqueName(value + "_float");
            producer!.Output[producer.Output.IndexOf(value)] = source;
            graph.ForgetValueInfo(value);
        }
        var (quantize, dequantize) = StaticQuantizer.NewQdqPair(graph, source, scaleName, zeroName);
        if (source != value) dequantize.Output[0] = value;
        foreach (var (reader, input) in readers) reader.Input[input] = dequantize.Output[0];
        int position = producer is null ? 0 : graph.Graph.Node.IndexOf(producer) + 1;
        graph.Graph.Node.Insert(position, dequantize);
        graph.Graph.Node.Insert(position, quantize);
    }

    /// <summary>Stores the bias as int32 in the accumulator's scale behind a DequantizeLinear (zero point 0), as integer kernels add it.</summary>
    static void QuantizeBias(GraphEditor graph, WeightedLayer layer, float inputScale, QuantizedWeight weight, bool perChannel)
    {
        var bias = graph.ReadFloat(layer.BiasName!)!;
        if (bias.Shape.Length != 1 || bias.Shape[0] != layer.OutputCount) return; // a broadcast bias stays float
        var values = WeightQuantization.Bias(bias.As<float>(), inputScale, weight);
        var scales = Enumerable.Range(0, weight.Scales.Length).Select(c => inputScale * weight.Scales[c]).ToArray();
        int[] vectorShape = perChannel ? new[] { scales.Length } : Array.Empty<int>();
        StaticQuantizer.ReplaceByDequantized(graph, layer, 2, new Tensor(DataType.Int32, bias.Shape, values),
            new Tensor(DataType.Float, vectorShape, scales), new Tensor(DataType.Int32, vectorShape, new int[scales.Length]), perChannel ? 0 : null);
    }
}
