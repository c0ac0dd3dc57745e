using System.IO;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Optimize.Clustering;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Pruning;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>fold, prune and cluster: every written model loads in ONNX Runtime, and AotInfer agrees with it.</summary>
public class TransformTests
{
    [Fact]
    public void WrittenModelRoundTripsAndKeepsOpsetsAndNames()
    {
        var model = OptimizeTestModels.SmallCnn();
        using var temporary = new TemporaryDirectory("writer");
        string path = temporary.PathOf("m.onnx");
        ModelWriter.Write(model, path);
        var loaded = ModelWriter.Load(path);
        Assert.Equal(model, loaded);
        Assert.Equal(model.OpsetImport, loaded.OpsetImport);
        var input = OptimizeTestModels.Input(1);
        Assert.Equal(OptimizeTestModels.RunOrt(model, input), OptimizeTestModels.RunOrt(loaded, input));
    }

    [Fact]
    public void FoldingRemovesBatchNormIdentityDropoutAndKeepsOutputs()
    {
        var model = OptimizeTestModels.SmallCnn();
        var folded = model.Clone();
        var report = ModelFolding.Fold(folded);
        Assert.Equal(1, report.BatchNormsFolded);
        Assert.Equal(2, report.PassThroughsRemoved);
        Assert.DoesNotContain(folded.Graph.Node, n => n.OpType is "BatchNormalization" or "Identity" or "Dropout");
        Assert.Equal("y", folded.Graph.Output[0].Name);
        for (int seed = 1; seed <= 3; seed++)
        {
            var input = OptimizeTestModels.Input(seed);
            Assert.True(OptimizeTestModels.MaxDifference(OptimizeTestModels.RunOrt(model, input), OptimizeTestModels.RunOrt(folded, input)) < 1e-4);
        }
        Differential.AssertAgrees(folded.ToByteArray(), inputs: (OptimizeTestModels.InputShape, OptimizeTestModels.Input(9)));
    }

