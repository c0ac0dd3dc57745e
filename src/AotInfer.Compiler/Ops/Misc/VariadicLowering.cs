using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Misc;

/// <summary>
/// The n-ary Sum, Mean, Max and Min (1..N inputs, broadcasting from opset 8; integer types for Max/Min from opset
/// 12). The output starts as the first input broadcast and folds in the others in place. Sum, Max and Min fold at
/// compile time when every input is constant (Max/Min appear in shape computations).
/// </summary>
public sealed class VariadicLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Sum", "Mean", "Max", "Min" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.InputCount == 0) throw op.Fail("needs at least one input");
        var type = op.Type(0);
        bool floatOnly = op.Node.OpType is "Mean";
        if (!DataTypes.IsFloat(type) && (floatOnly || !DataTypes.IsInteger(type))) throw op.Fail($"element type {type} is not supported");
        var shapes = new int[op.InputCount][];
        for (int i = 0; i < op.InputCount; i++)
        {
            if (op.Type(i) != type) throw op.Fail($"input {i} has type {op.Type(i)} but input 0 has {type}");
            shapes[i] = op.Shape(i);
        }
        op.SetOutput(0, type, ShapeRules.Broadcast(shapes));
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var first = op.Input(0).Constant!;
        if (op.Node.OpType == "Mean" || !ConstantEvaluation.CanEvaluate(first.Type) || first.Type == DataType.UInt64) return null;
        Func<double, double, double> onFloat = op.Node.OpType switch
        {
            "Sum" => (a, b) => a + b,
            "Max" => (a, b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b),
            _ => (a, b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b),
        };
        Func<long, long, long> onInteger = op.Node.OpType switch
        {
            "Sum" => (a, b) => unchecked(a + b),
            "Max" => Math.Max,
            _ => Math.Min,
        };
        var shape = op.Output(0)!.Shape!;
        // Broadcasting the first input against itself expands it to the output shape.
        var result = ConstantEvaluation.Binary(first, first, ShapeRules.Broadcast(first.Shape, shape), first.Type, (a, _) => a, (a, _) => a);
        for (int i = 1; i < op.InputCount; i++)
        {
            var next = op.Input(i).Constant!;
            result = ConstantEvaluation.Binary(result, next, ShapeRules.Broadcast(result.Shape, next.Shape), first.Type, onFloat, onInteger);
        }
        return new[] { result };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string t = code.InType(0);
        var shape = op.Output(0)!.Shape!;
        string y = code.Out(0), yShape = code.IntArray(shape);
        string combine = op.Node.OpType switch { "Max" => "MaxOperator", "Min" => "MinOperator", _ => "AddOperator" };
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Expand<{t}>({code.In(0)}, {code.IntArray(op.Shape(0))}, {y}, {yShape});");
        for (int i = 1; i < op.InputCount; i++)
            code.Writer.Line($"{EmitContext.Kernels}.Misc.Variadic.Accumulate<{t}, {EmitContext.Kernels}.Elementwise.{combine}<{t}>>({code.In(i)}, {code.IntArray(op.Shape(i))}, {y}, {yShape});");
        if (op.Node.OpType == "Mean" && op.InputCount > 1)
            code.Writer.Line($"{EmitContext.Kernels}.Misc.Variadic.DivideInPlace<{t}>({y}, {Literals.Int(op.InputCount)});");
    }
}
