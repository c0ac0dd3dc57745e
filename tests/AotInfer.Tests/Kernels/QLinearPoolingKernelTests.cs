using System;
using System.Linq;
using AotInfer.Kernels.Quantization;
using Xunit;

namespace AotInfer.Tests.Kernels;

/// <summary>
/// The byte sum behind QLinearGlobalAveragePool (<see cref="QLinearPooling.Sum{T}"/>) on every tier, forced in turn,
/// against a plain loop: every length 0…300 (every masked tail, one and several 32-byte steps), long planes,
/// all-maximum and all-minimum bytes (no lane may overflow), u8 and s8.
/// </summary>
[Collection(AotInfer.Tests.Support.TierForcingCollection.Name)]
public class QLinearPoolingKernelTests
{
    [Theory]
    [MemberData(nameof(ForcedTier.All), MemberType = typeof(ForcedTier))]
    public void ByteSumMatchesAPlainLoop(QuantizedGemmTier tier) => ForcedTier.Run(tier, () =>
    {
        var random = new Random(41);
        foreach (int length in Enumerable.Range(0, 301).Concat(new[] { 4096, 4097, 12544, 100_003 }))
        {
            foreach (string fill in new[] { "random", "maximum", "minimum" })
            {
                byte[] unsigned = Enumerable.Range(0, length).Select(_ => fill switch { "maximum" => (byte)255, "minimum" => (byte)0, _ => (byte)random.Next(256) }).ToArray();
                sbyte[] signed = unsigned.Select(b => fill switch { "maximum" => sbyte.MaxValue, "minimum" => sbyte.MinValue, _ => (sbyte)b }).ToArray();
                Assert.True(unsigned.Sum(b => b) == QLinearPooling.Sum<byte>(unsigned), $"tier {tier} u8 length {length} {fill}");
                Assert.True(signed.Sum(b => b) == QLinearPooling.Sum<sbyte>(signed), $"tier {tier} s8 length {length} {fill}");
            }
        }
    });
}
