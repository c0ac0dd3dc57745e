using System;

namespace AotInfer.Optimize.Training;

/// <summary>What a trainable parameter is for: optimisers treat them alike, regularisation and pruning only touch weights.</summary>
public enum ParameterRole
{
    /// <summary>The weight of a Gemm, MatMul or Conv (regularised, prunable).</summary>
    Weight,
    /// <summary>A bias (of Gemm, Conv, or an Add after MatMul/Conv).</summary>
    Bias,
    /// <summary>A BatchNormalization scale (γ) or shift (β).</summary>
    Normalization,
}

/// <summary>
/// A trainable float initializer of the model: its values, the gradient of the current batch and, after pruning, a
/// mask of the weights that must stay zero.
/// </summary>
public sealed class Parameter
{
    /// <summary>Wraps the initializer <paramref name="name"/>.</summary>
    public Parameter(string name, int[] shape, float[] values, ParameterRole role)
    {
        Name = name;
        Shape = shape;
        Values = new TrainingTensor(shape, values);
        Gradient = new TrainingTensor(shape, new float[values.Length]);
        Role = role;
    }

    /// <summary>The initializer's name.</summary>
    public string Name { get; }

    /// <summary>The initializer's shape.</summary>
    public int[] Shape { get; }

    /// <summary>The current values.</summary>
    public TrainingTensor Values { get; }

    /// <summary>The loss gradient of the last backward pass.</summary>
    public TrainingTensor Gradient { get; }

    /// <summary>What the parameter is for.</summary>
    public ParameterRole Role { get; }

    /// <summary>1 for weights that train, 0 for pruned weights that must stay zero; null when nothing is pruned.</summary>
    public float[]? Mask { get; set; }

    /// <summary>When true the optimiser leaves the parameter alone (transfer learning freezes layers).</summary>
    public bool Frozen { get; set; }

    /// <summary>Number of values.</summary>
    public int Count => Values.Length;

    /// <summary>Zeroes the masked-out values (and their gradient), so pruned weights stay exactly zero.</summary>
    public void ApplyMask()
    {
        if (Mask is null) return;
        Span<float> values = Values.Span, gradient = Gradient.Span;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] *= Mask[i];
            gradient[i] *= Mask[i];
        }
    }

    /// <summary>Sets <see cref="Mask"/> from the current values: zero weights are pruned.</summary>
    public void MaskZeros()
    {
        var mask = new float[Count];
        Span<float> values = Values.Span;
        for (int i = 0; i < mask.Length; i++) mask[i] = values[i] == 0 ? 0f : 1f;
        Mask = mask;
    }
}
