using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// Pad (opsets 1–25). Pads are the <c>paddings</c> (opset 1) or <c>pads</c> (opsets 2–10) attribute, or a constant
/// input from opset 11, optionally restricted to the constant <c>axes</c> input (opset 18). The constant value is
/// the <c>value</c> attribute before opset 11 and the optional <c>constant_value</c> input after (read at run
/// time). Modes constant, reflect, edge and wrap; negative pads crop, and the border modes then work on the
/// cropped input as ONNX Runtime does.
/// </summary>
public sealed class PadLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Pad" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var shape = op.Shape(0);
        var pads = Pads(op, shape.Length);
        Mode(op);
        var output = new int[shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            long size = shape[d] + pads[d] + pads[d + shape.Length];
            if (size < 0) throw op.Fail($"pads [{pads[d]}, {pads[d + shape.Length]}] crop more than dimension {d} of size {shape[d]}");
            long kept = shape[d] - System.Math.Max(0, -pads[d]) - System.Math.Max(0, -pads[d + shape.Length]);
            if (Mode(op) != "constant" && kept <= 0 && size > 0)
                throw op.Fail($"mode '{Mode(op)}' cannot pad dimension {d}: no input elements remain to copy from");
            output[d] = (int)size;
        }
        if (op.Opset >= 11 && op.HasInput(2))
        {
            if (op.Type(2) != op.Type(0)) throw op.Fail($"constant_value has type {op.Type(2)} but data has {op.Type(0)}");
            if (op.Input(2).ElementCount != 1) throw op.Fail("constant_value must hold exactly one element");
        }
        op.SetOutput(0, op.Type(0), output);
    }

    /// <summary>The begin amounts of every dimension followed by the end amounts.</summary>
    static int[] Pads(OpContext op, int rank)
    {
        long[] given;
        if (op.Opset < 11)
            given = op.Attributes.Ints(op.Opset < 2 ? "paddings" : "pads") ?? throw op.Fail($"attribute '{(op.Opset < 2 ? "paddings" : "pads")}' is required");
        else
            given = op.ConstantInput(1, "pads").ToInt64();
        int[] axes = Enumerable.Range(0, rank).ToArray();
        if (op.Opset >= 18 && op.HasInput(3))
            axes = op.ConstantInput(3, "axes").ToInt64().Select(a => op.Axis(a, rank, "axes entry")).ToArray();
        if (axes.Distinct().Count() != axes.Length) throw op.Fail("axes contains a repeated axis");
        if (given.Length != 2 * axes.Length) throw op.Fail($"pads has {given.Length} values but {2 * axes.Length} are needed for {axes.Length} axes");
        var pads = new int[2 * rank];
        for (int i = 0; i < axes.Length; i++)
        {
            long begin = given[i], end = given[i + axes.Length];
            if (System.Math.Abs(begin) > int.MaxValue || System.Math.Abs(end) > int.MaxValue) throw op.Fail("pads value is too large");
            pads[axes[i]] = (int)begin;
            pads[axes[i] + rank] = (int)end;
        }
        return pads;
    }

    static string Mode(OpContext op)
    {
        string mode = op.Attributes.String("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap")) throw op.Fail($"mode '{mode}' is not supported");
        return mode;
    }

    /// <summary>The constant value from the opset 1–10 attribute, converted to the element type.</summary>
    static double AttributeValue(OpContext op) => op.Attributes.Float("value", 0f);

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var data = op.Input(0).Constant!;
        int rank = data.Shape.Length;
        var pads = Pads(op, rank);
        string mode = Mode(op);
        object? fill;
        if (op.Opset >= 11) fill = op.HasInput(2) ? op.Input(2).Constant!.Data.GetValue(0) : null;
        else if (ConstantEvaluation.CanEvaluate(data.Type)) fill = ConstantEvaluation.Convert(data.Type, AttributeValue(op));
        else return null;
        var shape = op.Output(0)!.Shape!;
        int count = ShapeMath.ElementCount(shape);
        var source = new int[count];
        var coordinate = new int[rank];
        for (int i = 0; i < count; i++)
        {
            int rest = i, offset = 0, stride = 1;
            bool border = false;
            for (int d = rank - 1; d >= 0; d--)
            {
                int c = rest % shape[d];
                rest /= shape[d];
                int s = SourceCoordinate(c, data.Shape[d], pads[d], pads[d + rank], mode);
                if (s < 0) border = true;
                offset += s * stride;
                stride *= data.Shape[d];
            }
            source[i] = border ? -1 : offset;
        }
        return new[] { TensorSelection.Take(data, shape, source, fill) };
    }

    /// <summary>The input coordinate an output coordinate reads, or -1 for the constant value (mirrors the Pad kernel).</summary>
    static int SourceCoordinate(int o, int size, int begin, int end, string mode)
    {
        int cropBegin = begin < 0 ? -begin : 0;
        int length = size - cropBegin - (end < 0 ? -end : 0);
        int c = o - (begin > 0 ? begin : 0);
        if (c >= 0 && c < length) return cropBegin + c;
        if (length <= 0) return -1;
        switch (mode)
        {
            case "edge": c = c < 0 ? 0 : length - 1; break;
            case "wrap": c = ((c % length) + length) % length; break;
            case "reflect":
                if (length == 1) { c = 0; break; }
                int period = 2 * (length - 1);
                c = ((c % period) + period) % period;
                if (c >= length) c = period - c;
                break;
            default: return -1;
        }
        return cropBegin + c;
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var shape = op.Shape(0);
        string mode = Mode(op) switch { "reflect" => "Reflect", "edge" => "Edge", "wrap" => "Wrap", _ => "Constant" };
        string value = op.Opset >= 11
            ? (op.HasInput(2) ? $"{code.In(2)}[0]" : "default")
            : EmitContext.Literal(op.Type(0), AttributeValue(op));
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.Pad.Run<{code.InType(0)}>({code.In(0)}, {code.IntArray(shape)}, {code.Out(0)}, " +
                         $"{code.IntArray(op.Output(0)!.Shape!)}, {code.IntArray(Pads(op, shape.Length))}, {EmitContext.Kernels}.Indexing.PadMode.{mode}, {value});");
    }
}
