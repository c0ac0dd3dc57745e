using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Quantization;

/// <summary>
/// com.microsoft QLinearConcat (Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input; attribute axis).
/// Inputs quantised like the output are copied; the others are requantised through a 256-entry table built here,
/// as ONNX Runtime does.
/// </summary>
public sealed class ContribQLinearConcatLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "QLinearConcat" };

    /// <inheritdoc/>
    public override string Domain => "com.microsoft";

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        if (op.InputCount < 5 || (op.InputCount - 2) % 3 != 0)
            throw op.Fail($"expects Y_scale, Y_zero_point and triples (X, X_scale, X_zero_point); got {op.InputCount} inputs");
        var first = op.Input(2);
        ContribQuantization.CheckEightBit(op, first.Type, "input X0");
        int rank = first.Shape!.Length;
        if (!op.Attributes.Has("axis")) throw op.Fail("attribute axis is required");
        int axis = op.Axis(op.Attributes.Int("axis", 0), rank);
        int[] shape = (int[])first.Shape.Clone();
        shape[axis] = 0;
        foreach (int index in DataIndices(op))
        {
            var x = op.Input(index);
            if (x.Type != first.Type) throw op.Fail($"input {index} has element type {x.Type}, expected {first.Type}");
            if (x.Shape!.Length != rank) throw op.Fail($"input {index} has rank {x.Shape.Length}, expected {rank}");
            for (int d = 0; d < rank; d++)
                if (d != axis && x.Shape[d] != first.Shape[d]) throw op.Fail($"input {index} has shape {Literals.Shape(x.Shape)}, which does not match {Literals.Shape(first.Shape)} off axis {axis}");
            shape[axis] += x.Shape[axis];
        }
        var y = ContribQuantization.Read(op, 0, 1, first.Type, "Y");
        int requantised = DataIndices(op).Count(i => !Parameters(op, i).Equals(y));
        op.Node.Annotations["precision"] = "int8";
        op.Node.Annotations["quantization"] = $"Y {y}; {requantised} of {DataIndices(op).Count()} inputs requantised by table";
        op.SetOutput(0, first.Type, shape);
    }

    static IEnumerable<int> DataIndices(OpContext op)
    {
        for (int i = 2; i < op.InputCount; i += 3) yield return i;
    }

    static QuantizationParameters Parameters(OpContext op, int dataIndex) =>
        ContribQuantization.Read(op, dataIndex + 1, dataIndex + 2, op.Type(dataIndex), $"X{(dataIndex - 2) / 3}");

    /// <inheritdoc/>
    public override bool ReadsInputAtRunTime(OpContext op, int inputIndex) => inputIndex >= 2 && (inputIndex - 2) % 3 == 0;

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        var type = op.Type(2);
        var y = ContribQuantization.Read(op, 0, 1, type, "Y");
        int[] outShape = op.Output(0)!.Shape!;
        int axis = op.Axis(op.Attributes.Int("axis", 0), outShape.Length);
        int outer = outShape.Take(axis).Aggregate(1, (a, b) => a * b);
        int inner = outShape.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        int row = outShape[axis] * inner;
        int offset = 0;
        string t = code.InType(2);
        foreach (int index in DataIndices(op))
        {
            var x = Parameters(op, index);
            int chunk = op.Shape(index)[axis] * inner;
            if (x.Equals(y))
            {
                code.Writer.Line($"{EmitContext.Kernels}.Shape.BlockCopy.Copy<{t}>({code.In(index)}, {chunk}, {code.Out(0)}.Slice({offset}), {row}, {outer}, {chunk});");
            }
            else
            {
                string table = code.Constant(ContribQuantization.LookupTable(type, x, y, v => v), "QLinearConcatTable");
                code.Writer.Line($"{EmitContext.Kernels}.Quantization.QLinearLookup.CopyBlocks<{t}>({code.In(index)}, {code.Out(0)}.Slice({offset}), {row}, {outer}, {chunk}, {table});");
            }
            offset += chunk;
        }
    }
}
