using System.Linq;
using AotInfer.Compiler.Emit;

namespace AotInfer.Compiler.Ops.Resize;

/// <summary>
/// ONNX Upsample (opset 7 with a scales attribute, opset 9 with a constant scales input): nearest or linear with
/// asymmetric coordinates, the same sampling as Resize-10.
/// </summary>
public sealed class UpsampleLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Upsample" };

    /// <inheritdoc/>
    public override void Infer(OpContext op) => op.SetOutput(0, op.Type(0), Plan(op).OutputShape);

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) => Plan(op).Emit(op, code);

    static ResizePlan Plan(OpContext op)
    {
        if (op.Opset < 7) throw op.Fail("Upsample before opset 7 (height_scale/width_scale attributes) is not supported");
        var shape = op.Shape(0);
        double[] scales = op.Opset < 9
            ? (op.Attributes.Floats("scales") ?? throw op.Fail("required attribute 'scales' is missing")).Select(s => (double)s).ToArray()
            : op.ConstantInput(1, "scales").ToDouble();
        if (scales.Length != shape.Length) throw op.Fail($"'scales' has {scales.Length} values but the input has rank {shape.Length}");
        if (scales.Any(s => !(s >= 1))) throw op.Fail("'scales' must be at least 1 (Upsample only enlarges)");
        string mode = op.Attributes.String("mode", "nearest");
        var interpolation = mode switch
        {
            "nearest" => InterpolationMode.Nearest,
            "linear" or "bilinear" => InterpolationMode.Linear,
            _ => throw op.Fail($"mode '{mode}' is not supported"),
        };
        var geometry = shape.Select((n, d) => new AxisGeometry(n, (int)(scales[d] * n), scales[d], scales[d] * n, 0, 1)).ToArray();
        var settings = new SamplingSettings(interpolation, CoordinateMode.Asymmetric, NearestRounding.Legacy, -0.75, false, false);
        return ResizePlan.Create(op, shape, geometry, settings, 0);
    }
}
