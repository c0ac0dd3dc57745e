using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Matrix;

/// <summary>Det: the determinant of each square matrix in the last two axes, by LU decomposition with partial pivoting.</summary>
public sealed class DetLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Det" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var shape = op.Shape(0);
        if (shape.Length < 2 || shape[shape.Length - 1] != shape[shape.Length - 2])
            throw op.Fail($"input 0 must end in a square matrix, got shape {Literals.Shape(shape)}");
        if (op.Type(0) is not (DataType.Float or DataType.Double or DataType.Float16)) throw op.Fail($"element type {op.Type(0)} is not supported");
        op.SetOutput(0, op.Type(0), shape.Take(shape.Length - 2).ToArray());
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var shape = op.Shape(0);
        int n = shape[shape.Length - 1];
        int count = ShapeMath.ElementCount(shape.Take(shape.Length - 2).ToArray());
        if (count == 0) return;
        string scratch = code.Scratch(DataType.Double, System.Math.Max(n * n, 1));
        code.Writer.Line($"{EmitContext.Kernels}.Matrix.MatrixKernels.Determinant<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {count}, {n}, {scratch});");
    }
}
