using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Indexing;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>
/// Clip: bounds from the <c>min</c>/<c>max</c> attributes before opset 11 (floats only), from optional
/// one-element inputs read at run time from opset 11, integer types from opset 12. When min &gt; max every
/// element becomes max, as the spec says.
/// </summary>
public sealed class ClipLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Clip" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (!DataTypes.IsFloat(type) && !DataTypes.IsInteger(type)) throw op.Fail($"element type {type} is not supported");
        if (op.Opset < 11)
        {
            if (!DataTypes.IsFloat(type)) throw op.Fail($"opset {op.Opset} Clip takes float types only, got {type}");
        }
        else
        {
            for (int i = 1; i <= 2; i++)
            {
                if (!op.HasInput(i)) continue;
                string name = i == 1 ? "min" : "max";
                if (op.Type(i) != type) throw op.Fail($"{name} has type {op.Type(i)} but input has {type}");
                if (op.Input(i).ElementCount != 1) throw op.Fail($"{name} must hold exactly one element");
            }
        }
        op.SetOutput(0, type, op.Shape(0));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (!ConstantEvaluation.CanEvaluate(x.Type) || x.Type == DataType.UInt64) return null;
        double? lower, upper;
        if (op.Opset < 11) (lower, upper) = (op.Attributes.Float("min", float.NegativeInfinity), op.Attributes.Float("max", float.PositiveInfinity));
        else
        {
            lower = op.HasInput(1) ? op.Input(1).Constant!.ToDouble()[0] : null;
            upper = op.HasInput(2) ? op.Input(2).Constant!.ToDouble()[0] : null;
        }
        var values = x.ToDouble().Select(v =>
        {
            if (lower is { } lo && v < lo) v = lo;
            if (upper is { } hi && v > hi) v = hi;
            return v;
        }).ToArray();
        return new[] { ConstantEvaluation.FromDoubles(x.Type, x.Shape, values) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var type = op.Type(0);
        string t = code.InType(0);
        string lower, upper;
        if (op.Opset < 11)
        {
            // The attribute defaults are the float limits, which clip nothing for the float types of these opsets.
            lower = $"stackalloc {t}[] {{ {EmitContext.Literal(type, op.Attributes.Float("min", float.NegativeInfinity))} }}";
            upper = $"stackalloc {t}[] {{ {EmitContext.Literal(type, op.Attributes.Float("max", float.PositiveInfinity))} }}";
        }
        else
        {
            lower = TensorSelection.OptionalSpan(op, code, 1, type);
            upper = TensorSelection.OptionalSpan(op, code, 2, type);
        }
        code.Writer.Line($"{EmitContext.Kernels}.Misc.Clip.Run<{t}>({code.In(0)}, {lower}, {upper}, {code.Out(0)});");
    }
}
