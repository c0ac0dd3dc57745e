using System;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Models;

/// <summary>
/// Builds a fresh fully connected network as ONNX, ready to train: Flatten → (Gemm → Relu)* → Gemm, with weights
/// stored [out, in] (transB = 1, PyTorch's Linear layout), He-normal initial weights (std √(2/fan-in), right for Relu)
/// drawn from a fixed seed and zero biases. The input has a symbolic batch dimension "N" and the given sample shape.
/// </summary>
public static class MlpBuilder
{
    /// <summary>
    /// A network with layer widths <paramref name="widths"/> (first: input features, last: classes, e.g. 784,64,32,10)
    /// whose input samples have <paramref name="sampleShape"/> (its element count must be the first width).
    /// </summary>
    public static ModelProto Create(int[] widths, int[] sampleShape, int seed)
    {
        if (widths.Length < 2) throw new ArgumentException("an MLP needs at least two widths: inputs and classes (e.g. 784,64,32,10)");
        if (widths.Any(w => w < 1)) throw new ArgumentException($"layer widths must be positive, not {string.Join(",", widths)}");
        int features = sampleShape.Aggregate(1, (a, b) => a * b);
        if (features != widths[0]) throw new ArgumentException($"the input sample shape [{string.Join(",", sampleShape)}] has {features} values but the first width is {widths[0]}");

        var graph = new GraphProto { Name = "mlp_" + string.Join("_", widths) };
        var input = new ValueInfoProto { Name = "input", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = new TensorShapeProto() } } };
        input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (int d in sampleShape) input.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        graph.Input.Add(input);

        var random = new Random(seed);
        string current = "flat";
        graph.Node.Add(Node("Flatten", "flatten", new[] { "input" }, current));
        for (int layer = 0; layer + 1 < widths.Length; layer++)
        {
            int fanIn = widths[layer], fanOut = widths[layer + 1];
            string weight = $"fc{layer + 1}.weight", bias = $"fc{layer + 1}.bias";
            graph.Initializer.Add(TensorProtoReader.Write(new Tensor(DataType.Float, new[] { fanOut, fanIn }, HeNormal(random, fanOut * fanIn, fanIn)), weight));
            graph.Initializer.Add(TensorProtoReader.Write(new Tensor(DataType.Float, new[] { fanOut }, new float[fanOut]), bias));
            bool last = layer + 2 == widths.Length;
            string output = last ? "logits" : $"fc{layer + 1}";
            var gemm = Node("Gemm", $"fc{layer + 1}", new[] { current, weight, bias }, output);
            GraphEditor.SetInt(gemm, "transB", 1);
            graph.Node.Add(gemm);
            current = output;
            if (!last)
            {
                graph.Node.Add(Node("Relu", $"relu{layer + 1}", new[] { output }, output + "_relu"));
                current = output + "_relu";
            }
        }
        graph.Output.Add(GraphEditor.FloatValueInfo("logits"));
        var model = new ModelProto { IrVersion = 8, ProducerName = "aotinfer init-mlp", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    static NodeProto Node(string opType, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(output);
        return node;
    }

    /// <summary>He initialisation: <paramref name="count"/> draws of Normal(0, √(2/fanIn)) by Box–Muller.</summary>
    public static float[] HeNormal(Random random, int count, int fanIn)
    {
        double std = Math.Sqrt(2.0 / fanIn);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return values;
    }
}
