using System;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops.Indexing;

/// <summary>
/// Compile-time evaluation of data-movement ops (Gather, Where, Pad, OneHot): the result is a selection of source
/// elements, so it works for every element type, float16 bit patterns included, without arithmetic.
/// </summary>
public static class TensorSelection
{
    /// <summary>
    /// A tensor of <paramref name="type"/> whose element i is element <paramref name="sourceIndex"/>[i] of
    /// <paramref name="sources"/>[<paramref name="sourceTensor"/>[i]]; a negative source index takes <paramref name="fill"/>.
    /// </summary>
    public static Tensor Take(DataType type, int[] shape, Tensor[] sources, int[] sourceTensor, int[] sourceIndex, object? fill = null)
    {
        var elementType = DataTypes.ClrType(type) ?? throw new UnsupportedModelException($"cannot evaluate {type} at compile time");
        var data = Array.CreateInstance(elementType, sourceIndex.Length);
        for (int i = 0; i < sourceIndex.Length; i++)
        {
            if (sourceIndex[i] < 0) { if (fill is not null) data.SetValue(fill, i); }
            else data.SetValue(sources[sourceTensor[i]].Data.GetValue(sourceIndex[i]), i);
        }
        return new Tensor(type, shape, data);
    }

    /// <summary>As <see cref="Take(DataType, int[], Tensor[], int[], int[], object?)"/> with a single source tensor.</summary>
    public static Tensor Take(Tensor source, int[] shape, int[] sourceIndex, object? fill = null) =>
        Take(source.Type, shape, new[] { source }, new int[sourceIndex.Length], sourceIndex, fill);

    /// <summary>Normalises a constant index against a dimension, failing at compile time when it is out of range.</summary>
    public static int Index(OpContext op, long index, int size, string what)
    {
        long i = index < 0 ? index + size : index;
        if (i < 0 || i >= size) throw op.Fail($"{what} {index} is out of range for a dimension of size {size}");
        return (int)i;
    }

    /// <summary>Product of <paramref name="shape"/>[<paramref name="from"/>..<paramref name="to"/>).</summary>
    public static int Product(int[] shape, int from, int to)
    {
        int n = 1;
        for (int d = from; d < to; d++) n *= shape[d];
        return n;
    }

    /// <summary>The C# expression of a one-element input span when the optional input is present, else an empty span.</summary>
    public static string OptionalSpan(OpContext op, Emit.EmitContext code, int index, DataType type) =>
        op.HasInput(index) ? code.In(index) : $"global::System.ReadOnlySpan<{DataTypes.CSharpName(type)}>.Empty";
}
