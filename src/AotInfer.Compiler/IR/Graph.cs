using System.Collections.Generic;
using System.Linq;

namespace AotInfer.Compiler.IR;

/// <summary>A model's main graph after import: nodes in topological order and the values between them.</summary>
public sealed class Graph
{
    /// <summary>Nodes in execution order.</summary>
    public List<Node> Nodes { get; } = new();

    /// <summary>Graph inputs fed by the caller (initializers excluded).</summary>
    public List<Value> Inputs { get; } = new();

    /// <summary>Graph outputs.</summary>
    public List<Value> Outputs { get; } = new();

    /// <summary>
    /// The symbolic leading input dimension that stays a run-time batch size (the graph is compiled for one sample),
    /// or null when every dimension is fixed.
    /// </summary>
    public string? BatchDimension { get; set; }

    /// <summary>Values that carry the run-time batch on their first axis (set when <see cref="BatchDimension"/> is).</summary>
    public HashSet<Value> Batched { get; set; } = new();

    /// <summary>Every value by name.</summary>
    public Dictionary<string, Value> Values { get; } = new();

    /// <summary>Removes a node and unhooks it from its inputs.</summary>
    public void Remove(Node node)
    {
        Nodes.Remove(node);
        foreach (var input in node.Inputs) input?.Consumers.Remove(node);
        foreach (var output in node.Outputs) if (output is not null && output.Producer == node) output.Producer = null;
    }

    /// <summary>Points every consumer of <paramref name="from"/> at <paramref name="to"/> instead.</summary>
    public void ReplaceUses(Value from, Value to)
    {
        foreach (var consumer in from.Consumers.ToList())
        {
            for (int i = 0; i < consumer.Inputs.Count; i++)
                if (consumer.Inputs[i] == from) consumer.Inputs[i] = to;
            to.Consumers.Add(consumer);
        }
        from.Consumers.Clear();
    }
}
