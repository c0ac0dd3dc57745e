using System;
using System.Diagnostics;

namespace AotInfer.Kernels;

/// <summary>
/// Implemented by a model compiled with profiling (the compiler's <c>CompileOptions.Profile</c>, <c>aotinfer compile
/// --profile</c>): the time <c>Run</c> spends in each layer, for per-layer comparisons such as <c>bench --profile</c>.
/// A model compiled without profiling has none of this code.
/// </summary>
public interface IProfiledModel
{
    /// <summary>The layers in <c>Run</c> order: the names of the compiled graph's nodes.</summary>
    string[] LayerNames { get; }

    /// <summary>The ONNX op type of each layer.</summary>
    string[] LayerOps { get; }

    /// <summary>
    /// Per layer, the other names its work may go by in another runtime's profile: the model's nodes the compiler
    /// folded into it (a fused activation, an added bias, a BatchNormalization) and the tensors it writes (ONNX
    /// Runtime names a fused node after its output).
    /// </summary>
    string[][] LayerAliases { get; }

    /// <summary><see cref="Stopwatch"/> ticks spent in each layer, summed over every call since construction (clear to restart).</summary>
    long[] LayerTicks { get; }
}

/// <summary>The stamp profiled models call after each layer.</summary>
public static class LayerClock
{
    /// <summary>Adds the ticks since <paramref name="since"/> to layer <paramref name="layer"/>; returns the time now, the next layer's start.</summary>
    public static long Stamp(long[] ticks, int layer, long since)
    {
        long now = Stopwatch.GetTimestamp();
        ticks[layer] += now - since;
        return now;
    }
}
