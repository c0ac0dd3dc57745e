using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Recognises the chain ONNX Runtime's <c>quantize_dynamic</c> writes for every MatMul/Gemm with int8 weights,
/// <code>
/// x ─DynamicQuantizeLinear─▶ (xq, x_scale, x_zero) ─MatMulInteger(xq, B, x_zero, b_zero)─▶ Cast(float)
///   ─Mul(·, Mul(x_scale, b_scale))─▶ [Add(bias)]
/// </code>
/// and replaces it by one com.microsoft DynamicQuantizeMatMul(x, B, b_scale, b_zero, bias): the activation row is
/// quantised, multiplied by the pre-packed weights and scaled back in one kernel call instead of six nodes, each a
/// pass over memory. The arithmetic is the chain's: the same u8 quantisation, exact int32 products, then
/// float(acc)·(x_scale·b_scale) + bias in float. Run before <see cref="BiasFusion"/> and <see cref="ActivationFusion"/>,
/// which then fuses a following Relu. A chain whose intermediates are read elsewhere, whose weights or scales are not
/// constant, or that the fused op's lowering rejects is left alone (it still computes the same result, node by node).
/// </summary>
public static class DynamicQuantizationFusion
{
    /// <summary>Fuses every recognised chain; returns how many.</summary>
    public static int Run(Graph graph, OpRegistry registry)
    {
        int fused = 0;
        foreach (var matMul in graph.Nodes.ToArray())
        {
            if (matMul.OpType != "MatMulInteger" || matMul.Domain.Length != 0 || !graph.Nodes.Contains(matMul)) continue;
            if (Match(matMul) is not { } chain) continue;
            if (TryCommit(graph, registry, chain)) fused++;
        }
        return fused;
    }

    /// <summary>The nodes and values of one recognised chain.</summary>
    sealed record Chain(Node Quantize, Node MatMul, Node Cast, Node ScalesMul, Node OutputMul, Node? Add, Value Input, Value Weights, Value WeightScale,
        Value? WeightZero, Value? Bias)
    {
        public Value Result => (Add ?? OutputMul).Outputs[0];

        public IEnumerable<Node> Nodes => new[] { Quantize, ScalesMul, MatMul, Cast, OutputMul, Add }.OfType<Node>();
    }

    static Chain? Match(Node matMul)
    {
        if (matMul.Input(0) is not { Producer: { OpType: "DynamicQuantizeLinear", Domain: "" } quantize } quantized) return null;
        if (quantize.Outputs.Count != 3 || quantize.Input(0) is not { Type: DataType.Float } input) return null;
        Value scale = quantize.Outputs[1], zero = quantize.Outputs[2];
        // Only this chain may read the quantised activation, its scale and its zero point: they disappear.
        if (!OnlyReadBy(quantized, matMul) || !OnlyReadBy(zero, matMul) || matMul.Input(2) != zero) return null;
        if (matMul.Input(1) is not { Constant: not null } weights) return null;
        var weightZero = matMul.Input(3);
        if (weightZero is not null && weightZero.Constant is null) return null;

        if (FusionGraph.SoleReader(matMul) is not { OpType: "Cast", Domain: "" } cast || cast.Attributes.Int("to", 0) != (long)DataType.Float) return null;
        if (FusionGraph.SoleReader(cast) is not { OpType: "Mul", Domain: "", Inputs.Count: 2 } outputMul) return null;
        var scales = outputMul.Inputs[0] == cast.Outputs[0] ? outputMul.Inputs[1] : outputMul.Inputs[0];
        if (scales is not { Producer: { OpType: "Mul", Domain: "", Inputs.Count: 2 } scalesMul } || !OnlyReadBy(scales, outputMul)) return null;
        if (scale.Consumers.Count != 1 || scale.IsGraphOutput || scale.Consumers[0] != scalesMul) return null;
        var weightScale = scalesMul.Inputs[0] == scale ? scalesMul.Inputs[1] : scalesMul.Inputs[0];
        if (weightScale is not { Constant: not null, Type: DataType.Float } || weightScale == scale) return null;
        // The scale product must not broadcast the output to a larger shape.
        if (!SameShape(outputMul.Outputs[0], matMul.Outputs[0])) return null;

        Node? add = null;
        Value? bias = null;
        if (FusionGraph.SoleReader(outputMul) is { OpType: "Add", Domain: "", Inputs.Count: 2 } candidate && SameShape(candidate.Outputs[0], outputMul.Outputs[0]))
        {
            var other = candidate.Inputs[0] == outputMul.Outputs[0] ? candidate.Inputs[1] : candidate.Inputs[0];
            if (other is { Constant: not null, Type: DataType.Float } && other != outputMul.Outputs[0]) (add, bias) = (candidate, other);
        }
        return new Chain(quantize, matMul, cast, scalesMul, outputMul, add, input, weights, weightScale, weightZero, bias);
    }

    static bool OnlyReadBy(Value value, Node reader) => !value.IsGraphOutput && value.Consumers.Count == 1 && value.Consumers[0] == reader;

    static bool SameShape(Value a, Value b) => a.Shape is not null && b.Shape is not null && a.Shape.SequenceEqual(b.Shape);

    /// <summary>Builds the fused node and splices it in where the chain began, when its lowering accepts it.</summary>
    static bool TryCommit(Graph graph, OpRegistry registry, Chain chain)
    {
        // A bias must be one value or one per output column: a Mul/Add broadcast over rows stays node by node.
        if (chain.Bias is not null && chain.Bias.Shape is { } biasShape && FusionGraph.WithoutLeadingOnes(biasShape).Length > 1) return false;
        var fused = new Node(chain.MatMul.Name, "DynamicQuantizeMatMul", "com.microsoft", 1, new NodeAttributes(Array.Empty<Onnx.Proto.AttributeProto>(), null));
        fused.Inputs.AddRange(new[] { chain.Input, chain.Weights, chain.WeightScale, chain.WeightZero, chain.Bias });
        if (!FusionGraph.TryReplace(graph, registry, chain.Nodes.ToList(), fused, chain.Result, chain.Quantize, out _)) return false;
        fused.Annotations["fused"] = $"{string.Join(" → ", chain.Nodes.Select(n => n.OpType))} (ONNX Runtime's dynamic quantisation)";
        return true;
    }
}
