using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Elementwise;

/// <summary>Which element types a unary op accepts.</summary>
public enum UnaryTypes
{
    /// <summary>float, double, float16.</summary>
    Float,
    /// <summary>Floats and signed integers.</summary>
    Signed,
    /// <summary>Any number.</summary>
    Numeric,
    /// <summary>bool only.</summary>
    Bool,
}

/// <summary>
/// An element-wise op of one input: math functions and activations. The operator struct may take constructor
/// arguments computed from attributes (alpha, beta...), written as literals of the element type.
/// </summary>
public sealed class UnaryLowering : OpLowering
{
    readonly string _opType;
    readonly string _operator;
    readonly UnaryTypes _types;
    readonly Func<OpContext, double[]> _arguments;
    readonly bool _boolOutput;
    readonly Func<double, double>? _evaluate;
    readonly bool _boolArguments;

    /// <summary>Creates the lowering of one op.</summary>
    public UnaryLowering(string opType, string operatorStruct, UnaryTypes types, Func<OpContext, double[]>? arguments = null,
        bool boolOutput = false, Func<double, double>? evaluate = null, bool boolArguments = false)
    {
        _boolArguments = boolArguments;
        _opType = opType;
        _operator = operatorStruct;
        _types = types;
        _arguments = arguments ?? (_ => Array.Empty<double>());
        _boolOutput = boolOutput;
        _evaluate = evaluate;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var x = op.Input(0);
        bool ok = _types switch
        {
            UnaryTypes.Float => DataTypes.IsFloat(x.Type),
            UnaryTypes.Signed => DataTypes.IsSigned(x.Type),
            UnaryTypes.Numeric => DataTypes.IsFloat(x.Type) || DataTypes.IsInteger(x.Type),
            _ => x.Type == DataType.Bool,
        };
        if (!ok) throw op.Fail($"element type {x.Type} is not supported");
        _arguments(op); // validates attributes
        op.SetOutput(0, _boolOutput ? DataType.Bool : x.Type, x.Shape!);
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (_evaluate is null || !ConstantEvaluation.CanEvaluate(x.Type) || _boolOutput) return null;
        return new[] { ConstantEvaluation.FromDoubles(x.Type, x.Shape, x.ToDouble().Select(_evaluate).ToArray()) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        string t = code.InType(0);
        var type = op.Type(0);
        string args = string.Join(", ", _arguments(op).Select(a => EmitContext.Literal(_boolArguments ? DataType.Bool : type, a)));
        string opStruct = _types == UnaryTypes.Bool ? _operator : $"{_operator}<{t}>";
        string instance = args.Length > 0 ? $", new {EmitContext.Kernels}.Elementwise.{opStruct}({args})" : "";
        code.Writer.Line($"{EmitContext.Kernels}.Elementwise.Broadcast.Unary<{t}, {code.OutType(0)}, {EmitContext.Kernels}.Elementwise.{opStruct}>({code.In(0)}, {code.Out(0)}{instance});");
    }
}
