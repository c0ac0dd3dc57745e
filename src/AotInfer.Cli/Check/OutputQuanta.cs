using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Cli.Check;

/// <summary>
/// Finds the graph outputs that a per-tensor DequantizeLinear computes and the size of one quantum (the scale) of each,
/// so <see cref="OutputComparer"/> can judge them in their integer domain.
/// </summary>
public static class OutputQuanta
{
    /// <summary>Output name → scale, for outputs produced by DequantizeLinear whose scale is a one-element float initializer.</summary>
    public static Dictionary<string, double> Find(GraphProto graph)
    {
        var quanta = new Dictionary<string, double>();
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        foreach (var output in graph.Output)
        {
            var producer = graph.Node.FirstOrDefault(n => n.Output.Contains(output.Name));
            if (producer is not { OpType: "DequantizeLinear" } || producer.Domain is not ("" or "ai.onnx") || producer.Input.Count < 2) continue;
            if (!initializers.TryGetValue(producer.Input[1], out var scaleProto)) continue;
            var scale = TensorProtoReader.Read(scaleProto, null);
            if (scale.Length != 1 || scale.Type != DataType.Float) continue;
            double value = scale.ToDouble()[0];
            if (value > 0 && double.IsFinite(value)) quanta[output.Name] = value;
        }
        return quanta;
    }
}
