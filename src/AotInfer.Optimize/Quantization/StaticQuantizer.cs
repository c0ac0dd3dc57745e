using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Quantization;

/// <summary>
/// Static post-training quantisation to QDQ (or, with <see cref="QuantizedFormat.QOperator"/>, QOperator) ONNX: the
/// inputs and results of Conv, Gemm and MatMul get a QuantizeLinear → DequantizeLinear pair with a range calibrated
/// on data; weights are stored as int8 (symmetric, per tensor or per output channel) and biases as int32 behind a
/// DequantizeLinear (<see cref="IntegerQdqLayout"/>). Any runtime that understands QDQ (ONNX Runtime, AotInfer's
/// int8 path) fuses the pairs into integer kernels.
/// </summary>
public static class StaticQuantizer
{
    /// <summary>
    /// Quantises <paramref name="model"/> in place, calibrating on <paramref name="calibration"/> with runners from
    /// <paramref name="runners"/>; the error report runs the QDQ model with <paramref name="quantizedRunners"/>
    /// (default: the same), since a runtime may run float models but not yet QDQ ones.
    /// </summary>
    public static QuantizeReport Quantize(ModelProto model, LabeledImages calibration, QuantizeSettings settings, ModelRunnerFactory runners, string? modelDirectory = null, ModelRunnerFactory? quantizedRunners = null)
    {
        // An integer QDQ model has no BatchNormalization between a layer and its QuantizeLinear (as ONNX Runtime's
        // quantizer pre-processing does, it is folded into the layer first).
        if (settings.Format == QuantizedFormat.Qdq) ModelFolding.Fold(model, modelDirectory);
        var graph = new GraphEditor(model, modelDirectory);
        if (graph.OnnxOpset < 10) throw new NotSupportedException($"QuantizeLinear needs opset 10 or later; the model imports opset {graph.OnnxOpset}");
        CheckExcludes(graph, settings.Exclude);
        bool perChannel = settings.PerChannel && graph.OnnxOpset >= 13; // the axis attribute of DequantizeLinear came with opset 13
        bool qoperator = settings.Format == QuantizedFormat.QOperator;
        var float32 = model.Clone();
        var layers = WeightedLayer.Find(graph)
            .Where(l => !settings.Exclude.Contains(l.Node.Name) && !settings.Exclude.Contains(l.Node.Output[0]))
            .Where(l => !qoperator || QOperatorWriter.CanWrite(graph, l)).ToList();
        var activations = layers.Select(l => l.Node.Input[0]).Where(n => !graph.IsConstant(n)).Distinct().ToList();
        // Both formats quantise layer results too (the Relu output when the layer absorbs the Relu that follows).
        var observed = qoperator ? activations.Concat(layers.Select(l => QOperatorWriter.QuantizedOutput(graph, l, settings))).Distinct().ToList()
            : IntegerQdqLayout.CalibratedValues(graph, layers, settings);

        var statistics = Calibrate(float32, calibration, observed, settings.Method, runners, modelDirectory);
        var ranges = statistics.ToDictionary(s => s.Name, s => RangeSelection.Choose(s, settings.Method));

        // The value each layer's error is measured on: its output, or the Relu output a QOperator layer absorbed.
        var compared = layers.Select(l => l.Node.Output[0]).ToList();
        if (qoperator) compared = QOperatorWriter.Write(graph, layers, ranges, settings, perChannel);
        else IntegerQdqLayout.Write(graph, layers, ranges, settings, perChannel);
        ModelWriter.Stamp(model, "quantize", $"static {(qoperator ? "QOperator" : "QDQ")} {settings.Method} {(perChannel ? "per-channel" : "per-tensor")} {(settings.Symmetric ? "symmetric" : "asymmetric")} {(settings.SignedActivations ? "int8" : "uint8")} activations, {calibration.Count} samples");

        graph.RemoveUnused(); // the float weights the integers replaced
        var errors = settings.ReportSamples > 0 ? LayerErrors(float32, model, calibration.Take(settings.ReportSamples), layers, compared, quantizedRunners ?? runners, modelDirectory) : new List<LayerError>();
        // Only now: the report observes layer outputs whose float paths the integer graph no longer needs.
        graph.RemoveDeadNodes();
        graph.RemoveUnused();
        if (errors.Count > 0) QuantizationMetadata.WriteLayerErrors(model, errors);
        return new QuantizeReport(ranges, errors, layers.Count);
    }

