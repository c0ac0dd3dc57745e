using System;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Shape;

/// <summary>
/// Range: start, start + delta, ... up to but excluding limit; max(ceil((limit - start) / delta), 0) elements. The
/// length is the output's shape, so the three scalar inputs must be constants and the op always folds. Element i
/// is start + i·delta (integers in 64 bits, floats in double, then converted).
/// </summary>
public sealed class RangeLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Range" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var type = op.Type(0);
        if (op.Type(1) != type || op.Type(2) != type) throw op.Fail($"start, limit and delta must have one type, got {type}, {op.Type(1)}, {op.Type(2)}");
        if (!(type is DataType.Float or DataType.Double or DataType.Float16 || type is DataType.Int16 or DataType.Int32 or DataType.Int64))
            throw op.Fail($"element type {type} is not supported (float, double, float16, int16, int32, int64)");
        op.SetOutput(0, type, new[] { Count(op) });
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var type = op.Type(0);
        int count = Count(op);
        if (DataTypes.IsFloat(type))
        {
            double start = Scalar(op, 0, "start").ToDouble()[0], delta = Scalar(op, 2, "delta").ToDouble()[0];
            var values = new double[count];
            for (int i = 0; i < count; i++) values[i] = start + i * delta;
            return new[] { ConstantCast.Convert(new Tensor(DataType.Double, new[] { count }, values), type) };
        }
        long first = Scalar(op, 0, "start").ToInt64()[0], step = Scalar(op, 2, "delta").ToInt64()[0];
        var longs = new long[count];
        for (int i = 0; i < count; i++) longs[i] = first + i * step;
        return new[] { ConstantCast.Convert(new Tensor(DataType.Int64, new[] { count }, longs), type) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) =>
        throw op.Fail("Range is folded at compile time and never emitted");

    static Tensor Scalar(OpContext op, int index, string role)
    {
        var t = op.ConstantInput(index, role);
        if (t.Length != 1) throw op.Fail($"input {index} ({role}) must be a scalar, not {Literals.Shape(t.Shape)}");
        return t;
    }

    static int Count(OpContext op)
    {
        var type = op.Type(0);
        double count;
        if (DataTypes.IsFloat(type))
        {
            double start = Scalar(op, 0, "start").ToDouble()[0], limit = Scalar(op, 1, "limit").ToDouble()[0], delta = Scalar(op, 2, "delta").ToDouble()[0];
            if (delta == 0 || double.IsNaN(delta)) throw op.Fail("delta must be non-zero");
            count = Math.Ceiling((limit - start) / delta);
        }
        else
        {
            long start = Scalar(op, 0, "start").ToInt64()[0], limit = Scalar(op, 1, "limit").ToInt64()[0], delta = Scalar(op, 2, "delta").ToInt64()[0];
            if (delta == 0) throw op.Fail("delta must be non-zero");
            // Ceiling division in integers (exact where a double would round for large values).
            long span = limit - start;
            long n = span / delta;
            if (n * delta != span && (span > 0) == (delta > 0)) n++;
            count = n;
        }
        if (double.IsNaN(count) || count > ShapeMath.MaxElements) throw op.Fail($"the range has too many elements ({count})");
        return (int)Math.Max(0, count);
    }
}
