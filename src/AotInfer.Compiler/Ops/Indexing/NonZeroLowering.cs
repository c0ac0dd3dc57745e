using System.Collections.Generic;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// NonZero: the coordinates of the non-zero elements, as int64 <c>[rank, count]</c>. The count depends on the values,
/// so the input must be constant and the op is evaluated at compile time.
/// </summary>
public sealed class NonZeroLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "NonZero" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var coordinates = Coordinates(op);
        op.SetOutput(0, DataType.Int64, new[] { op.Shape(0).Length, coordinates.Length / op.Shape(0).Length });
    }

    /// <inheritdoc/>
    public override Tensor[]? Evaluate(OpContext op)
    {
        var output = op.Output(0)!;
        return new[] { new Tensor(DataType.Int64, output.Shape!, Coordinates(op)) };
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code) =>
        throw op.Fail("NonZero must be evaluated at compile time: its output shape depends on the input's values");

    /// <summary>Row-major coordinates laid out axis by axis: all first coordinates, then all second ones...</summary>
    static long[] Coordinates(OpContext op)
    {
        var x = op.ConstantInput(0, "X, whose values decide the output shape");
        if (x.Type is DataType.String or DataType.BFloat16) throw op.Fail($"element type {x.Type} is not supported");
        var values = x.ToDouble();
        var shape = x.Shape;
        var found = new List<int>();
        for (int i = 0; i < values.Length; i++) if (values[i] != 0) found.Add(i);
        int rank = shape.Length;
        if (rank == 0) throw op.Fail("a scalar input is not supported (runtimes disagree on its output shape)");
        var result = new long[rank * found.Count];
        for (int n = 0; n < found.Count; n++)
        {
            int rest = found[n];
            for (int d = rank - 1; d >= 0; d--)
            {
                result[d * found.Count + n] = rest % shape[d];
                rest /= shape[d];
            }
        }
        return result;
    }
}
