using System;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// NumPy broadcasting for the binary ops and Gemm's bias: the output shape, each operand's strides over it (0 along
/// broadcast dimensions), and a walk over the output row by row (innermost dimension) with each operand's offset.
/// Backward reduces an output-shaped gradient back onto an operand by adding along its broadcast dimensions.
/// </summary>
public static class Broadcasting
{
    /// <summary>The broadcast shape of <paramref name="a"/> and <paramref name="b"/>, or null when they do not broadcast.</summary>
    public static int[]? Shape(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1) return null;
            shape[i] = da == 1 ? db : da;
        }
        return shape;
    }

    /// <summary>Strides of an operand of <paramref name="operand"/> shape read along <paramref name="output"/> (0 where it broadcasts).</summary>
    public static int[] Strides(int[] operand, int[] output)
    {
        var strides = new int[output.Length];
        int stride = 1;
        for (int i = operand.Length - 1; i >= 0; i--)
        {
            int axis = i + output.Length - operand.Length;
            strides[axis] = operand[i] == 1 ? 0 : stride;
            stride *= operand[i];
        }
        return strides;
    }

    /// <summary>
    /// Calls <paramref name="row"/> once per innermost row of <paramref name="shape"/> with the row's output offset
    /// and the offsets of operands A and B (strides <paramref name="stridesA"/>, <paramref name="stridesB"/>).
    /// </summary>
    public static void ForEachRow(int[] shape, int[] stridesA, int[] stridesB, RowAction row)
    {
        int rank = shape.Length;
        if (rank == 0) { row(0, 0, 0); return; }
        int length = shape[rank - 1], rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= shape[d];
        if (length == 0) return;
        Span<int> index = stackalloc int[rank];
        int offsetA = 0, offsetB = 0;
        for (int r = 0; r < rows; r++)
        {
            row(r * length, offsetA, offsetB);
            for (int d = rank - 2; d >= 0; d--)
            {
                offsetA += stridesA[d];
                offsetB += stridesB[d];
                if (++index[d] < shape[d]) break;
                offsetA -= stridesA[d] * shape[d];
                offsetB -= stridesB[d] * shape[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>Receives one row: offsets of the output, operand A and operand B.</summary>
    public delegate void RowAction(int output, int a, int b);

    /// <summary>
    /// target[broadcast index] += g[i] (times other[broadcast index] when <paramref name="other"/> is not empty):
    /// the gradient of a broadcast operand. <paramref name="target"/> must be cleared or hold earlier contributions.
    /// </summary>
    public static void ReduceInto(float[] g, int[] shape, float[] target, int[] targetStrides, float[]? other, int[]? otherStrides)
    {
        int length = shape.Length == 0 ? 1 : shape[^1];
        int stepT = shape.Length == 0 ? 0 : targetStrides[^1];
        int stepO = other is null || shape.Length == 0 ? 0 : otherStrides![^1];
        ForEachRow(shape, targetStrides, otherStrides ?? targetStrides, (o, t, b) =>
        {
            if (other is null)
            {
                if (stepT == 0) { float sum = 0; for (int i = 0; i < length; i++) sum += g[o + i]; target[t] += sum; }
                else for (int i = 0; i < length; i++) target[t + i] += g[o + i];
            }
            else
            {
                for (int i = 0; i < length; i++) target[t + i * stepT] += g[o + i] * other[b + i * stepO];
            }
        });
    }
}
