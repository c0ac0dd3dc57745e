using Xunit;

namespace AotInfer.Tests.Support;

/// <summary>
/// Test classes that force <c>MatrixMultiply.Tier</c>, <c>QuantizedMatrixMultiply.Tier</c> or
/// <c>SparseMatrixMultiply.Tier</c> (process-wide settings) to sweep every instruction-set tier.
/// They run on their own, after the parallel tests: a model test running meanwhile would compute part of its outputs on
/// a lower tier, whose sums round differently (ThreadedModelTests compares outputs bit for bit).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TierForcingCollection
{
    /// <summary>The collection's name, for <c>[Collection]</c>.</summary>
    public const string Name = "Tests that force a SIMD tier";
}
