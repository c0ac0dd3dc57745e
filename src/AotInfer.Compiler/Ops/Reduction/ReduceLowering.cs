using System;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Compiler.Ops.Normalization;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Reduction;

/// <summary>The Reduce* operators.</summary>
public enum ReduceKind
{
    /// <summary>Σx.</summary>
    Sum,
    /// <summary>Σx / n.</summary>
    Mean,
    /// <summary>Πx.</summary>
    Prod,
    /// <summary>max x.</summary>
    Max,
    /// <summary>min x.</summary>
    Min,
    /// <summary>Σx².</summary>
    SumSquare,
    /// <summary>Σ|x|.</summary>
    L1,
    /// <summary>√Σx².</summary>
    L2,
    /// <summary>ln Σx.</summary>
    LogSum,
    /// <summary>ln Σe^x.</summary>
    LogSumExp,
}

/// <summary>
/// ReduceSum/Mean/Prod/Max/Min/SumSquare/L1/L2/LogSum/LogSumExp: axes from the attribute (ReduceSum before opset
/// 13, the others before 18) or the optional input, keepdims, noop_with_empty_axes, empty sets (the reduction's
/// identity: 0, 1, −∞...), integer types, and bool for Max/Min (opset 20). Integer and float constants fold at
/// compile time, since ReduceProd/ReduceSum appear in shape computations.
/// </summary>
public sealed class ReduceLowering : OpLowering
{
    readonly string _opType;
    readonly ReduceKind _kind;

