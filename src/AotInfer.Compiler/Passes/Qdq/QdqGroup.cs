using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;

namespace AotInfer.Compiler.Passes.Qdq;

/// <summary>
/// One float node with the QDQ nodes around it, as ONNX Runtime's QDQ selectors see it: a DequantizeLinear per
/// input (or none), the node, optionally a Relu/Clip the output quantisation makes redundant, and the single
/// QuantizeLinear that reads the result (or none).
/// </summary>
internal sealed class QdqGroup
{
    QdqGroup(Node target, QdqParameters?[] inputs, string?[] inputProblems, Node? activation, Node? quantize, QdqParameters? output, string? outputProblem)
    {
        Target = target;
        Inputs = inputs;
        InputProblems = inputProblems;
        RedundantActivation = activation;
        Quantize = quantize;
        Output = output;
        OutputProblem = outputProblem;
    }

    /// <summary>The float node the pattern is built around.</summary>
    public Node Target { get; }

    /// <summary>Per input of <see cref="Target"/>: the parameters of the DequantizeLinear feeding it, or null.</summary>
    public QdqParameters?[] Inputs { get; }

    /// <summary>Per input: why the DequantizeLinear feeding it cannot be used, or null.</summary>
    public string?[] InputProblems { get; }

    /// <summary>A Relu or Clip between the node and <see cref="Quantize"/> whose range the quantisation already enforces.</summary>
    public Node? RedundantActivation { get; }

    /// <summary>The QuantizeLinear reading the node's result, or null.</summary>
    public Node? Quantize { get; }

    /// <summary>The parameters of <see cref="Quantize"/>, or null.</summary>
    public QdqParameters? Output { get; }

    /// <summary>Why the output side cannot be used (e.g. the result is read by other nodes too), or null.</summary>
    public string? OutputProblem { get; }

    /// <summary>The value the lowered node computes: the quantised result, or the node's float result when there is no QuantizeLinear.</summary>
    public Value Result => Quantize?.Outputs[0] ?? Target.Outputs[0];

    /// <summary>True when at least one input is dequantised or the result is quantised, so the node is part of a QDQ pattern.</summary>
    public bool TouchesQdq => Inputs.Any(i => i is not null) || InputProblems.Any(p => p is not null) || Quantize is not null;

    /// <summary>The nodes the lowered node replaces.</summary>
    public IEnumerable<Node> Replaced()
    {
        yield return Target;
        if (RedundantActivation is not null) yield return RedundantActivation;
        if (Quantize is not null) yield return Quantize;
    }

    /// <summary>The inputs of <see cref="Target"/> that come from a DequantizeLinear, or a reason when one does not.</summary>
    public string? RequireDequantized(params int[] indexes)
    {
        foreach (int i in indexes)
        {
            if (i < InputProblems.Length && InputProblems[i] is { } problem) return problem;
            if (i >= Inputs.Length || Inputs[i] is null) return $"input {i} does not come from DequantizeLinear";
        }
        return null;
    }

    /// <summary>The group around <paramref name="target"/>; <paramref name="foldedDequantize"/> maps constants shape inference folded from DequantizeLinear to that node.</summary>
    public static QdqGroup Find(Node target, IReadOnlyDictionary<Value, Node> foldedDequantize)
    {
        int count = target.Inputs.Count;
        var inputs = new QdqParameters?[count];
        var problems = new string?[count];
        for (int i = 0; i < count; i++)
        {
            if (target.Inputs[i] is not { } input) continue;
            var dequantize = input.Producer is { OpType: "DequantizeLinear", Domain: "" } producer ? producer
                : foldedDequantize.TryGetValue(input, out var folded) ? folded : null;
            if (dequantize is null) continue;
            if (input.Type != Onnx.DataType.Float) { problems[i] = $"input {i} is dequantised to {input.Type}, not float"; continue; }
            inputs[i] = QdqParameters.OfDequantize(dequantize, out string reason);
            if (inputs[i] is null) problems[i] = reason;
        }

        Node? activation = null, quantize = null;
        QdqParameters? output = null;
        string? outputProblem = null;
        var reader = FusionGraph.SoleReader(target);
        if (reader is { OpType: "Relu" or "Clip", Domain: "" })
        {
            // ONNX Runtime only drops an activation the output QuantizeLinear makes redundant; otherwise nothing fuses.
            if (FusionGraph.SoleReader(reader) is not { OpType: "QuantizeLinear", Domain: "" } afterActivation)
                return new QdqGroup(target, inputs, problems, null, null, null, $"{reader} follows without a QuantizeLinear to absorb it");
            activation = reader;
            reader = afterActivation;
        }
        if (reader is { OpType: "QuantizeLinear", Domain: "" } && reader.Input(0) == (activation ?? target).Outputs[0])
        {
            quantize = reader;
            output = QdqParameters.OfQuantize(reader, out string reason);
            if (output is null) outputProblem = reason;
            else if (!output.PerTensor) outputProblem = $"{reader} quantises per axis";
            else if (activation is not null && !QdqActivation.IsRedundant(activation, output)) outputProblem = $"{activation} clamps inside the range {reader} can represent";
        }
        else if (target.Outputs[0].Consumers.Any(c => c.OpType == "QuantizeLinear"))
        {
            outputProblem = "the result is read by other nodes besides QuantizeLinear (or is a graph output)";
        }
        if (outputProblem is not null) { activation = null; output = null; }
        return new QdqGroup(target, inputs, problems, activation, quantize, output, outputProblem);
    }
}
