using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Elementwise;

/// <summary>What a binary element-wise op accepts and returns.</summary>
public enum BinaryKind
{
    /// <summary>Numbers in, same type out (Add, Sub, Mul, Div...).</summary>
    Arithmetic,
    /// <summary>Numbers in, bool out (Equal, Less...).</summary>
    Comparison,
    /// <summary>Bools in, bool out (And, Or, Xor).</summary>
    Logical,
}

/// <summary>
/// A broadcasting binary op: Add, Sub, Mul, Div, Pow, Mod, PRelu, comparisons and logical ops. Each maps to an
/// operator struct of <c>AotInfer.Kernels.Elementwise</c>, driven by the shared broadcasting loop.
/// </summary>
public sealed class BinaryLowering : OpLowering
{
    readonly string _opType;
    readonly string _operator;
    readonly BinaryKind _kind;
    readonly Func<double, double, double>? _floatEval;
    readonly Func<long, long, long>? _intEval;

    /// <summary>Creates the lowering of one op.</summary>
    public BinaryLowering(string opType, string operatorStruct, BinaryKind kind, Func<double, double, double>? floatEval = null, Func<long, long, long>? intEval = null)
    {
        _opType = opType;
        _operator = operatorStruct;
        _kind = kind;
        _floatEval = floatEval;
        _intEval = intEval;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var a = op.Input(0);
        var b = op.Input(1);
        if (a.Type != b.Type && _opType != "Pow")
            throw op.Fail($"inputs have different element types {a.Type} and {b.Type}");
        if (_kind == BinaryKind.Logical && a.Type != DataType.Bool) throw op.Fail($"expects bool inputs, got {a.Type}");
        if (_kind != BinaryKind.Logical && a.Type == DataType.Bool && _opType != "Equal") throw op.Fail($"does not take bool inputs");
        if (_opType == "Pow" && (b.Type == DataType.Bool || !DataTypes.IsFloat(b.Type) && !DataTypes.IsInteger(b.Type)))
            throw op.Fail($"exponent element type {b.Type} is not supported");
        if (_opType == "PRelu" && op.Opset < 7) throw op.Fail("opset < 7 PRelu is not supported");
        if (op.Attributes.Has("broadcast") && op.Attributes.Int("broadcast", 0) != 0 && op.Attributes.Has("axis"))
            throw op.Fail("legacy broadcast with an axis attribute (opset < 7) is not supported");
        int[] shape = _opType == "PRelu" ? PReluShape(op, a.Shape!, b.Shape!) : ShapeRules.Broadcast(a.Shape!, b.Shape!);
        op.SetOutput(0, _kind == BinaryKind.Arithmetic ? a.Type : DataType.Bool, shape);
    }

    static int[] PReluShape(OpContext op, int[] x, int[] slope)
    {
        var shape = ShapeRules.Broadcast(x, slope);
        if (shape.Length != x.Length || !System.Linq.Enumerable.SequenceEqual(shape, x))
            throw op.Fail($"slope shape [{string.Join(",", slope)}] does not broadcast to input shape [{string.Join(",", x)}]");
        return shape;
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var a = op.Input(0).Constant!;
        var b = op.Input(1).Constant!;
        if (_floatEval is null || _intEval is null || !ConstantEvaluation.CanEvaluate(a.Type) || a.Type != b.Type) return null;
        var output = op.Output(0)!;
        return new[] { ConstantEvaluation.Binary(a, b, output.Shape!, output.Type, _floatEval, _intEval) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string tIn = code.InType(0);
        string tOut = code.OutType(0);
        string opStruct = _kind == BinaryKind.Logical ? _operator : $"{_operator}<{tIn}>";
        if (_opType == "Pow")
        {
            EmitPow(op, code);
            return;
        }
        if (VectorOperator(op) is { } vectorStruct)
        {
            code.Writer.Line($"{EmitContext.Kernels}.Elementwise.VectorBroadcast.Binary<{tIn}, {EmitContext.Kernels}.Elementwise.{vectorStruct}<{tIn}>>(" +
                             $"{code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, {code.IntArray(op.Shape(1))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)});");
            return;
        }
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Binary<{tIn}, {tOut}, {EmitContext.Kernels}.Elementwise.{opStruct}>(" +
                         $"{code.In(0)}, {code.IntArray(op.Shape(0))}, {code.In(1)}, {code.IntArray(op.Shape(1))}, {code.Out(0)}, {code.IntArray(op.Output(0)!.Shape!)});");
    }

    /// <summary>
    /// The SIMD operator struct for float and double Add/Sub/Mul/Div (the residual Adds and scalings a model keeps
    /// outside its convolutions), or null where the scalar broadcasting loop is used.
    /// </summary>
    string? VectorOperator(OpContext op)
    {
        if (op.Input(0).Type is not (DataType.Float or DataType.Double)) return null;
        return _opType switch
        {
            "Add" => "AddVectors",
            "Sub" => "SubtractVectors",
            "Mul" => "MultiplyVectors",
            "Div" => "DivideVectors",
            _ => null,
        };
    }

    /// <summary>
    /// Pow's output has the base's type; from opset 12 the exponent may have another. Float bases convert the
    /// exponent to the base type. Integer bases with integer exponents multiply exactly (wrapping); with float
    /// exponents they compute in double and truncate back, as ONNX Runtime's std::pow and cast do.
    /// </summary>
    static void EmitPow(OpContext op, EmitContext code)
    {
        string k = EmitContext.Kernels + ".Elementwise";
        DataType baseType = op.Type(0), exponentType = op.Type(1);
        string tBase = code.InType(0), tExponent = code.InType(1);
        string aShape = code.IntArray(op.Shape(0)), bShape = code.IntArray(op.Shape(1)), yShape = code.IntArray(op.Output(0)!.Shape!);
        if (DataTypes.IsInteger(baseType) && DataTypes.IsFloat(exponentType))
        {
            code.Writer.Line($"var bases = {code.Scratch(DataType.Double, op.Input(0).ElementCount)};");
            code.Writer.Line($"var exponents = {code.Scratch(DataType.Double, op.Input(1).ElementCount)};");
            code.Writer.Line($"var powers = {code.Scratch(DataType.Double, op.Output(0)!.ElementCount)};");
            code.Writer.Line($"{k}.Conversion.Convert<{tBase}, double>({code.In(0)}, bases);");
            code.Writer.Line($"{k}.Conversion.Convert<{tExponent}, double>({code.In(1)}, exponents);");
            code.Writer.Line($"{k}.Broadcast.Binary<double, double, {k}.PowOperator<double>>(bases, {aShape}, exponents, {bShape}, powers, {yShape});");
            code.Writer.Line($"{k}.Conversion.Convert<double, {tBase}>(powers, {code.Out(0)});");
            return;
        }
        string exponent = code.In(1);
        if (exponentType != baseType)
        {
            code.Writer.Line($"var exponent = {code.Scratch(baseType, op.Input(1).ElementCount)};");
            code.Writer.Line($"{k}.Conversion.Convert<{tExponent}, {tBase}>({code.In(1)}, exponent);");
            exponent = "exponent";
        }
        string opStruct = DataTypes.IsInteger(baseType) ? "IntegerPowOperator" : "PowOperator";
        code.Writer.Line($"{k}.Broadcast.Binary<{tBase}, {tBase}, {k}.{opStruct}<{tBase}>>({code.In(0)}, {aShape}, {exponent}, {bShape}, {code.Out(0)}, {yShape});");
    }
}
