using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Reporting;

/// <summary>One layer weight as the model stores it: its values and how many distinct values it takes.</summary>
/// <param name="Name">Initializer name.</param>
/// <param name="Values">Real values (dequantised when stored as integers).</param>
/// <param name="BitsPerValue">Bits of the stored element type (32 for float, 8 for int8 / uint8).</param>
/// <param name="Side">Bytes stored beside the values (quantisation scales and zero points).</param>
/// <param name="Shape">The tensor's shape.</param>
/// <param name="ChannelAxis">The axis of output channels (per-channel palettes group along it).</param>
/// <param name="RealValued">False for integer weights stored without their scale (dynamic models): counted, not plotted.</param>
public sealed record StoredWeight(string Name, float[] Values, int BitsPerValue, long Side, int[] Shape, int ChannelAxis, bool RealValued = true);

/// <summary>
/// Finds the layer weights of a float, QDQ or QOperator model: float weights of Conv / Gemm / MatMul, and constant
/// integer tensors behind DequantizeLinear, QLinearConv or QLinearMatMul (dequantised with their scales). Used for
/// weight histograms and stored-size estimates; integer weights of dynamic models (MatMulInteger, ConvInteger) carry
/// no scale beside them: their values are the integers minus the zero point, marked not real-valued.
/// </summary>
public static class WeightValues
{
    /// <summary>The weights of <paramref name="model"/>.</summary>
    public static List<StoredWeight> Find(ModelProto model, string? modelDirectory = null)
    {
        var graph = new GraphEditor(model, modelDirectory);
        var result = new List<StoredWeight>();
        foreach (var layer in WeightedLayer.Find(graph))
            result.Add(new StoredWeight(layer.WeightName, graph.ReadFloat(layer.WeightName)!.As<float>(), 32, 0, layer.Shape, layer.OutputAxis));
        foreach (var node in graph.Graph.Node)
        {
            var (values, scale, zero, axis) = node.OpType switch
            {
                "DequantizeLinear" => (0, 1, 2, (int)GraphEditor.GetInt(node, "axis", 1)),
                "QLinearConv" => (3, 4, 5, 0),
                "QLinearMatMul" => (3, 4, 5, -1),
                // No scale input: the integers minus the zero point (scale index -2 means "none").
                "MatMulInteger" => (1, -2, 3, -1),
                "ConvInteger" => (1, -2, 3, 0),
                _ => (-1, -1, -1, 0),
            };
            bool scaled = scale >= 0;
            if (values < 0 || node.Input.Count <= values || !graph.IsConstant(node.Input[values]) || (scaled && (node.Input.Count <= scale || !graph.IsConstant(node.Input[scale])))) continue;
            var q = graph.Read(node.Input[values]);
            if (q.Type is not (DataType.Int8 or DataType.UInt8) || result.Any(r => r.Name == node.Input[values])) continue;
            var scales = scaled ? graph.Read(node.Input[scale]).ToDouble() : new double[] { 1 };
            var zeros = node.Input.Count > zero && graph.IsConstant(node.Input[zero]) ? graph.Read(node.Input[zero]).ToDouble() : new double[] { 0 };
            int channelAxis = q.Shape.Length == 0 ? 0 : (axis + q.Shape.Length) % q.Shape.Length;
            long side = (scaled ? 4L * scales.Length : 0) + zeros.Length;
            result.Add(new StoredWeight(node.Input[values], Dequantize(q, scales, zeros, axis), 8, side, q.Shape, channelAxis, scaled));
        }
        return result;
    }

    static float[] Dequantize(Tensor q, double[] scales, double[] zeros, int axis)
    {
        var values = q.ToDouble();
        var result = new float[values.Length];
        if (axis < 0) axis += q.Shape.Length;
        int inner = 1;
        for (int d = axis + 1; d < q.Shape.Length; d++) inner *= q.Shape[d];
        int channels = q.Shape.Length == 0 ? 1 : q.Shape[axis];
        for (int i = 0; i < values.Length; i++)
        {
            // Per-tensor parameters have one value; per-axis ones one per index along the axis.
            int c = scales.Length == 1 ? 0 : i / inner % channels;
            result[i] = (float)((values[i] - zeros[zeros.Length == 1 ? 0 : c]) * scales[c]);
        }
        return result;
    }
}
