using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Fuses a 2×2 stride-2 MaxPool into the Conv whose output it alone reads, for the Conv kernels that pool their output
/// tiles before storing them (<see cref="KernelsWithPool"/>): LeNet's Conv → Relu → MaxPool. The pool's pass over the
/// whole convolution output disappears, and the convolution stores a quarter of the pixels (fashion_lenet5's c1 →
/// MaxPool and c2 → MaxPool_1, fashion_bncnn's f.3 → f.6 and f.10 → f.13); a one-channel layer on the row kernel moves to the flat-row kernel to pool (mnist-8's
/// first layer, <c>ConvLowering.FlatRowsPoolInstead</c>). Measured with <c>bench --profile</c> (µs, ours, Conv + MaxPool
/// → fused): fashion_lenet5's c1 4.17 + 1.21 → 4.32, c2 8.58 + 0.74 → 8.07–9.09; fashion_bncnn's f.3 29.30 + 2.20 →
/// 27.93, f.10 28.40 + 2.12 → 28.53; mnist-8's first layer 2.07 + 0.61 → 2.37. Run after <see cref="ActivationFusion"/> (the
/// Relu between is then already in the Conv; the max commutes with Relu and Clip, which the kernel applies first, but
/// not with every activation, so only those) and after <see cref="SparseWeightSelection"/> (a sparse filter replaces
/// the dense kernel, which is the one that pools). The Conv's output becomes the MaxPool's, of the pooled shape.
/// </summary>
public static class MaxPoolFusion
{
    /// <summary>The Conv kernels (ConvLowering's <c>kernel</c> annotation) that take <c>maxPool2x2</c>.</summary>
    static readonly string[] KernelsWithPool = { "winograd-f4x3", "winograd-f4x5", "single-channel-flat" };

    /// <summary>Fuses every eligible Conv → MaxPool pair; returns how many were fused.</summary>
    public static int Run(Graph graph)
    {
        int fused = 0;
        foreach (var conv in graph.Nodes.ToArray())
        {
            if (conv.Domain.Length != 0 || conv.OpType != "Conv" || conv.Annotations.ContainsKey(FusedEpilogue.PoolKey)) continue;
            if (!conv.Annotations.TryGetValue("kernel", out var chosen) || chosen is not string kernel) continue;
            // The one-channel row kernel does not pool; the flat-row kernel, which does, covers most of its layers.
            if (kernel == "single-channel" && Ops.Convolution.ConvLowering.FlatRowsPoolInstead(conv)) kernel = "single-channel-flat";
            if (!KernelsWithPool.Contains(kernel)) continue;
            if (conv.Inputs.Count > ResidualFusion.InputIndex || Ops.Sparse.SparseConvolutionEmitter.Replaces(conv)) continue;
            if (FusedEpilogue.Of(conv) is { Kind: not ("Relu" or "Clip") }) continue;
            if (conv.Outputs[0] is not { Type: DataType.Float, Shape: { Length: 4 } shape }) continue;
            if (FusionGraph.SoleReader(conv) is not { OpType: "MaxPool", Domain: "" } pool || !IsTwoByTwoStrideTwo(pool)) continue;
            // Floor mode without padding: the pooled shape is what the kernel writes (this also settles ceil_mode).
            if (pool.Outputs[0].Shape is not { } pooled || !pooled.SequenceEqual(new[] { shape[0], shape[1], shape[2] / 2, shape[3] / 2 })) continue;
            FusionGraph.Absorb(graph, conv, pool);
            conv.Annotations["kernel"] = kernel;
            conv.Annotations[FusedEpilogue.PoolKey] = pool.ToString();
            fused++;
        }
        return fused;
    }

    /// <summary>True when <paramref name="pool"/> is a 2-D 2×2 window at stride 2 without padding or dilation.</summary>
    static bool IsTwoByTwoStrideTwo(Node pool)
    {
        var a = pool.Attributes;
        return Is(a.Ints("kernel_shape"), 2, 2) && Is(a.Ints("strides"), 2, 2) && (a.Ints("pads") is not { } pads || Is(pads, 0, 4))
               && (a.Ints("dilations") is not { } dilations || Is(dilations, 1, 2)) && a.String("auto_pad", "NOTSET") is "NOTSET" or "VALID";
    }

    /// <summary>True when <paramref name="values"/> holds <paramref name="count"/> times <paramref name="value"/>.</summary>
    static bool Is(long[]? values, long value, int count) => values is not null && values.Length == count && values.All(v => v == value);
}
