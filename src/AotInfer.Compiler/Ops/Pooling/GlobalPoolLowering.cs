using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Pooling;

/// <summary>
/// GlobalMaxPool, GlobalAveragePool and GlobalLpPool: one reduction over all spatial positions of each (n, c) plane;
/// GlobalAveragePool also reads NCHW16c images (<see cref="Passes.Nchw16cLayout"/>).
/// </summary>
public sealed class GlobalPoolLowering : OpLowering
{
    readonly string _opType;
    readonly PoolKind _kind;

    /// <summary>Creates the lowering of one global pool op.</summary>
    public GlobalPoolLowering(string opType, PoolKind kind)
    {
        _opType = opType;
        _kind = kind;
    }

    /// <inheritdoc/>
    public override string[] OpTypes => new[] { _opType };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var x = op.Input(0);
        PoolLowering.CheckType(op, x.Type, _kind);
        int[] shape = x.Shape!;
        if (shape.Length < 3) throw op.Fail($"input X must have rank 3 or more (N, C, spatial...), got rank {shape.Length}");
        if (_kind == PoolKind.Lp) PoolLowering.LpNorm(op);
        op.SetOutput(0, x.Type, new[] { shape[0], shape[1] }.Concat(Enumerable.Repeat(1, shape.Length - 2)).ToArray());
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int[] shape = op.Shape(0);
        int planes = shape[0] * shape[1], size = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        string pooling = $"{EmitContext.Kernels}.Pooling.Pooling";
        string call = _kind switch
        {
            // Passes/Nchw16cLayout: the end of a chain kept in NCHW16c.
            PoolKind.Average when Passes.Nchw16cLayout.ReadsBlocked(op.Node) => $"{pooling}.GlobalAverageNchw16c({code.In(0)}, {code.Out(0)}, {shape[0]}, {shape[1]}, {size})",
            PoolKind.Max => $"{pooling}.GlobalMax<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, {planes}, {size})",
            PoolKind.Average => $"{pooling}.GlobalAverage({code.In(0)}, {code.Out(0)}, {planes}, {size})",
            _ => $"{pooling}.GlobalLp({code.In(0)}, {code.Out(0)}, {planes}, {size}, {Literals.Float(PoolLowering.LpNorm(op))})",
        };
        code.Writer.Line(call + ";");
    }
}
