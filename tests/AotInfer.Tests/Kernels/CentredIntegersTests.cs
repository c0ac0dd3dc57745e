using System;
using System.Linq;
using AotInfer.Kernels.Sparse;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>The conversions around the int8 sparse product: every length 0…40 (vector body and tail), both signednesses, with and without a zero point; exact.</summary>
public class CentredIntegersTests
{
    [Fact]
    public void CentreSubtractsTheZeroPointExactly()
    {
        var random = new Random(71);
        for (int length = 0; length <= 40; length++)
        {
            var unsigned = Enumerable.Range(0, length).Select(_ => (byte)random.Next(256)).ToArray();
            var signed = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
            foreach (byte zero in new byte[] { 0, 255, 128 })
            {
                var centred = Enumerable.Repeat(float.NaN, length + 1).ToArray();
                CentredIntegers.Centre<byte>(unsigned, new[] { zero }, centred);
                Assert.Equal(unsigned.Select(v => (float)(v - zero)), centred.Take(length));
                Assert.True(float.IsNaN(centred[length]), $"length {length}: wrote past the end");
            }
            foreach (sbyte zero in new sbyte[] { -128, 127, 5 })
            {
                var centred = new float[length];
                CentredIntegers.Centre<sbyte>(signed, new[] { zero }, centred);
                Assert.Equal(signed.Select(v => (float)(v - zero)), centred);
            }
            var noZero = new float[length];
            CentredIntegers.Centre<sbyte>(signed, ReadOnlySpan<sbyte>.Empty, noZero);
            Assert.Equal(signed.Select(v => (float)v), noZero);
        }
    }

    [Fact]
    public void ToIntegersKeepsEveryIntegerBelowTwoToThe24()
    {
        var random = new Random(72);
        for (int length = 0; length <= 40; length++)
        {
            var values = Enumerable.Range(0, length).Select(i => i % 5 == 0 ? (1 << 24) - i : random.Next(-(1 << 24), 1 << 24)).ToArray();
            var acc = new int[length];
            CentredIntegers.ToIntegers(values.Select(v => (float)v).ToArray(), acc);
            Assert.Equal(values, acc);
        }
        Assert.Throws<ArgumentException>(() => CentredIntegers.ToIntegers(new float[3], new int[2]));
        Assert.Throws<ArgumentException>(() => CentredIntegers.Centre<byte>(new byte[3], ReadOnlySpan<byte>.Empty, new float[2]));
    }
}
