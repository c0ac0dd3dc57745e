using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Matrix;

/// <summary>EyeLike: a 2-D tensor of the input's shape with ones on diagonal <c>k</c> and zeros elsewhere.</summary>
public sealed class EyeLikeLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "EyeLike" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var shape = op.Shape(0);
        if (shape.Length != 2) throw op.Fail($"input 0 must be 2-D, got rank {shape.Length}");
        var type = OutputType(op);
        if (DataTypes.ClrType(type) is null || type is DataType.String or DataType.BFloat16)
            throw op.Fail($"attribute 'dtype' {type} is not supported");
        op.SetOutput(0, type, shape);
    }

    static DataType OutputType(OpContext op) =>
        op.Attributes.Has("dtype") ? (DataType)op.Attributes.Int("dtype", 0) : op.Type(0);

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var shape = op.Shape(0);
        long k = op.Attributes.Int("k", 0);
        // A diagonal entirely outside the matrix leaves only zeros; clamping keeps the emitted int in range.
        int diagonal = (int)System.Math.Max(-shape[0], System.Math.Min(k, shape[1]));
        code.Writer.Line($"{EmitContext.Kernels}.Matrix.MatrixKernels.EyeLike<{code.OutType(0)}>({code.Out(0)}, {shape[0]}, {shape[1]}, {diagonal}, " +
                         $"{EmitContext.Literal(OutputType(op), 1)});");
    }
}
