using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Sampling;

/// <summary>
/// GridSample (opset 16: modes bilinear/nearest/bicubic on 4-D input; opset 20: linear/nearest/cubic on any rank),
/// padding_mode zeros/border/reflection, align_corners. Float only.
/// </summary>
public sealed class GridSampleLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "GridSample" };

    /// <summary>The spatial sampling lowerings: GridSample, AffineGrid, CenterCropPad.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new GridSampleLowering();
        yield return new AffineGridLowering();
        yield return new CenterCropPadLowering();
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var x = op.Input(0);
        var grid = op.Input(1);
        if (x.Type != DataType.Float || grid.Type != DataType.Float) throw op.Fail($"only float input and grid are supported, got {x.Type} and {grid.Type}");
        int k = x.Shape!.Length - 2;
        if (k < 1 || k > 6) throw op.Fail($"input rank {x.Shape.Length} is not supported (3 to 8)");
        if (grid.Shape!.Length != k + 2 || grid.Shape[0] != x.Shape[0] || grid.Shape[k + 1] != k)
            throw op.Fail($"grid shape [{string.Join(",", grid.Shape)}] must be [N, spatial…, {k}] for input [{string.Join(",", x.Shape)}]");
        Mode(op);
        Padding(op);
        op.SetOutput(0, x.Type, new[] { x.Shape[0], x.Shape[1] }.Concat(grid.Shape.Skip(1).Take(k)).ToArray());
    }

    static string Mode(OpContext op) => op.Attributes.String("mode", op.Opset >= 20 ? "linear" : "bilinear") switch
    {
        "nearest" => "Nearest",
        "linear" or "bilinear" => "Linear",
        "cubic" or "bicubic" => "Cubic",
        var m => throw op.Fail($"mode '{m}' is not one of nearest, linear, cubic"),
    };

    static string Padding(OpContext op) => op.Attributes.String("padding_mode", "zeros") switch
    {
        "zeros" => "Zeros",
        "border" => "Border",
        "reflection" => "Reflection",
        var p => throw op.Fail($"padding_mode '{p}' is not one of zeros, border, reflection"),
    };

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string ns = EmitContext.Kernels + ".Sampling";
        bool align = op.Attributes.Int("align_corners", 0) != 0;
        code.Writer.Line($"{ns}.GridSampler.Sample({code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)}, " +
                         $"{ns}.GridSampleMode.{Mode(op)}, {ns}.GridSamplePadding.{Padding(op)}, {(align ? "true" : "false")});");
    }
}
