using System;
using System.Linq;
using AotInfer.Kernels.Elementwise;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The SIMD broadcasting kernel against a direct index-by-index evaluation of numpy broadcasting: results must be
/// bit-identical (the same IEEE operation on the same pair of elements), for runs shorter and longer than a vector.
/// </summary>
public class VectorBroadcastTests
{
    public static TheoryData<int[], int[]> Shapes => new()
    {
        { new[] { 37 }, new[] { 37 } },
        { new[] { 1, 16, 32, 32 }, new[] { 1, 16, 32, 32 } },
        { new[] { 3 }, new[] { 3 } },
        { new[] { 1, 5, 7, 3 }, new int[0] },
        { new int[0], new[] { 2, 9, 5 } },
        { new[] { 1, 16, 7, 7 }, new[] { 1, 16, 1, 1 } },
        { new[] { 1, 3, 1, 1 }, new[] { 1, 3, 5, 5 } },
        { new[] { 6, 1 }, new[] { 1, 19 } },
        { new[] { 2, 3, 4, 21 }, new[] { 21 } },
        { new[] { 2, 1, 4, 1 }, new[] { 1, 3, 1, 17 } },
        { new[] { 4, 1, 33 }, new[] { 4, 2, 33 } },
        { new[] { 1 }, new[] { 1 } },
        { new[] { 0, 4 }, new[] { 1, 4 } },
        { new[] { 2, 0, 3 }, new[] { 3 } },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float_operators_match_direct_broadcasting(int[] aShape, int[] bShape)
    {
        var random = new Random(aShape.Sum() * 31 + bShape.Length);
        float[] a = RandomValues(aShape, random), b = RandomValues(bShape, random);
        Check<float, AddVectors<float>>(a, aShape, b, bShape, (x, y) => x + y);
        Check<float, SubtractVectors<float>>(a, aShape, b, bShape, (x, y) => x - y);
        Check<float, MultiplyVectors<float>>(a, aShape, b, bShape, (x, y) => x * y);
        Check<float, DivideVectors<float>>(a, aShape, b, bShape, (x, y) => x / y);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Double_operators_match_direct_broadcasting(int[] aShape, int[] bShape)
    {
        var random = new Random(aShape.Sum() * 17 + bShape.Length);
        double[] a = RandomValues(aShape, random).Select(v => (double)v * 1.000001).ToArray();
        double[] b = RandomValues(bShape, random).Select(v => (double)v).ToArray();
        Check<double, AddVectors<double>>(a, aShape, b, bShape, (x, y) => x + y);
        Check<double, DivideVectors<double>>(a, aShape, b, bShape, (x, y) => x / y);
    }

    [Fact]
    public void Special_values_propagate_as_in_scalar_arithmetic()
    {
        float[] a = { float.NaN, float.PositiveInfinity, 1, -0f, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
        float[] b = { 1, float.NegativeInfinity, 0, 0, -0f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, float.NaN };
        int[] shape = { a.Length };
        Check<float, AddVectors<float>>(a, shape, b, shape, (x, y) => x + y);
        Check<float, DivideVectors<float>>(a, shape, b, shape, (x, y) => x / y);
    }

    [Fact]
    public void Output_may_be_the_first_input()
    {
        int[] shape = { 1, 8, 9, 9 }, channel = { 1, 8, 1, 1 };
        var random = new Random(5);
        float[] a = RandomValues(shape, random), b = RandomValues(channel, random);
        float[] expected = Direct(a, shape, b, channel, shape, (x, y) => x * y);
        VectorBroadcast.Binary<float, MultiplyVectors<float>>(a, shape, b, channel, a, shape);
        Assert.Equal(expected, a);
    }

    static void Check<T, TOp>(T[] a, int[] aShape, T[] b, int[] bShape, Func<T, T, T> scalar)
        where T : unmanaged where TOp : struct, IVectorBinaryOperator<T>
    {
        int[] yShape = BroadcastShape(aShape, bShape);
        T[] expected = Direct(a, aShape, b, bShape, yShape, scalar);
        var actual = new T[expected.Length];
        VectorBroadcast.Binary<T, TOp>(a, aShape, b, bShape, actual, yShape);
        Assert.Equal(expected, actual);
    }

    static T[] Direct<T>(T[] a, int[] aShape, T[] b, int[] bShape, int[] yShape, Func<T, T, T> scalar)
    {
        int count = yShape.Aggregate(1, (p, d) => p * d);
        var y = new T[count];
        var index = new int[yShape.Length];
        for (int i = 0; i < count; i++)
        {
            for (int d = yShape.Length - 1, rest = i; d >= 0; d--) { index[d] = rest % yShape[d]; rest /= yShape[d]; }
            y[i] = scalar(a[Offset(aShape, index)], b[Offset(bShape, index)]);
        }
        return y;
    }

    static int Offset(int[] shape, int[] index)
    {
        int offset = 0, skip = index.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++) offset = offset * shape[d] + (shape[d] == 1 ? 0 : index[d + skip]);
        return offset;
    }

    static int[] BroadcastShape(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var y = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int ad = d - (rank - a.Length), bd = d - (rank - b.Length);
            int x = ad >= 0 ? a[ad] : 1, z = bd >= 0 ? b[bd] : 1;
            y[d] = x == 1 ? z : x;
        }
        return y;
    }

    static float[] RandomValues(int[] shape, Random random) =>
        Enumerable.Range(0, shape.Aggregate(1, (p, d) => p * d)).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
}