    /// <summary>Creates the lowering of one Reduce* op.</summary>
    public ReduceLowering(string opType, ReduceKind kind)
    {
        _opType = opType;
        _kind = kind;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    int AxesInputSince => _kind == ReduceKind.Sum ? 13 : 18;

    bool FloatOnly => _kind is ReduceKind.L2 or ReduceKind.LogSum or ReduceKind.LogSumExp;

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        bool ok = DataTypes.IsFloat(type) && type != DataType.BFloat16
                  || DataTypes.IsInteger(type) && !FloatOnly
                  || type == DataType.Bool && _kind is ReduceKind.Max or ReduceKind.Min && op.Opset >= 20;
        if (!ok) throw op.Fail($"element type {type} is not supported by {_opType} (opset {op.Opset})");
        var axes = ReductionAxes.ForReduce(op, AxesInputSince);
        op.SetOutput(0, type, axes.OutputShape);
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var x = op.Input(0).Constant!;
        if (!ConstantEvaluation.CanEvaluate(x.Type) || x.Type is DataType.Bool or DataType.UInt64) return null;
        if (DataTypes.IsInteger(x.Type) && FloatOnly) return null;
        var axes = ReductionAxes.ForReduce(op, AxesInputSince);
        var output = op.Output(0)!;
        int[] outShape = axes.KeepDimsShape;
        int outCount = ShapeMath.ElementCount(outShape);
        var index = new int[x.Shape.Length];
        if (DataTypes.IsInteger(x.Type))
        {
            long[] values = x.ToInt64();
            var acc = Enumerable.Repeat(IntegerIdentity(x.Type), outCount).ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                int o = OutputIndex(i, x.Shape, axes.Reduced, index);
                long v = values[i];
                acc[o] = _kind switch
                {
                    ReduceKind.Prod => acc[o] * v,
                    ReduceKind.Max => Math.Max(acc[o], v),
                    ReduceKind.Min => Math.Min(acc[o], v),
                    ReduceKind.SumSquare => acc[o] + v * v,
                    ReduceKind.L1 => acc[o] + Math.Abs(v),
                    _ => acc[o] + v,
                };
            }
            if (_kind == ReduceKind.Mean && axes.ReducedCount > 0) for (int o = 0; o < outCount; o++) acc[o] /= axes.ReducedCount;
            return new[] { ConstantEvaluation.FromLongs(x.Type, output.Shape!, acc) };
        }
        double[] data = x.ToDouble();
        double identity = _kind switch
        {
            ReduceKind.Prod => 1,
            ReduceKind.Max or ReduceKind.LogSumExp => double.NegativeInfinity,
            ReduceKind.Min => double.PositiveInfinity,
            _ => 0,
        };
        var sums = Enumerable.Repeat(identity, outCount).ToArray();
        if (_kind == ReduceKind.LogSumExp)
        {
            // Two passes so that large inputs do not overflow: the maximum, then the shifted sum.
            for (int i = 0; i < data.Length; i++) { int o = OutputIndex(i, x.Shape, axes.Reduced, index); sums[o] = Math.Max(sums[o], data[i]); }
            var shifted = new double[outCount];
            for (int i = 0; i < data.Length; i++) { int o = OutputIndex(i, x.Shape, axes.Reduced, index); shifted[o] += Math.Exp(data[i] - sums[o]); }
            for (int o = 0; o < outCount; o++) if (!double.IsInfinity(sums[o]) && !double.IsNaN(sums[o])) sums[o] += Math.Log(shifted[o]);
            return new[] { ConstantEvaluation.FromDoubles(x.Type, output.Shape!, sums) };
        }
        for (int i = 0; i < data.Length; i++)
        {
            int o = OutputIndex(i, x.Shape, axes.Reduced, index);
            double v = data[i];
            sums[o] = _kind switch
            {
                ReduceKind.Prod => sums[o] * v,
                ReduceKind.Max => double.IsNaN(v) || v > sums[o] ? v : sums[o],
                ReduceKind.Min => double.IsNaN(v) || v < sums[o] ? v : sums[o],
                ReduceKind.SumSquare or ReduceKind.L2 => sums[o] + v * v,
                ReduceKind.L1 => sums[o] + Math.Abs(v),
                _ => sums[o] + v,
            };
        }
        for (int o = 0; o < outCount; o++)
        {
            sums[o] = _kind switch
            {
                ReduceKind.Mean => sums[o] / axes.ReducedCount,
                ReduceKind.L2 => Math.Sqrt(sums[o]),
                ReduceKind.LogSum => Math.Log(sums[o]),
                _ => sums[o],
            };
        }
        return new[] { ConstantEvaluation.FromDoubles(x.Type, output.Shape!, sums) };
    }

    long IntegerIdentity(DataType type) => _kind switch
    {
        ReduceKind.Prod => 1,
        ReduceKind.Max => type switch
        {
            DataType.Int8 => sbyte.MinValue, DataType.Int16 => short.MinValue, DataType.Int32 => int.MinValue, DataType.Int64 => long.MinValue, _ => 0,
        },
        ReduceKind.Min => type switch
        {
            DataType.Int8 => sbyte.MaxValue, DataType.UInt8 => byte.MaxValue, DataType.Int16 => short.MaxValue, DataType.UInt16 => ushort.MaxValue,
            DataType.Int32 => int.MaxValue, DataType.UInt32 => uint.MaxValue, _ => long.MaxValue,
        },
        _ => 0,
    };

    /// <summary>Flat index into the keep-dims output of the input element at flat index <paramref name="flat"/>.</summary>
    static int OutputIndex(int flat, int[] shape, bool[] reduced, int[] scratchIndex)
    {
        for (int d = shape.Length - 1; d >= 0; d--) { scratchIndex[d] = flat % shape[d]; flat /= shape[d]; }
        int o = 0;
        for (int d = 0; d < shape.Length; d++) o = o * (reduced[d] ? 1 : shape[d]) + (reduced[d] ? 0 : scratchIndex[d]);
        return o;
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var axes = ReductionAxes.ForReduce(op, AxesInputSince);
        var (dims, reduced) = axes.Canonical();
        string d = code.IntArray(dims), r = code.IntArray(reduced);
        string reduce = $"{EmitContext.Kernels}.Reduction.Reduce";
        if (op.Type(0) == DataType.Bool)
        {
            code.Writer.Line($"{reduce}.Bool({code.In(0)}, {code.Out(0)}, {d}, {r}, any: {(_kind == ReduceKind.Max ? "true" : "false")});");
            return;
        }
        var spans = new ComputeSpans(op, code);
        var computeType = ComputeSpans.ComputeType(op.Type(0));
        string t = DataTypes.CSharpName(computeType);
        string x = spans.In(0), y = spans.Out(0);
        string Run(string operatorStruct) => $"{reduce}.Run<{t}, {EmitContext.Kernels}.Reduction.{operatorStruct}<{t}>>({x}, {y}, {d}, {r});";
        switch (_kind)
        {
            case ReduceKind.Sum: code.Writer.Line(Run("ReduceSumOperator")); break;
            case ReduceKind.Prod: code.Writer.Line(Run("ReduceProductOperator")); break;
            case ReduceKind.Max: code.Writer.Line(Run("ReduceMaxOperator")); break;
            case ReduceKind.Min: code.Writer.Line(Run("ReduceMinOperator")); break;
            case ReduceKind.SumSquare: code.Writer.Line(Run("ReduceSumSquareOperator")); break;
            case ReduceKind.L1: code.Writer.Line(Run("ReduceSumAbsOperator")); break;
            case ReduceKind.L2:
                code.Writer.Line(Run("ReduceSumSquareOperator"));
                code.Writer.Line($"{reduce}.Sqrt<{t}>({y});");
                break;
            case ReduceKind.LogSum:
                code.Writer.Line(Run("ReduceSumOperator"));
                code.Writer.Line($"{reduce}.Log<{t}>({y});");
                break;
            case ReduceKind.LogSumExp:
                string sums = code.Scratch(computeType, op.Output(0)!.ElementCount);
                code.Writer.Line($"{reduce}.LogSumExp<{t}>({x}, {y}, {d}, {r}, {sums});");
                break;
            case ReduceKind.Mean:
                code.Writer.Line(Run("ReduceSumOperator"));
                if (axes.ReducedCount > 0) code.Writer.Line($"{reduce}.DivideBy<{t}>({y}, {Literals.Int(axes.ReducedCount)});");
                else if (DataTypes.IsFloat(computeType)) code.Writer.Line($"{y}.Fill({t}.NaN); // the mean of an empty set");
                break;
        }
        spans.Finish();
    }
}