    /// <summary>Every excluded name must be a node name or a node's first output: a typo would otherwise quantise the layer silently.</summary>
    public static void CheckExcludes(GraphEditor graph, IEnumerable<string> exclude)
    {
        var known = new HashSet<string>(graph.Graph.Node.Select(n => n.Name).Concat(graph.Graph.Node.Where(n => n.Output.Count > 0).Select(n => n.Output[0])), StringComparer.Ordinal);
        var unknown = exclude.Where(e => !known.Contains(e)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"--exclude names {string.Join(", ", unknown.Select(u => "'" + u + "'"))}, which {(unknown.Count == 1 ? "is" : "are")} not a node name or node output of the model (nodes: {string.Join(", ", graph.Graph.Node.Take(12).Select(n => n.Name.Length > 0 ? n.Name : n.Output[0]))}{(graph.Graph.Node.Count > 12 ? ", ..." : "")})");
    }

    /// <summary>Two streaming passes over the calibration set: ranges, then histograms (skipped for MinMax).</summary>
    internal static List<ActivationStatistics> Calibrate(ModelProto model, LabeledImages data, List<string> names, CalibrationMethod method, ModelRunnerFactory runners, string? modelDirectory)
    {
        var statistics = names.Select(n => new ActivationStatistics(n)).ToList();
        // Graph inputs are observed too: they are extra outputs only when produced by a node.
        var inputNames = new HashSet<string>(model.Graph.Input.Select(i => i.Name));
        var observed = names.Where(n => !inputNames.Contains(n)).ToList();
        using var runner = runners(model, modelDirectory, observed);
        int passes = method == CalibrationMethod.MinMax ? 1 : 2;
        for (int pass = 0; pass < passes; pass++)
        {
            var progress = new Progress(pass == 0 ? "calibrate ranges" : "calibrate histograms", data.Count);
            for (int i = 0; i < data.Count; i++)
            {
                var sample = data.Sample(i);
                var outputs = runner.Run(sample);
                foreach (var s in statistics)
                {
                    ReadOnlySpan<float> values = inputNames.Contains(s.Name) ? sample : outputs[IndexOf(runner.OutputNames, s.Name)];
                    if (pass == 0) s.ObserveRange(values); else s.ObserveHistogram(values);
                }
                progress.Report(i + 1);
            }
        }
        return statistics;
    }

