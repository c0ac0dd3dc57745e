using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// How QuantizeLinear / DequantizeLinear map each element of x to its scale and zero point: per tensor (scale of
/// one element), per axis (1-D scale along <c>axis</c>) or blocked (scale shaped like x with the axis divided into
/// blocks of <c>block_size</c>). <see cref="Packed"/> is the layout <c>LinearQuantization</c> kernels read.
/// </summary>
internal sealed class QuantizationGeometry
{
    QuantizationGeometry(int outer, int axisLength, int inner, int blockSize, int strideOuter, int strideAxis, int strideInner, string description)
    {
        Outer = outer; AxisLength = axisLength; Inner = inner; BlockSize = blockSize;
        StrideOuter = strideOuter; StrideAxis = strideAxis; StrideInner = strideInner; Description = description;
    }

    public int Outer { get; }
    public int AxisLength { get; }
    public int Inner { get; }
    public int BlockSize { get; }
    public int StrideOuter { get; }
    public int StrideAxis { get; }
    public int StrideInner { get; }

    /// <summary>For comments and the kernel annotation: per-tensor, per-axis 1, blocked axis 1 size 2.</summary>
    public string Description { get; }

    /// <summary>The 7-int layout of <c>LinearQuantization</c>.</summary>
    public int[] Packed() => new[] { Outer, AxisLength, Inner, BlockSize, StrideOuter, StrideAxis, StrideInner };

    /// <summary>The parameter index of element <paramref name="index"/> of x.</summary>
    public int ParameterIndex(int index)
    {
        int i = index % Inner, d = index / Inner % AxisLength, o = index / Inner / AxisLength;
        return o * StrideOuter + d / BlockSize * StrideAxis + i * StrideInner;
    }

    /// <summary>
    /// Validates the scale shape against x and the <c>axis</c> / <c>block_size</c> attributes of <paramref name="op"/>
    /// (input <paramref name="scaleIndex"/> is the scale; the zero point, when present, must have the same shape).
    /// </summary>
    public static QuantizationGeometry For(OpContext op, int[] x, int scaleIndex, int zeroPointIndex)
    {
        int[] scale = op.Shape(scaleIndex);
        // A scalar and a one-element 1-D tensor both mean per-tensor (exporters mix them).
        if (op.HasInput(zeroPointIndex) && !op.Shape(zeroPointIndex).SequenceEqual(scale)
            && !(ShapeMath.ElementCount(scale) == 1 && ShapeMath.ElementCount(op.Shape(zeroPointIndex)) == 1 && scale.Length <= 1 && op.Shape(zeroPointIndex).Length <= 1))
            throw op.Fail($"input zero point has shape {Literals.Shape(op.Shape(zeroPointIndex))} but the scale has shape {Literals.Shape(scale)}; they must match");
        int count = ShapeMath.ElementCount(x);
        long blockSize = op.Attributes.Int("block_size", 0);
        if (blockSize < 0) throw op.Fail($"attribute block_size {blockSize} must be non-negative");
        if (scale.Length == 0 || (scale.Length == 1 && scale[0] == 1 && blockSize == 0))
            return new QuantizationGeometry(1, 1, count, 1, 0, 0, 0, "per-tensor");
        if (x.Length == 0) throw op.Fail($"a scalar x needs a scalar scale, got shape {Literals.Shape(scale)}");
        int axis = op.Axis(op.Attributes.Int("axis", 1), x.Length);
        int outer = x.Take(axis).Aggregate(1, (a, b) => a * b), inner = x.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        if (blockSize == 0)
        {
            if (scale.Length != 1 || scale[0] != x[axis])
                throw op.Fail($"per-axis scale must be 1-D of length {x[axis]} (dimension {axis} of x {Literals.Shape(x)}), got {Literals.Shape(scale)}");
            return new QuantizationGeometry(outer, x[axis], inner, 1, 0, 1, 0, $"per-axis {axis}");
        }
        int blocks = (x[axis] + (int)blockSize - 1) / (int)blockSize;
        bool shapeMatches = scale.Length == x.Length && Enumerable.Range(0, x.Length).All(d => scale[d] == (d == axis ? blocks : x[d]));
        if (!shapeMatches)
            throw op.Fail($"blocked scale must have x's shape {Literals.Shape(x)} with dimension {axis} = ceil({x[axis]} / block_size {blockSize}) = {blocks}, got {Literals.Shape(scale)}");
        return new QuantizationGeometry(outer, x[axis], inner, (int)blockSize, blocks * inner, inner, 1, $"blocked axis {axis} size {blockSize}");
    }
}
