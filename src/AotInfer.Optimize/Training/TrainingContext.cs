using System;
using System.Collections.Generic;

namespace AotInfer.Optimize.Training;

/// <summary>
/// The values and gradients of one pass through a <see cref="TrainingGraph"/>, shared by its ops. Forward writes
/// each value once; backward accumulates the loss gradient of each value from every op that reads it, the first
/// contribution overwriting (so no buffer needs clearing) and later ones adding.
/// </summary>
public sealed class TrainingContext
{
    readonly Dictionary<string, TrainingTensor> _values = new(StringComparer.Ordinal);
    readonly Dictionary<string, TrainingTensor> _gradients = new(StringComparer.Ordinal);
    readonly HashSet<string> _written = new(StringComparer.Ordinal);
    readonly HashSet<string> _requiresGradient = new(StringComparer.Ordinal);

    /// <summary>Creates the context; <paramref name="seed"/> seeds Dropout's masks.</summary>
    public TrainingContext(int seed) => Random = new Random(seed);

    /// <summary>True in training mode (batch statistics, dropout); false for evaluation and export semantics.</summary>
    public bool Training { get; set; } = true;

    /// <summary>Random numbers for stochastic ops (Dropout), from a fixed seed.</summary>
    public Random Random { get; }

    /// <summary>Registers a value that exists before the forward pass (parameter, constant, graph input).</summary>
    public void Define(string name, TrainingTensor value) => _values[name] = value;

    /// <summary>Registers the gradient buffer of a parameter (its values' gradient lives in the parameter).</summary>
    public void DefineGradient(string name, TrainingTensor gradient) => _gradients[name] = gradient;

    /// <summary>Marks <paramref name="name"/> as needing a gradient (parameters and everything computed from them).</summary>
    public void RequireGradient(string name) => _requiresGradient.Add(name);

    /// <summary>The value called <paramref name="name"/>.</summary>
    public TrainingTensor Value(string name) =>
        _values.TryGetValue(name, out var t) ? t : throw new InvalidOperationException($"value '{name}' has not been computed");

    /// <summary>True when the value exists (an optional input that is present).</summary>
    public bool HasValue(string name) => name.Length > 0 && _values.ContainsKey(name);

    /// <summary>The tensor an op writes its output <paramref name="name"/> into, resized to <paramref name="shape"/>.</summary>
    public TrainingTensor Output(string name, int[] shape)
    {
        if (!_values.TryGetValue(name, out var t)) _values[name] = t = new TrainingTensor();
        return t.Resize(shape);
    }

    /// <summary>True when the loss gradient of <paramref name="name"/> is needed (so backward should compute it).</summary>
    public bool RequiresGradient(string name) => name.Length > 0 && _requiresGradient.Contains(name);

    /// <summary>Starts a backward pass: every gradient counts as not yet written.</summary>
    public void BeginBackward() => _written.Clear();

    /// <summary>The loss gradient of <paramref name="name"/>, or null when no op downstream contributed to it.</summary>
    public TrainingTensor? Gradient(string name) => _written.Contains(name) ? _gradients[name] : null;

    /// <summary>True when some op has written the gradient of <paramref name="name"/> in this pass.</summary>
    public bool HasGradient(string name) => _written.Contains(name);

    /// <summary>
    /// The buffer to put a contribution to the gradient of <paramref name="name"/> into. When
    /// <paramref name="accumulate"/> is false the buffer is fresh and must be overwritten entirely; otherwise the
    /// contribution is added to what is there.
    /// </summary>
    public Span<float> GradientTarget(string name, out bool accumulate)
    {
        var shape = Value(name).Shape;
        if (!_gradients.TryGetValue(name, out var g)) _gradients[name] = g = new TrainingTensor();
        accumulate = !_written.Add(name);
        if (!accumulate) g.Resize(shape);
        return g.Span;
    }

    /// <summary>The gradient buffer of <paramref name="name"/>, zeroed when this is the first contribution: the op adds into it.</summary>
    public Span<float> AccumulatingGradient(string name)
    {
        var target = GradientTarget(name, out bool accumulate);
        if (!accumulate) target.Clear();
        return target;
    }

    /// <summary>Writes <paramref name="contribution"/> into the gradient of <paramref name="name"/> (overwrite or add).</summary>
    public void AddGradient(string name, ReadOnlySpan<float> contribution)
    {
        var target = GradientTarget(name, out bool accumulate);
        if (accumulate) AotInfer.Kernels.Convolution.VectorMath.Add(target, contribution);
        else contribution.CopyTo(target);
    }
}
