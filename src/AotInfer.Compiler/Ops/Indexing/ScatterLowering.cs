using System.Linq;
using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// ScatterElements (and the deprecated Scatter-9/10, which is ScatterElements without reduction) and ScatterND: the
/// output is a copy of the data with the updates written (or combined by the reduction) at the indexed places.
/// Shapes are static; indices are read at run time.
/// </summary>
public sealed class ScatterLowering : OpLowering
{
    /// <inheritdoc/>
    public override string[] OpTypes => new[] { "ScatterElements", "Scatter", "ScatterND" };

    /// <inheritdoc/>
    public override void Infer(OpContext op)
    {
        var data = op.Shape(0);
        var indices = op.Shape(1);
        var updates = op.Shape(2);
        if (op.Type(1) is not (DataType.Int32 or DataType.Int64)) throw op.Fail($"input 1 (indices) must be int32 or int64, got {op.Type(1)}");
        if (op.Type(2) != op.Type(0)) throw op.Fail($"input 2 (updates) is {op.Type(2)} but data is {op.Type(0)}");
        Reduction(op);
        if (op.Node.OpType == "ScatterND")
        {
            if (indices.Length == 0) throw op.Fail("input 1 (indices) must have rank at least 1");
            int k = indices[indices.Length - 1];
            if (k > data.Length) throw op.Fail($"indices address {k} axes but data has rank {data.Length}");
            var expected = indices.Take(indices.Length - 1).Concat(data.Skip(k)).ToArray();
            if (!expected.SequenceEqual(updates))
                throw op.Fail($"input 2 (updates) has shape {Literals.Shape(updates)}, expected {Literals.Shape(expected)}");
        }
        else
        {
            if (indices.Length != data.Length) throw op.Fail($"input 1 (indices) has rank {indices.Length} but data has rank {data.Length}");
            if (!indices.SequenceEqual(updates)) throw op.Fail($"input 2 (updates) has shape {Literals.Shape(updates)}, expected the indices' shape {Literals.Shape(indices)}");
            int axis = op.Axis(op.Attributes.Int("axis", 0), data.Length);
            for (int d = 0; d < data.Length; d++)
                if (d != axis && indices[d] > data[d]) throw op.Fail($"indices dimension {d} ({indices[d]}) exceeds the data's ({data[d]})");
        }
        op.SetOutput(0, op.Type(0), data);
    }

    /// <summary>0 none, 1 add, 2 mul, 3 max, 4 min (the kernel's codes).</summary>
    static int Reduction(OpContext op)
    {
        string reduction = op.Attributes.String("reduction", "none");
        int code = reduction switch
        {
            "none" => 0,
            "add" when op.Opset >= 16 => 1,
            "mul" when op.Opset >= 16 => 2,
            "max" when op.Opset >= 18 => 3,
            "min" when op.Opset >= 18 => 4,
            _ => throw op.Fail($"reduction '{reduction}' is not supported at opset {op.Opset}"),
        };
        if (code != 0 && op.Type(0) == DataType.Bool) throw op.Fail($"reduction '{reduction}' is not defined for bool data");
        return code;
    }

    /// <inheritdoc/>
    public override void Emit(OpContext op, EmitContext code)
    {
        int reduction = Reduction(op);
        string k = EmitContext.Kernels + ".Indexing.ScatterKernels";
        string types = $"<{code.InType(0)}, {code.InType(1)}>";
        string method = reduction == 0 ? "" : "Reduce";
        if (op.Node.OpType == "ScatterND")
        {
            code.Writer.Line($"{k}.ScatterND{method}{types}({code.In(0)}, {code.In(1)}, {code.In(2)}, {code.Out(0)}, " +
                             $"{code.IntArray(op.Shape(0))}, {code.IntArray(op.Shape(1))}{(reduction == 0 ? "" : ", " + reduction)});");
            return;
        }
        int axis = op.Axis(op.Attributes.Int("axis", 0), op.Shape(0).Length);
        code.Writer.Line($"{k}.ScatterElements{method}{types}({code.In(0)}, {code.In(1)}, {code.In(2)}, {code.Out(0)}, " +
                         $"{code.IntArray(op.Shape(0))}, {code.IntArray(op.Shape(1))}, {axis}{(reduction == 0 ? "" : ", " + reduction)});");
    }
}
