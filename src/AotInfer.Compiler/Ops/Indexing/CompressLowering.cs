using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// Compress: keeps the slices along an axis (or the elements of the flattened input) whose condition is true. The
/// output shape depends on the condition, so the condition must be a constant; the kept indices become a table.
/// </summary>
public sealed class CompressLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "Compress" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var (_, _, _, kept) = Selection(op);
        var shape = op.Shape(0);
        int? axis = Axis(op);
        op.SetOutput(0, op.Type(0), axis is int a ? shape.Select((d, i) => i == a ? kept.Count : d).ToArray() : new[] { kept.Count });
    }

    static int? Axis(OpContext op) =>
        op.Attributes.Has("axis") ? op.Axis(op.Attributes.Int("axis", 0), op.Shape(0).Length) : null;

    /// <summary>The [outer, size, inner] view of the data and the kept indices along the middle axis.</summary>
    static (int Outer, int Size, int Inner, List<int> Kept) Selection(OpContext op)
    {
        var condition = op.ConstantInput(1, "condition");
        if (condition.Type != DataType.Bool) throw op.Fail($"input 1 (condition) must be bool, got {condition.Type}");
        if (condition.Shape.Length != 1) throw op.Fail($"input 1 (condition) must be 1-D, got rank {condition.Shape.Length}");
        var shape = op.Shape(0);
        int? axis = Axis(op);
        int outer = axis is int a ? ShapeMath.ElementCount(shape.Take(a).ToArray()) : 1;
        int size = axis is int b ? shape[b] : ShapeMath.ElementCount(shape);
        int inner = axis is int c ? ShapeMath.ElementCount(shape.Skip(c + 1).ToArray()) : 1;
        var flags = condition.As<bool>();
        if (flags.Length > size) throw op.Fail($"input 1 (condition) has {flags.Length} entries but the axis has {size}");
        // Entries past the end of the condition count as false.
        var kept = Enumerable.Range(0, flags.Length).Where(i => flags[i]).ToList();
        return (outer, size, inner, kept);
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var (outer, size, inner, kept) = Selection(op);
        if (kept.Count == 0 || outer == 0 || inner == 0) return;
        code.Writer.Line($"{EmitContext.Kernels}.Indexing.SelectionKernels.GatherAxis<{code.InType(0)}>({code.In(0)}, {code.Out(0)}, " +
                         $"{outer}, {size}, {inner}, {code.IntArray(kept)});");
    }
}
