using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Ops;
using AotInfer.Compiler.Ops.Convolution;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Chooses the tensors that flow between layers in the 16-channel-blocked layout NCHW16c
/// (<c>AotInfer.Kernels.Convolution.Nchw16c</c>) instead of NCHW: those whose producer can write it and whose every
/// reader can read it, so that chains of depthwise and pointwise convolutions (DS-CNN, MobileNet) skip the transposes
/// the channel-vectorised kernels otherwise pay at both ends of every layer. The layout-aware layers are the
/// depthwise Conv, moved to the channel-interleaved kernel (either side in either layout: it converts at a chain's ends), the 1×1
/// stride-1 ungrouped Conv with constant weights (NCHW16c on its output and residual with its input in either layout, or
/// NCHW on all: after a tensor that stays NCHW, such as MobileNetV2's 24-channel ones, it starts a chain) and
/// GlobalAveragePool (reads it). A tensor stays NCHW when it is a graph input or output, has a channel count that is not
/// a multiple of 16, or any reader (or its producer) is another op, so no reorder node is ever needed.
/// The choice is recorded as node annotations (<see cref="InputKey"/>, <see cref="OutputKey"/>) that the lowerings read.
/// Run after fusion (a fused activation or residual belongs to the Conv's epilogue) and the kernel choice.
/// </summary>
public static class Nchw16cLayout
{
    /// <summary>Annotation of a node that reads X in NCHW16c (a 1×1 layer's residual is in its output's layout).</summary>
    public const string InputKey = "input layout";

    /// <summary>Annotation of a node that writes its output in NCHW16c.</summary>
    public const string OutputKey = "output layout";

    /// <summary>The annotations' value, and the kernel annotation of a 1×1 Conv computed in the layout.</summary>
    public const string Name = "NCHW16c", PointwiseKernel = "pointwise-nchw16c";

    /// <summary>The kernel annotation of a depthwise Conv with an NCHW16c side (the one kernel that converts).</summary>
    public const string DepthwiseKernel = "depthwise-interleaved";

    const int Block = 16;

    /// <summary>True when <paramref name="node"/> reads X in NCHW16c.</summary>
    public static bool ReadsBlocked(Node node) => node.Annotations.ContainsKey(InputKey);

    /// <summary>True when <paramref name="node"/> writes its output in NCHW16c.</summary>
    public static bool WritesBlocked(Node node) => node.Annotations.ContainsKey(OutputKey);

    enum Role { None, Depthwise, Pointwise, GlobalAverage }

    /// <summary>Annotates the nodes around every tensor kept in NCHW16c; returns how many tensors are.</summary>
    public static int Run(Graph graph)
    {
        var roles = graph.Nodes.ToDictionary(n => n, RoleOf);
        var blocked = new HashSet<Value>(graph.Nodes.SelectMany(n => n.Outputs).Where(v => Eligible(v, roles)));
        // A pointwise layer writes its output and adds its residual in one layout, and reads NCHW16c only to write it.
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var node in graph.Nodes.Where(n => roles[n] == Role.Pointwise))
            {
                var sums = PointwiseSums(node).ToArray();
                if (sums.Any(blocked.Contains) && !sums.All(blocked.Contains))
                {
                    blocked.ExceptWith(sums);
                    changed = true;
                }
                if (!blocked.Contains(node.Outputs[0]) && blocked.Remove(node.Inputs[0]!)) changed = true;
            }
        }
        foreach (var node in graph.Nodes)
        {
            if (roles[node] == Role.None) continue;
            if (node.Inputs[0] is { } x && blocked.Contains(x)) node.Annotations[InputKey] = Name;
            if (blocked.Contains(node.Outputs[0])) node.Annotations[OutputKey] = Name;
            if (!ReadsBlocked(node) && !WritesBlocked(node)) continue;
            if (roles[node] == Role.Pointwise) node.Annotations["kernel"] = PointwiseKernel;
            if (roles[node] == Role.Depthwise) node.Annotations["kernel"] = DepthwiseKernel;
        }
        return blocked.Count;
    }

    /// <summary>A float image of whole 16-channel blocks, inside the graph, written and read only by layout-aware layers.</summary>
    static bool Eligible(Value v, Dictionary<Node, Role> roles) =>
        v is { Type: DataType.Float, Shape: { Length: 4 } shape, IsGraphOutput: false, IsGraphInput: false, Constant: null, Producer: { } producer } &&
        shape[1] % Block == 0 && shape[1] > 0 && roles[producer] is Role.Depthwise or Role.Pointwise && v.Consumers.Count > 0 &&
        v.Consumers.All(reader => ReadsAsImage(reader, roles[reader], v));

    /// <summary>The reader takes <paramref name="v"/> only where it reads images: X, or a pointwise layer's residual.</summary>
    static bool ReadsAsImage(Node reader, Role role, Value v) => role != Role.None &&
        reader.Inputs.Select((input, i) => (input, i)).Where(p => p.input == v)
            .All(p => p.i == 0 || role == Role.Pointwise && p.i == ResidualFusion.InputIndex);

    /// <summary>A pointwise layer's output and the residual its epilogue adds.</summary>
    static IEnumerable<Value> PointwiseSums(Node node)
    {
        if (node.Input(ResidualFusion.InputIndex) is { } residual) yield return residual;
        yield return node.Outputs[0];
    }

    static Role RoleOf(Node node)
    {
        if (node.Domain.Length != 0) return Role.None;
        if (node.OpType == "GlobalAveragePool") return node.Inputs[0]?.Shape?.Length == 4 ? Role.GlobalAverage : Role.None;
        if (node.OpType != "Conv" || !node.Annotations.TryGetValue("kernel", out var kernel)) return Role.None;
        return kernel switch
        {
            // The other depthwise kernels compute NCHW only; a layer the chain reaches moves to the interleaved one,
            // which without its transposes beats them (they were chosen over it with the transposes counted).
            "depthwise-interleaved" or "depthwise-same-width" or "depthwise-stride2" or "depthwise-direct" when node.Inputs[0]?.Shape?.Length == 4 => Role.Depthwise,
            "pointwise-gemm" or "channel-blocked" when ConvLowering.IsUngroupedPointwise(new OpContext(node)) => Role.Pointwise,
            // Anything else, including the sparse convolution SparseWeightSelection chose for a pruned filter, is NCHW only.
            _ => Role.None,
        };
    }
}
