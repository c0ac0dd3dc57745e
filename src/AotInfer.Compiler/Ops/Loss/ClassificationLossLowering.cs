using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Loss;

/// <summary>
/// NegativeLogLikelihoodLoss (opset 12/13/22) and SoftmaxCrossEntropyLoss (opset 12/13/22): input [N, C, d1…],
/// target [N, d1…] of int32/int64, optional weight [C]; attributes reduction (none|sum|mean) and ignore_index.
/// SoftmaxCrossEntropyLoss also has the optional log_prob output.
/// </summary>
public sealed class ClassificationLossLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss" };

    /// <summary>The loss lowerings.</summary>
    public static IEnumerable<OpLowering> All() { yield return new ClassificationLossLowering(); }

    static string Reduction(OpContext op)
    {
        string reduction = op.Attributes.String("reduction", "mean");
        if (reduction is not ("none" or "sum" or "mean")) throw op.Fail($"reduction '{reduction}' must be none, sum or mean");
        return reduction;
    }

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var x = op.Input(0);
        var target = op.Input(1);
        if (!DataTypes.IsFloat(x.Type) || x.Type == DataType.Float16) throw op.Fail($"input element type {x.Type} is not supported (float and double are)");
        if (target.Type is not (DataType.Int32 or DataType.Int64)) throw op.Fail($"target must be int32 or int64, got {target.Type}");
        int[] xs = x.Shape!, ts = target.Shape!;
        if (xs.Length < 2) throw op.Fail($"input must have rank ≥ 2, got [{string.Join(",", xs)}]");
        if (ts.Length != xs.Length - 1 || ts[0] != xs[0] || !ts.Skip(1).SequenceEqual(xs.Skip(2)))
            throw op.Fail($"target shape [{string.Join(",", ts)}] must be input shape [{string.Join(",", xs)}] without the class dimension");
        if (op.HasInput(2) && (op.Shape(2).Length != 1 || op.Shape(2)[0] != xs[1] || op.Type(2) != x.Type))
            throw op.Fail($"weight must be a {x.Type} vector of {xs[1]} class weights");
        op.SetOutput(0, x.Type, Reduction(op) == "none" ? ts : new int[0]);
        if (op.OutputCount > 1)
        {
            if (op.Node.OpType != "SoftmaxCrossEntropyLoss") throw op.Fail("has one output only");
            op.SetOutput(1, x.Type, xs);
        }
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int[] xs = op.Shape(0);
        int n = xs[0], c = xs[1], d = xs.Skip(2).Aggregate(1, (a, b) => a * b);
        string t = code.InType(0);
        string logProb = code.In(0);
        if (op.Node.OpType == "SoftmaxCrossEntropyLoss")
        {
            logProb = op.OutputCount > 1 ? code.Out(1) : code.Scratch(op.Type(0), n * c * d);
            code.Writer.Line($"var logProb = {logProb};");
            code.Writer.Line($"{EmitContext.Kernels}.Loss.ClassificationLoss.LogSoftmaxOverClasses<{t}>({code.In(0)}, logProb, {n}, {c}, {d});");
            logProb = "logProb";
        }
        string reduction = Reduction(op) switch { "none" => "None", "sum" => "Sum", _ => "Mean" };
        bool hasIgnore = op.Attributes.Has("ignore_index");
        long ignore = op.Attributes.Int("ignore_index", 0);
        string weight = op.HasInput(2) ? code.In(2) : $"global::System.ReadOnlySpan<{t}>.Empty";
        code.Writer.Line($"{EmitContext.Kernels}.Loss.ClassificationLoss.NegativeLogLikelihood<{t}, {code.InType(1)}>({logProb}, {code.In(1)}, {weight}, {code.Out(0)}, " +
                         $"{n}, {c}, {d}, {EmitContext.Kernels}.Loss.LossReduction.{reduction}, {(hasIgnore ? "true" : "false")}, {Literals.Long(ignore)});");
    }
}
