using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Quantization;
using AotInfer.Optimize.Training.Losses;

namespace AotInfer.Optimize.Training.Quantization;

/// <summary>What quantisation-aware training is asked to do.</summary>
/// <param name="Training">Optimiser, rate, epochs…</param>
/// <param name="PerChannel">Per-output-channel weight scales (per tensor otherwise).</param>
/// <param name="SignedActivations">int8 activations (uint8 otherwise, ONNX Runtime's default).</param>
public sealed record QatSettings(TrainingOptions Training, bool PerChannel = true, bool SignedActivations = false);

/// <summary>
/// Quantisation-aware training to QDQ ONNX: BatchNormalization is folded into the convolutions (the integer model has
/// none), every Conv/Gemm/MatMul's input and result get a QuantizeLinear → DequantizeLinear pair exactly where
/// <see cref="StaticQuantizer"/> puts them (<see cref="IntegerQdqLayout"/>: ONNX Runtime's integer layout, a result
/// after its lone Relu), and the model is trained with those pairs in the graph (their ranges follow the data by moving
/// average, see <see cref="Ops.QuantizeLinearOp"/>) and with fake-quantised weights (<see cref="FakeQuantizedWeights"/>).
/// The export stores the weights as int8 and the biases as int32 behind DequantizeLinear, so the written model
/// computes what training saw (up to the bias rounding, far below one output step) and both ONNX Runtime and
/// AotInfer run every layer as integer code.
/// </summary>
public static class QuantizationAwareTraining
{
    /// <summary>Trains <paramref name="model"/> (edited in place into the QDQ result) and returns each epoch.</summary>
    public static List<EpochReport> Run(ModelProto model, string? modelDirectory, QatSettings settings, LabeledImages train, LabeledImages? test = null)
    {
        var graph = new GraphEditor(model, modelDirectory);
        if (graph.OnnxOpset < 13) throw new NotSupportedException($"per-channel QDQ needs opset 13 or later; the model imports opset {graph.OnnxOpset}");
        ModelFolding.Fold(model, modelDirectory);
        var layers = WeightedLayer.Find(graph);
        if (layers.Count == 0) throw new InvalidOperationException("the model has no Conv, Gemm or MatMul with a constant float weight to quantise");
        var quantize = new QuantizeSettings { PerChannel = settings.PerChannel, SignedActivations = settings.SignedActivations };
        // The ranges are placeholders: the first training batch sets them. A pass-through op (MaxPool, Flatten…) shares
        // its input's scale and zero point, so both of its QuantizeLinear nodes follow one range.
        var placeholders = IntegerQdqLayout.CalibratedValues(graph, layers, quantize).ToDictionary(name => name, _ => (0f, 1f));
        IntegerQdqLayout.InsertPairs(graph, layers, placeholders, quantize);

        var training = TrainingGraph.Build(model, modelDirectory, settings.Training.Seed);
        var options = settings.Training with { Hook = new FakeQuantizedWeights(layers, settings.PerChannel), Label = "qat" };
        var epochs = new Trainer(training, options, new CrossEntropyLoss()).Train(train, null, test);

        training.WriteTo(model, modelDirectory);
        foreach (var node in graph.Graph.Node.Where(n => n.OpType == "QuantizeLinear").ToList())
        {
            graph.SetInitializer(node.Input[1], new Tensor(DataType.Float, Array.Empty<int>(), new[] { training.Value(node.Input[1]).Span[0] }));
            int zeroPoint = (int)training.Value(node.Input[2]).Span[0];
            graph.SetInitializer(node.Input[2], settings.SignedActivations
                ? new Tensor(DataType.Int8, Array.Empty<int>(), new[] { (sbyte)zeroPoint })
                : new Tensor(DataType.UInt8, Array.Empty<int>(), new[] { (byte)zeroPoint }));
        }
        IntegerQdqLayout.QuantizeLayers(graph, layers, settings.PerChannel);
        graph.RemoveUnused();
        ModelWriter.Stamp(model, "qat", $"quantisation-aware training: {(settings.PerChannel ? "per-channel" : "per-tensor")} symmetric int8 weights, {(settings.SignedActivations ? "int8" : "uint8")} activations (moving-average ranges), {options.Epochs} epoch(s) lr {options.LearningRate} {options.Optimizer}");
        return epochs;
    }
}
