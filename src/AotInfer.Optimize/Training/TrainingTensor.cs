using System;
using AotInfer.Onnx;

namespace AotInfer.Optimize.Training;

/// <summary>
/// A float tensor of the training graph: a shape and a buffer that is reused from batch to batch (it only grows),
/// so a training step allocates nothing once the first batch has run.
/// </summary>
public sealed class TrainingTensor
{
    float[] _data;

    /// <summary>A tensor of <paramref name="shape"/> over <paramref name="data"/> (which it then owns).</summary>
    public TrainingTensor(int[] shape, float[] data)
    {
        if (data.Length < ShapeMath.ElementCount(shape)) throw new ArgumentException($"{data.Length} values cannot hold shape [{string.Join(",", shape)}]");
        Shape = shape;
        _data = data;
        Length = ShapeMath.ElementCount(shape);
    }

    /// <summary>An empty tensor that gets its shape from <see cref="Resize"/>.</summary>
    public TrainingTensor() : this(new[] { 0 }, System.Array.Empty<float>()) { }

    /// <summary>The current shape.</summary>
    public int[] Shape { get; private set; }

    /// <summary>Number of elements of the current shape.</summary>
    public int Length { get; private set; }

    /// <summary>The elements (row-major).</summary>
    public Span<float> Span => _data.AsSpan(0, Length);

    /// <summary>The backing array (at least <see cref="Length"/> long), for APIs that take arrays.</summary>
    public float[] Array => _data;

    /// <summary>Gives the tensor <paramref name="shape"/>, growing the buffer when needed; the contents are undefined.</summary>
    public TrainingTensor Resize(int[] shape)
    {
        int length = ShapeMath.ElementCount(shape);
        if (_data.Length < length) _data = new float[length];
        Shape = shape;
        Length = length;
        return this;
    }

    /// <summary>Dimension <paramref name="axis"/> (negative counts from the end).</summary>
    public int Dim(int axis) => Shape[axis < 0 ? axis + Shape.Length : axis];

    /// <summary>The shape as text, for error messages.</summary>
    public string ShapeText => "[" + string.Join(",", Shape) + "]";
}
