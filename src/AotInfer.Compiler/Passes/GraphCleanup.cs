using System.Linq;
using AotInfer.Compiler.IR;

namespace AotInfer.Compiler.Passes;

/// <summary>Removes nodes that do nothing at run time: Identity and inference-mode Dropout, and nodes whose results nobody reads.</summary>
public static class GraphCleanup
{
    /// <summary>Rewires readers of Identity / Dropout outputs to the input (unless the output is a graph output).</summary>
    public static void RemovePassThrough(Graph graph)
    {
        foreach (var node in graph.Nodes.ToList())
        {
            bool passThrough = node.OpType == "Identity" && node.Domain == ""
                || node.OpType == "Dropout" && node.Domain == "" && IsInferenceDropout(node);
            if (!passThrough || node.Input(0) is not { } input) continue;
            var output = node.Outputs[0];
            if (output.IsGraphOutput) continue;
            if (node.Outputs.Skip(1).Any(o => o.Consumers.Count > 0 || o.IsGraphOutput)) continue; // the mask is used
            graph.ReplaceUses(output, input);
            graph.Remove(node);
        }
    }

    /// <summary>Removes nodes none of whose outputs are read or returned, repeatedly.</summary>
    public static void RemoveDeadNodes(Graph graph)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var node in graph.Nodes.ToList())
            {
                if (node.Outputs.Any(o => o.IsGraphOutput || o.Consumers.Count > 0)) continue;
                graph.Remove(node);
                changed = true;
            }
        }
    }

    static bool IsInferenceDropout(Node node)
    {
        // Opset 12+: training_mode is input 2; a constant false (or absent) means pass-through. Older: is_test / no ratio effect at inference.
        var training = node.Input(2);
        if (training is null) return true;
        return training.Constant is { } t && t.Data is bool[] b && b.Length == 1 && !b[0];
    }
}
