using System.Linq;
using AotInfer.Optimize.Clustering;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Pruning;
using AotInfer.Optimize.Quantization;
using AotInfer.Optimize.Reporting;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>The stored-size estimate behind the report's compression ratios: each encoding priced exactly.</summary>
public class StoredSizeTests
{
    [Fact]
    public void DenseFloatCostsThirtyTwoBitsPerValue()
    {
        var values = Differential.RandomFloats(1, 1000);
        Assert.Equal(32L * 1000, StoredSize.Bits(values, 32, new[] { 10, 100 }, 0));
    }

    [Fact]
    public void SixteenValuesCostFourBitIndicesAndACodebook()
    {
        var values = Enumerable.Range(0, 1000).Select(i => (float)(i % 16) + 1.1f).ToArray();
        Assert.Equal(4L * 1000 + 16 * 32, StoredSize.Bits(values, 32, new[] { 10, 100 }, 0));
    }

    /// <summary>A codebook of float16 values (<c>cluster --codebook fp16</c>) costs 16 bits per entry; one entry that is not a half brings 32 back.</summary>
    [Fact]
    public void Float16CodebooksCostSixteenBitsPerEntry()
    {
        var values = Enumerable.Range(0, 1000).Select(i => (float)(i / 100 * 100 + i % 16) + 0.5f).ToArray();
        Assert.Equal(4L * 1000 + 10 * 16 * 16, StoredSize.Bits(values, 32, new[] { 10, 100 }, 0));
        float first = values[0];
        values = values.Select(v => v == first ? 0.1f : v).ToArray(); // still 16 per channel, one entry not a half
        Assert.Equal(4L * 1000 + 10 * 16 * 32, StoredSize.Bits(values, 32, new[] { 10, 100 }, 0));
    }

    [Fact]
    public void PerChannelPalettesPayOneCodebookPerChannel()
    {
        // 10 channels of 100 values, 16 distinct per channel but 160 over the tensor.
        var values = Enumerable.Range(0, 1000).Select(i => (float)(i / 100 * 100 + i % 16) + 0.1f).ToArray();
        Assert.Equal(4L * 1000 + 10 * 16 * 32, StoredSize.Bits(values, 32, new[] { 10, 100 }, 0));
    }

    [Fact]
    public void SparseValuesPayAFiveBitGapAndPaddingForLongGaps()
    {
        // 40 random non-zeros among 4000 (every 100th): each gap of 99 zeros needs 3 padding entries (at 32, 64 and 96
        // zeros). The 41 distinct values (zero included) take 6-bit palette indices and a 41-entry float codebook.
        var values = new float[4000];
        var random = Differential.RandomFloats(2, 40, 0.5f, 1f);
        for (int i = 0; i < 40; i++) values[i * 100 + 99] = random[i];
        long entries = 40 + 40 * 3;
        Assert.Equal(entries * (6 + StoredSize.GapBits) + 41 * 32, StoredSize.Bits(values, 32, new[] { 4000 }, 0));
    }

    [Fact]
    public void OptimisedModelsStoreFewerBytesAndQuantisedWeightsAreFound()
    {
        var model = OptimizeTestModels.SmallCnn();
        ModelFolding.Fold(model);
        var float32 = StoredSize.Estimate(model);
        Assert.Equal(4L * (72 + 108 + 540), float32.WeightBytes);
        var clustered = model.Clone();
        WeightClustering.Cluster(clustered, 4, perChannel: false);
        Assert.True(StoredSize.Estimate(clustered).WeightBytes < float32.WeightBytes / 8);
        var pruned = model.Clone();
        MagnitudePruning.Prune(pruned, 0.9, global: true);
        Assert.Equal(72, StoredSize.Estimate(pruned).NonZeroWeights);
        var qdq = model.Clone();
        StaticQuantizer.Quantize(qdq, OptimizeTestModels.Samples(8), new QuantizeSettings { ReportSamples = 0 }, (m, d, e) => new AotInfer.Cli.Optimize.OnnxRuntimeRunner(m, d, e));
        Assert.Equal(720, WeightValues.Find(qdq).Sum(w => w.Values.Length));
        Assert.True(StoredSize.Estimate(qdq).Bytes < float32.Bytes / 3);
    }
}