    static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = names.Count - 1; i >= 0; i--) if (names[i] == name) return i;
        throw new InvalidOperationException($"the runner does not output '{name}'");
    }

    /// <summary>Scale and zero point of an activation range (the range always includes 0 so that 0 is exact).</summary>
    public static (float Scale, int ZeroPoint) ActivationParameters((float Low, float High) range, bool symmetric, bool signed)
    {
        int qmin = signed ? -128 : 0, qmax = signed ? 127 : 255;
        double low = Math.Min(0, range.Low), high = Math.Max(0, range.High);
        if (symmetric)
        {
            double absMax = Math.Max(-low, high);
            double symmetricScale = absMax > 0 ? 2 * absMax / (qmax - qmin) : 1;
            return ((float)symmetricScale, signed ? 0 : 128);
        }
        double scale = high > low ? (high - low) / (qmax - qmin) : 1;
        int zeroPoint = (int)Math.Round(qmin - low / scale);
        return ((float)scale, Math.Clamp(zeroPoint, qmin, qmax));
    }

    /// <summary>Adds the scale and zero point initializers of activation <paramref name="name"/> and returns their names.</summary>
    internal static (string Scale, string ZeroPoint) AddActivationParameters(GraphEditor graph, string name, (float Low, float High) range, QuantizeSettings settings)
    {
        var (scale, zeroPoint) = ActivationParameters(range, settings.Symmetric, settings.SignedActivations);
        string scaleName = graph.UniqueName(name + "_scale"), zeroName = graph.UniqueName(name + "_zero_point");
        graph.SetInitializer(scaleName, new Tensor(DataType.Float, Array.Empty<int>(), new[] { scale }));
        graph.SetInitializer(zeroName, settings.SignedActivations
            ? new Tensor(DataType.Int8, Array.Empty<int>(), new[] { (sbyte)zeroPoint })
            : new Tensor(DataType.UInt8, Array.Empty<int>(), new[] { (byte)zeroPoint }));
        return (scaleName, zeroName);
    }

    /// <summary>A QuantizeLinear → DequantizeLinear pair reading <paramref name="name"/> (not yet in the graph).</summary>
    internal static (NodeProto Quantize, NodeProto Dequantize) NewQdqPair(GraphEditor graph, string name, string scaleName, string zeroName)
    {
        string quantized = graph.UniqueName(name + "_QuantizeLinear_Output"), dequantized = graph.UniqueName(name + "_DequantizeLinear_Output");
        var quantize = new NodeProto { OpType = "QuantizeLinear", Name = graph.UniqueName(name + "_QuantizeLinear") };
        quantize.Input.Add(new[] { name, scaleName, zeroName });
        quantize.Output.Add(quantized);
        var dequantize = new NodeProto { OpType = "DequantizeLinear", Name = graph.UniqueName(name + "_DequantizeLinear") };
        dequantize.Input.Add(new[] { quantized, scaleName, zeroName });
        dequantize.Output.Add(dequantized);
        return (quantize, dequantize);
    }

    /// <summary>Stores the layer's weight as int8 behind a DequantizeLinear and returns the quantised weight.</summary>
    internal static QuantizedWeight QuantizeWeight(GraphEditor graph, WeightedLayer layer, bool perChannel)
    {
        var quantized = WeightQuantization.Symmetric(graph.ReadFloat(layer.WeightName)!.As<float>(), layer, perChannel);
        int channels = quantized.Scales.Length;
        int[] vectorShape = perChannel ? new[] { channels } : Array.Empty<int>();
        ReplaceByDequantized(graph, layer, 1, new Tensor(DataType.Int8, layer.Shape, quantized.Values),
            new Tensor(DataType.Float, vectorShape, quantized.Scales), new Tensor(DataType.Int8, vectorShape, new sbyte[channels]), perChannel ? layer.OutputAxis : null);
        return quantized;
    }

    /// <summary>
    /// Makes input <paramref name="input"/> of the layer a DequantizeLinear of the given integers, scale and zero
    /// point (new initializers named after the constant it replaces), inserted right before the layer.
    /// </summary>
    internal static void ReplaceByDequantized(GraphEditor graph, WeightedLayer layer, int input, Tensor integers, Tensor scale, Tensor zeroPoint, int? axis)
    {
        string constant = layer.Node.Input[input];
        string baseName = constant + (graph.Consumers(constant).Count > 1 ? "_" + layer.Name : "");
        string integerName = graph.UniqueName(baseName + "_quantized"), scaleName = graph.UniqueName(baseName + "_scale"), zeroName = graph.UniqueName(baseName + "_zero_point");
        graph.SetInitializer(integerName, integers);
        graph.SetInitializer(scaleName, scale);
        graph.SetInitializer(zeroName, zeroPoint);
        var node = new NodeProto { OpType = "DequantizeLinear", Name = graph.UniqueName(baseName + "_DequantizeLinear") };
        node.Input.Add(new[] { integerName, scaleName, zeroName });
        node.Output.Add(graph.UniqueName(baseName + "_DequantizeLinear_Output"));
        if (axis is int a) GraphEditor.SetInt(node, "axis", a);
        graph.Graph.Node.Insert(graph.Graph.Node.IndexOf(layer.Node), node);
        layer.Node.Input[input] = node.Output[0];
    }

    /// <summary>SQNR and max error of every quantised layer's output, streamed over <paramref name="data"/>.</summary>
    static List<LayerError> LayerErrors(ModelProto float32, ModelProto quantized, LabeledImages data, List<WeightedLayer> layers, List<string> names, ModelRunnerFactory quantizedRunners, string? modelDirectory)
    {
        // Both models run in the same runtime, so the report measures quantisation error only.
        using var reference = quantizedRunners(float32, modelDirectory, names);
        using var candidate = quantizedRunners(quantized, modelDirectory, names);
        var signal = new double[names.Count];
        var noise = new double[names.Count];
        var maxError = new double[names.Count];
        var progress = new Progress("layer errors", data.Count);
        for (int i = 0; i < data.Count; i++)
        {
            var expected = reference.Run(data.Sample(i)).ToArray();
            var actual = candidate.Run(data.Sample(i)).ToArray();
            for (int n = 0; n < names.Count; n++)
            {
                var e = expected[IndexOf(reference.OutputNames, names[n])];
                var a = actual[IndexOf(candidate.OutputNames, names[n])];
                for (int k = 0; k < e.Length; k++)
                {
                    double d = e[k] - a[k];
                    signal[n] += (double)e[k] * e[k];
                    noise[n] += d * d;
                    maxError[n] = Math.Max(maxError[n], Math.Abs(d));
                }
            }
            progress.Report(i + 1);
        }
        return names.Select((n, i) => new LayerError(layers[i].Name, layers[i].Node.OpType,
            noise[i] == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal[i] / noise[i]), maxError[i])).ToList();
    }
}
