using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Resize;

/// <summary>
/// A resize decided at compile time: the sampling table of every axis that changes (identity axes are dropped).
/// Resize and Upsample both reduce to this, and one emitter turns it into kernel calls.
/// </summary>
public sealed class ResizePlan
{
    ResizePlan(int[] inputShape, int[] outputShape, AxisSampling?[] axes, SamplingSettings settings, double extrapolation)
    {
        InputShape = inputShape;
        OutputShape = outputShape;
        Axes = axes;
        Settings = settings;
        Extrapolation = extrapolation;
    }

    /// <summary>Shape of the data input.</summary>
    public int[] InputShape { get; }

    /// <summary>Shape of the output.</summary>
    public int[] OutputShape { get; }

    /// <summary>Sampling per axis; null where the axis is copied unchanged.</summary>
    public AxisSampling?[] Axes { get; }

    /// <summary>The attributes the tables were built from.</summary>
    public SamplingSettings Settings { get; }

    /// <summary>Value written where tf_crop_and_resize samples outside the region of interest.</summary>
    public double Extrapolation { get; }

    /// <summary>Builds the tables for every axis.</summary>
    public static ResizePlan Create(OpContext op, int[] inputShape, AxisGeometry[] geometry, SamplingSettings settings, double extrapolation)
    {
        if (settings.Mode == InterpolationMode.Nearest && settings.Antialias)
            throw op.Fail("antialias is not defined for mode 'nearest'");
        if (settings.Mode == InterpolationMode.Nearest && settings.ExcludeOutside)
            throw op.Fail("exclude_outside is not supported with mode 'nearest' (its weights are not interpolation weights)");
        var outputShape = geometry.Select(g => g.OutputSize).ToArray();
        for (int d = 0; d < outputShape.Length; d++)
            if (outputShape[d] <= 0 && inputShape[d] > 0)
                throw op.Fail($"axis {d} would resize {inputShape[d]} elements to {outputShape[d]}");
        var axes = new AxisSampling?[inputShape.Length];
        for (int d = 0; d < axes.Length; d++)
        {
            if (inputShape[d] == 0 || outputShape[d] == 0) continue;
            var sampling = AxisSampling.Build(geometry[d], settings);
            axes[d] = sampling.IsIdentity(inputShape[d]) ? null : sampling;
        }
        return new ResizePlan(inputShape, outputShape, axes, settings, extrapolation);
    }

    /// <summary>
    /// Writes the kernel calls. Nearest is one N-dimensional gather. Linear and cubic run one separable pass per
    /// changed axis, last axis first (the order the reference implementation nests them), through two scratch
    /// buffers.
    /// </summary>
    public void Emit(OpContext op, EmitContext code)
    {
        string k = EmitContext.Kernels + ".Resize.ResizeKernels";
        string t = code.InType(0);
        var type = op.Type(0);
        string extrapolation = EmitContext.Literal(type, Extrapolation);
        int count = ShapeMath.ElementCount(OutputShape);
        if (count == 0) return;
        var changed = Enumerable.Range(0, Axes.Length).Where(d => Axes[d] is not null).ToList();
        if (changed.Count == 0)
        {
            code.Writer.Line($"{code.In(0)}.CopyTo({code.Out(0)});");
            return;
        }

        if (Settings.Mode == InterpolationMode.Nearest)
        {
            // Per axis the source index of every output coordinate, concatenated axis by axis.
            var indices = new List<int>();
            for (int d = 0; d < Axes.Length; d++)
                indices.AddRange(Axes[d]?.Indices ?? Enumerable.Range(0, OutputShape[d]));
            code.Writer.Line($"{k}.Nearest<{t}>({code.In(0)}, {code.Out(0)}, {code.IntArray(InputShape)}, {code.IntArray(OutputShape)}, {code.IntArray(indices)}, {extrapolation});");
            return;
        }

        if (type is not (DataType.Float or DataType.Double or DataType.Float16))
            throw op.Fail($"mode '{Settings.Mode.ToString().ToLowerInvariant()}' needs a floating-point input, got {type}");
        changed.Reverse();
        var shape = (int[])InputShape.Clone();
        var intermediateSizes = new List<int>();
        foreach (int d in changed.Take(changed.Count - 1))
        {
            shape[d] = OutputShape[d];
            intermediateSizes.Add(ShapeMath.ElementCount(shape));
        }
        int largest = intermediateSizes.Count == 0 ? 0 : intermediateSizes.Max();
        string[] buffers = changed.Count > 2 ? new[] { code.Scratch(type, largest), code.Scratch(type, largest) }
            : changed.Count == 2 ? new[] { code.Scratch(type, largest) } : Array.Empty<string>();

        shape = (int[])InputShape.Clone();
        string source = code.In(0);
        for (int step = 0; step < changed.Count; step++)
        {
            int d = changed[step];
            var sampling = Axes[d]!;
            int outer = ShapeMath.ElementCount(shape.Take(d).ToArray());
            int inner = ShapeMath.ElementCount(shape.Skip(d + 1).ToArray());
            string target = step == changed.Count - 1 ? code.Out(0) : buffers[step % buffers.Length];
            code.Writer.Line($"// axis {d}: {shape[d]} -> {OutputShape[d]}, {sampling.Taps} taps");
            code.Writer.Line($"{k}.Interpolate<{t}>({source}, {target}, {outer}, {shape[d]}, {inner}, {sampling.Taps}, " +
                             $"{code.IntArray(sampling.Indices)}, {code.FloatArray(sampling.Weights.Select(w => (float)w))}, {extrapolation});");
            shape[d] = OutputShape[d];
            source = target;
        }
    }
}
