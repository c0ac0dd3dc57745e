using System.Collections.Generic;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Onnx;

/// <summary>
/// A Conv, Gemm or MatMul whose weight is a float initializer: the layers pruning, clustering and quantisation work
/// on. <see cref="OutputAxis"/> is the weight axis that indexes output units (Conv output channels, Gemm/MatMul
/// neurons), so "per channel" means the same thing for every layer kind.
/// </summary>
/// <param name="Node">The layer's node.</param>
/// <param name="WeightName">Initializer holding the weight.</param>
/// <param name="BiasName">Initializer holding the bias, or null.</param>
/// <param name="OutputAxis">Weight axis of output units: 0 for Conv and Gemm with transB=1, 1 for Gemm (transB=0) and MatMul.</param>
/// <param name="Shape">The weight's shape.</param>
public sealed record WeightedLayer(NodeProto Node, string WeightName, string? BiasName, int OutputAxis, int[] Shape)
{
    /// <summary>Number of output units (channels or neurons).</summary>
    public int OutputCount => Shape[OutputAxis];

    /// <summary>Number of weights feeding one output unit.</summary>
    public int UnitSize => ShapeMath.ElementCount(Shape) / OutputCount;

    /// <summary>A display name: the node name or its first output.</summary>
    public string Name => Node.Name.Length > 0 ? Node.Name : Node.Output[0];

    /// <summary>
    /// Flat index of weight <paramref name="j"/> (0 ≤ j &lt; <see cref="UnitSize"/>) of output unit
    /// <paramref name="unit"/>; consecutive j run along the input (reduction) dimension.
    /// </summary>
    public int Index(int unit, int j) => OutputAxis == 0 ? unit * UnitSize + j : j * OutputCount + unit;

    /// <summary>Finds the weighted layers of the graph, in node order.</summary>
    public static List<WeightedLayer> Find(GraphEditor graph)
    {
        var layers = new List<WeightedLayer>();
        foreach (var node in graph.Graph.Node)
        {
            if (node.Domain is not ("" or "ai.onnx") || node.Input.Count < 2) continue;
            string weight = node.Input[1];
            if (!graph.IsConstant(weight) || graph.Initializer(weight)!.DataType != (int)DataType.Float) continue;
            int[] shape = ShapeMath.ToIntShape(graph.Initializer(weight)!.Dims, weight);
            string? bias = node.Input.Count > 2 && graph.IsConstant(node.Input[2]) ? node.Input[2] : null;
            switch (node.OpType)
            {
                case "Conv" when shape.Length >= 3:
                    layers.Add(new WeightedLayer(node, weight, bias, 0, shape));
                    break;
                case "Gemm" when shape.Length == 2 && GraphEditor.GetInt(node, "transA", 0) == 0:
                    layers.Add(new WeightedLayer(node, weight, bias, GraphEditor.GetInt(node, "transB", 0) != 0 ? 0 : 1, shape));
                    break;
                case "MatMul" when shape.Length == 2:
                    layers.Add(new WeightedLayer(node, weight, null, 1, shape));
                    break;
            }
        }
        return layers;
    }
}
