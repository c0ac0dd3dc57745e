using System;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The vector paths of <see cref="QLinearAddOperator{T}"/> (same-shape spans) against its scalar element operation, on
/// every tier (AVX-512 and 128-bit loops, scalar tail): u8 and s8, random scales and zero points (ratios above and
/// below 1, so sums saturate at both ends), lengths around the 16-element step.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class QLinearAddKernelTests
{
    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void SpansMatchTheScalarOperationOnEveryTier(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(77);
        for (int trial = 0; trial < 60; trial++)
        {
            int length = random.Next(0, 100);
            float scaleA = (float)random.NextDouble() * 0.2f + 0.001f, scaleB = (float)random.NextDouble() * 0.2f + 0.001f;
            float scaleC = (float)random.NextDouble() * 0.2f + 0.001f;
            byte[] a = new byte[length], b = new byte[length];
            random.NextBytes(a);
            random.NextBytes(b);
            var unsigned = new QLinearAddOperator<byte>(scaleA, random.Next(256), scaleB, random.Next(256), scaleC, random.Next(256));
            var y = new byte[length];
            unsigned.Invoke(a, b, y);
            for (int i = 0; i < length; i++)
                Assert.True(y[i] == unsigned.Invoke(a[i], b[i]), $"tier {tier} u8 trial {trial} length {length}: element {i} is {y[i]}, expected {unsigned.Invoke(a[i], b[i])}");

            sbyte[] sa = Array.ConvertAll(a, v => (sbyte)v), sb = Array.ConvertAll(b, v => (sbyte)v);
            var signed = new QLinearAddOperator<sbyte>(scaleA, random.Next(-128, 128), scaleB, random.Next(-128, 128), scaleC, random.Next(-128, 128));
            var sy = new sbyte[length];
            signed.Invoke(sa, sb, sy);
            for (int i = 0; i < length; i++)
                Assert.True(sy[i] == signed.Invoke(sa[i], sb[i]), $"tier {tier} s8 trial {trial} length {length}: element {i} is {sy[i]}, expected {signed.Invoke(sa[i], sb[i])}");
        }
    });
}
