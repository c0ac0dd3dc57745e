using System;
using System.Linq;

namespace AotInfer.Compiler.Ops;

/// <summary>Shape rules shared by many ops.</summary>
public static class ShapeRules
{
    /// <summary>Numpy multidirectional broadcasting of two shapes.</summary>
    public static int[] Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new UnsupportedModelException($"shapes [{string.Join(",", a)}] and [{string.Join(",", b)}] cannot be broadcast together");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Broadcast of many shapes.</summary>
    public static int[] Broadcast(params int[][] shapes) => shapes.Aggregate(Array.Empty<int>(), Broadcast);

    /// <summary>Index into <paramref name="shape"/>-shaped data for the element at flat output index <paramref name="flat"/> of <paramref name="outShape"/>, with broadcasting.</summary>
    public static int BroadcastIndex(int flat, int[] outShape, int[] shape)
    {
        int index = 0, stride = 1, offset = outShape.Length - shape.Length;
        for (int d = outShape.Length - 1; d >= 0; d--)
        {
            int coordinate = flat % outShape[d];
            flat /= outShape[d];
            int sd = d - offset;
            if (sd >= 0)
            {
                if (shape[sd] != 1) index += coordinate * stride;
                stride *= shape[sd];
            }
        }
        return index;
    }
}
