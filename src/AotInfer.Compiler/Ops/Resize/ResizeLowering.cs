using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Resize;

/// <summary>
/// ONNX Resize (opsets 10 to 19): nearest, linear and cubic sampling with every coordinate transformation,
/// scales or sizes, roi, axes, antialias and keep_aspect_ratio_policy. Scales, sizes and roi must be constants;
/// the per-axis sampling tables are computed here and baked into the generated code.
/// </summary>
public sealed class ResizeLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Resize" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var plan = Plan(op);
        op.SetOutput(0, op.Type(0), plan.OutputShape);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) => Plan(op).Emit(op, code);

    static ResizePlan Plan(OpContext op)
    {
        var shape = op.Shape(0);
        int rank = shape.Length;
        var a = op.Attributes;
        var settings = Settings(op);

        int[] axes = Enumerable.Range(0, rank).ToArray();
        if (a.Ints("axes") is { } axesAttribute)
        {
            if (op.Opset < 18) throw op.Fail("attribute 'axes' needs opset 18");
            axes = axesAttribute.Select(x => op.Axis(x, rank, "axes")).ToArray();
            if (axes.Distinct().Count() != axes.Length) throw op.Fail("attribute 'axes' repeats an axis");
        }

        double[]? scales;
        long[]? sizes = null;
        double[]? roi = null;
        if (op.Opset < 11)
        {
            scales = op.ConstantInput(1, "scales").ToDouble();
        }
        else
        {
            roi = NonEmpty(op.OptionalConstantInput(1, "roi"))?.ToDouble();
            scales = NonEmpty(op.OptionalConstantInput(2, "scales"))?.ToDouble();
            var sizesTensor = NonEmpty(op.InputCount > 3 ? op.OptionalConstantInput(3, "sizes") : null);
            if (sizesTensor is not null)
            {
                if (sizesTensor.Type != DataType.Int64) throw op.Fail($"input 3 (sizes) must be int64, got {sizesTensor.Type}");
                sizes = sizesTensor.ToInt64();
            }
        }
        if (scales is not null && sizes is not null) throw op.Fail("only one of inputs 'scales' and 'sizes' may be given");
        if (scales is null && sizes is null) throw op.Fail("one of inputs 'scales' and 'sizes' must be given");
        int given = (scales?.Length ?? sizes!.Length);
        if (given != axes.Length)
            throw op.Fail($"input '{(scales is null ? "sizes" : "scales")}' has {given} values but {axes.Length} axes are resized");
        if (scales is not null && scales.Any(s => !(s > 0))) throw op.Fail("input 'scales' must hold positive values");
        if (sizes is not null && sizes.Any(s => s < 0 || s > int.MaxValue)) throw op.Fail("input 'sizes' must hold non-negative sizes");

        var scale = Enumerable.Repeat(1.0, rank).ToArray();
        var outSize = (int[])shape.Clone();
        if (scales is not null)
        {
            for (int i = 0; i < axes.Length; i++)
            {
                int d = axes[i];
                scale[d] = scales[i];
                outSize[d] = (int)(scales[i] * shape[d]);
            }
        }
        else
        {
            for (int i = 0; i < axes.Length; i++) scale[axes[i]] = (double)sizes![i] / shape[axes[i]];
            string policy = a.String("keep_aspect_ratio_policy", "stretch");
            if (policy != "stretch" && op.Opset < 18) throw op.Fail("attribute 'keep_aspect_ratio_policy' needs opset 18");
            if (policy == "stretch")
            {
                for (int i = 0; i < axes.Length; i++) outSize[axes[i]] = (int)sizes![i];
            }
            else
            {
                // One scale for all resized axes, so the aspect ratio stays; sizes become a bound.
                double common = policy switch
                {
                    "not_larger" => axes.Min(d => scale[d]),
                    "not_smaller" => axes.Max(d => scale[d]),
                    _ => throw op.Fail($"keep_aspect_ratio_policy '{policy}' is not supported"),
                };
                foreach (int d in axes)
                {
                    scale[d] = common;
                    outSize[d] = (int)(common * shape[d] + 0.5);
                }
            }
        }

        var roiStart = new double[rank];
        var roiEnd = Enumerable.Repeat(1.0, rank).ToArray();
        if (settings.Coordinates == CoordinateMode.TfCropAndResize)
        {
            if (roi is null) throw op.Fail("coordinate_transformation_mode 'tf_crop_and_resize' needs input 1 (roi)");
            if (roi.Length != 2 * axes.Length) throw op.Fail($"input 'roi' has {roi.Length} values, expected {2 * axes.Length}");
            for (int i = 0; i < axes.Length; i++)
            {
                roiStart[axes[i]] = roi[i];
                roiEnd[axes[i]] = roi[axes.Length + i];
            }
        }

        var geometry = new AxisGeometry[rank];
        for (int d = 0; d < rank; d++)
            geometry[d] = new AxisGeometry(shape[d], outSize[d], scale[d], scale[d] * shape[d], roiStart[d], roiEnd[d]);
        return ResizePlan.Create(op, shape, geometry, settings, a.Float("extrapolation_value", 0f));
    }

    static Tensor? NonEmpty(Tensor? t) => t is null || t.Length == 0 ? null : t;

    static SamplingSettings Settings(OpContext op)
    {
        var a = op.Attributes;
        string mode = a.String("mode", "nearest");
        var interpolation = mode switch
        {
            "nearest" => InterpolationMode.Nearest,
            "linear" => InterpolationMode.Linear,
            "cubic" when op.Opset >= 11 => InterpolationMode.Cubic,
            _ => throw op.Fail($"mode '{mode}' is not supported"),
        };
        if (op.Opset < 11)
            return new SamplingSettings(interpolation, CoordinateMode.Asymmetric, NearestRounding.Legacy, -0.75, false, false);

        string transformation = a.String("coordinate_transformation_mode", "half_pixel");
        var coordinates = transformation switch
        {
            "half_pixel" => CoordinateMode.HalfPixel,
            "half_pixel_symmetric" when op.Opset >= 19 => CoordinateMode.HalfPixelSymmetric,
            "pytorch_half_pixel" => CoordinateMode.PytorchHalfPixel,
            "align_corners" => CoordinateMode.AlignCorners,
            "asymmetric" => CoordinateMode.Asymmetric,
            "tf_half_pixel_for_nn" when op.Opset < 13 => CoordinateMode.TfHalfPixelForNearest,
            "tf_crop_and_resize" => CoordinateMode.TfCropAndResize,
            _ => throw op.Fail($"coordinate_transformation_mode '{transformation}' is not supported at opset {op.Opset}"),
        };
        string nearest = a.String("nearest_mode", "round_prefer_floor");
        var rounding = nearest switch
        {
            "round_prefer_floor" => NearestRounding.RoundPreferFloor,
            "round_prefer_ceil" => NearestRounding.RoundPreferCeil,
            "floor" => NearestRounding.Floor,
            "ceil" => NearestRounding.Ceil,
            _ => throw op.Fail($"nearest_mode '{nearest}' is not supported"),
        };
        long antialias = a.Int("antialias", 0);
        if (antialias != 0 && op.Opset < 18) throw op.Fail("attribute 'antialias' needs opset 18");
        return new SamplingSettings(interpolation, coordinates, rounding, a.Float("cubic_coeff_a", -0.75f),
            a.Int("exclude_outside", 0) != 0, antialias != 0);
    }
}