    [Fact]
    public void GemmBatchNormFoldsWithAlphaAndBeta()
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2, 6)
            .Initializer("w", Differential.RandomFloats(1, 24), 6, 4)
            .Initializer("c", Differential.RandomFloats(2, 4), 4)
            .Initializer("gamma", Differential.RandomFloats(3, 4, 0.5f, 1.5f), 4)
            .Initializer("beta", Differential.RandomFloats(4, 4), 4)
            .Initializer("mean", Differential.RandomFloats(5, 4), 4)
            .Initializer("var", Differential.RandomFloats(6, 4, 0.5f, 2f), 4)
            .Node("Gemm", new[] { "x", "w", "c" }, new[] { "g" }, ("alpha", 0.5f), ("beta", 2f))
            .Node("BatchNormalization", new[] { "g", "gamma", "beta", "mean", "var" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        var folded = model.Clone();
        Assert.Equal(1, ModelFolding.Fold(folded).BatchNormsFolded);
        var input = Differential.RandomFloats(7, 12);
        var expected = (float[])Differential.RunOnnxRuntime(model.ToByteArray(), (new[] { 2, 6 }, input))[0];
        var actual = (float[])Differential.RunOnnxRuntime(folded.ToByteArray(), (new[] { 2, 6 }, input))[0];
        Assert.True(OptimizeTestModels.MaxDifference(expected, actual) < 1e-4);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MagnitudePruningReachesTheSparsity(bool global)
    {
        var model = OptimizeTestModels.SmallCnn();
        var layers = MagnitudePruning.Prune(model, 0.5, global);
        Assert.Equal(3, layers.Count);
        double sparsity = (double)layers.Sum(l => l.Zeros) / layers.Sum(l => l.Weights);
        Assert.InRange(sparsity, 0.499, 0.501);
        if (!global) Assert.All(layers, l => Assert.InRange(l.Sparsity, 0.49, 0.51));
        // The largest weights survive: a pruned weight is never larger than a kept one of the same layer.
        var graph = new GraphEditor(model);
        var w = graph.ReadFloat("w3")!.As<float>();
        var original = new GraphEditor(OptimizeTestModels.SmallCnn()).ReadFloat("w3")!.As<float>();
        float largestPruned = original.Where((v, i) => w[i] == 0).Max(System.Math.Abs);
        float smallestKept = w.Where(v => v != 0).Min(System.Math.Abs);
        Assert.True(largestPruned <= smallestKept);
        Differential.AssertAgrees(model.ToByteArray(), inputs: (OptimizeTestModels.InputShape, OptimizeTestModels.Input(2)));
    }

    [Fact]
    public void TwoOfFourKeepsTwoLargestOfEveryGroup()
    {
        var model = OptimizeTestModels.SmallCnn();
        MagnitudePruning.PruneNofM(model, 2, 4);
        var w = new GraphEditor(model).ReadFloat("w3")!.As<float>();
        for (int start = 0; start < w.Length; start += 4) Assert.Equal(2, w.Skip(start).Take(4).Count(v => v != 0));
        Differential.AssertAgrees(model.ToByteArray(), inputs: (OptimizeTestModels.InputShape, OptimizeTestModels.Input(3)));
    }

    [Fact]
    public void StructuredPruningRemovesChannelsAndRewiresTheNextLayers()
    {
        var model = OptimizeTestModels.SmallCnn();
        var steps = StructuredPruning.Prune(model, 0.25);
        // Conv1 (4 → 3, BN sliced, Conv2 inputs rewired) and Conv2 (3 → 2, Gemm features after Flatten rewired);
        // the Gemm feeds the graph output and keeps its neurons.
        Assert.Equal(2, steps.Count);
        var graph = new GraphEditor(model);
        var conv1 = graph.Graph.Node.First(n => n.OpType == "Conv");
        Assert.Equal(new long[] { 3, 2, 3, 3 }, graph.Initializer(conv1.Input[1])!.Dims);
        var gemm = graph.Graph.Node.First(n => n.OpType == "Gemm");
        Assert.Equal(new long[] { 5, 2 * 36 }, graph.Initializer(gemm.Input[1])!.Dims);
        var output = OptimizeTestModels.RunOrt(model, OptimizeTestModels.Input(4));
        Assert.Equal(5, output.Length);
        Differential.AssertAgrees(model.ToByteArray(), inputs: (OptimizeTestModels.InputShape, OptimizeTestModels.Input(4)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ClusteringLeavesAtMostKValues(bool perChannel)
    {
        var model = OptimizeTestModels.SmallCnn();
        var layers = WeightClustering.Cluster(model, 4, perChannel);
        var graph = new GraphEditor(model);
        foreach (var layer in WeightedLayer.Find(graph))
        {
            var w = graph.ReadFloat(layer.WeightName)!.As<float>();
            if (perChannel)
                for (int o = 0; o < layer.OutputCount; o++) Assert.True(Enumerable.Range(0, layer.UnitSize).Select(j => w[layer.Index(o, j)]).Distinct().Count() <= 4);
            else Assert.True(w.Distinct().Count() <= 4);
        }
        Assert.All(layers, l => Assert.True(l.Sqnr > 5, $"{l.Layer}: SQNR {l.Sqnr}"));
        Differential.AssertAgrees(model.ToByteArray(), inputs: (OptimizeTestModels.InputShape, OptimizeTestModels.Input(5)));
    }

    [Fact]
    public void ClusteringKeepsPrunedZeros()
    {
        var values = new float[] { 0, 0, 1, 1.1f, 5, 5.2f, -3, 0 };
        WeightClustering.ClusterInPlace(values, 3, new System.Random(1), 20);
        Assert.Equal(0, values[0]);
        Assert.Equal(0, values[7]);
        Assert.True(values.Distinct().Count() <= 3);
    }

    /// <summary>
    /// A float16 codebook: every centroid returned and every clustered value is exactly a half, at most k of them, and
    /// each value went to the nearest rounded centroid (zeros stay zeros).
    /// </summary>
    [Theory]
    [InlineData(ClusterInit.KMeansPlusPlus)]
    [InlineData(ClusterInit.Optimal)]
    public void Float16CodebookCentroidsAreExactHalvesAndNearest(ClusterInit init)
    {
        var original = Differential.RandomFloats(21, 3000, -0.3f, 0.3f);
        for (int i = 0; i < original.Length; i += 7) original[i] = 0;
        var values = (float[])original.Clone();
        var centroids = WeightClustering.ClusterInPlace(values, 16, new System.Random(2), 30, init, CodebookPrecision.Float16);
        Assert.InRange(centroids.Length, 2, 15);
        Assert.All(centroids, c => Assert.Equal(c, (float)(System.Half)c));
        Assert.True(values.Distinct().Count() <= 16);
        for (int i = 0; i < values.Length; i++)
        {
            if (original[i] == 0) { Assert.Equal(0, values[i]); continue; }
            Assert.Contains(values[i], centroids);
            float error = System.Math.Abs(original[i] - values[i]);
            Assert.All(centroids, c => Assert.True(error <= System.Math.Abs(original[i] - c), $"{original[i]} went to {values[i]}, {c} is nearer"));
        }
    }
}
