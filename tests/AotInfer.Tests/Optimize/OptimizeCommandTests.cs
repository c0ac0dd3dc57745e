using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using AotInfer.Cli;
using AotInfer.Cli.Optimize;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Clustering;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Folding;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Pruning;
using AotInfer.Optimize.Quantization;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;

namespace AotInfer.Tests.Optimize;

/// <summary>The quantize / prune --rank / report verbs on small models written to disk: success paths and one test per bad input.</summary>
public class OptimizeCommandTests(ITestOutputHelper output)
{
    /// <summary>A folder with the folded small CNN (model.onnx) and a 24-sample dataset as TensorProto files.</summary>
    sealed class Workspace : IDisposable
    {
        readonly TemporaryDirectory _directory = new("aotinfer-optimize");

        public Workspace()
        {
            var model = OptimizeTestModels.SmallCnn();
            ModelFolding.Fold(model);
            Model = Path.Combine(Directory, "model.onnx");
            ModelWriter.Write(model, Model);
            var samples = OptimizeTestModels.Samples(24);
            var pixels = Enumerable.Range(0, samples.Count).SelectMany(i => samples.Sample(i).ToArray()).ToArray();
            string images = Path.Combine(Directory, "images.pb"), labels = Path.Combine(Directory, "labels.pb");
            File.WriteAllBytes(images, TensorProtoReader.Write(new Tensor(DataType.Float, new[] { samples.Count, 2, 6, 6 }, pixels), "images").ToByteArray());
            File.WriteAllBytes(labels, TensorProtoReader.Write(new Tensor(DataType.Int64, new[] { samples.Count }, samples.Labels.Select(l => (long)l).ToArray()), "labels").ToByteArray());
            Dataset = $"pb:{images},{labels}";
        }

        public string Directory => _directory.Path;

        public void Dispose() => _directory.Dispose();
        public string Model { get; }
        public string Dataset { get; }

        public string PathOf(string name) => Path.Combine(Directory, name);
    }

    static Arguments Args(params string[] args) =>
        Arguments.Parse(args, "--quiet", "--global", "--per-layer", "--per-channel", "--symmetric", "--dynamic", "--rank");

    [Fact]
    public void QuantizeWritesQOperatorAndDynamicModelsThatOnnxRuntimeRuns()
    {
        using var w = new Workspace();
        string qop = w.PathOf("qop.onnx"), dynamic = w.PathOf("dynamic.onnx");
        Assert.Equal(0, QuantizeCommand.Run(Args(w.Model, "-o", qop, "--dataset", w.Dataset, "--format", "qoperator", "--per-channel", "--report-samples", "4")));
        Assert.Equal(0, QuantizeCommand.Run(Args(w.Model, "-o", dynamic, "--dynamic", "--per-channel")));
        Assert.Contains(ModelWriter.Load(qop).Graph.Node, n => n.OpType == "QLinearConv");
        Assert.Contains(ModelWriter.Load(dynamic).Graph.Node, n => n.OpType == "MatMulInteger");
        foreach (var path in new[] { qop, dynamic })
            Assert.Equal(5, OptimizeTestModels.RunOrt(ModelWriter.Load(path), OptimizeTestModels.Input(1)).Length);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("bogus:/tmp")]
    [InlineData("idx:only-one-file")]
    public void QuantizeRejectsABadDatasetSpec(string spec)
    {
        using var w = new Workspace();
        var e = Assert.Throws<UsageException>(() => QuantizeCommand.Run(Args(w.Model, "-o", w.PathOf("q.onnx"), "--dataset", spec)));
        Assert.Contains(spec.Split(':')[0], e.Message);
    }

    [Fact]
    public void QuantizeRejectsAnUnknownFormat()
    {
        using var w = new Workspace();
        var e = Assert.Throws<UsageException>(() => QuantizeCommand.Run(Args(w.Model, "-o", w.PathOf("q.onnx"), "--dataset", w.Dataset, "--format", "qgemm")));
        Assert.Contains("'qgemm'", e.Message);
    }

    [Fact]
    public void QuantizeRejectsAnUnknownExcludedNode()
    {
        using var w = new Workspace();
        var e = Assert.Throws<ArgumentException>(() => QuantizeCommand.Run(Args(w.Model, "-o", w.PathOf("q.onnx"), "--dataset", w.Dataset, "--exclude", "Conv_0,not_a_node")));
        Assert.Contains("'not_a_node'", e.Message);
        Assert.DoesNotContain("'Conv_0'", e.Message);
    }

    [Fact]
    public void DynamicQuantizeRejectsCalibrationOptions()
    {
        using var w = new Workspace();
        var e = Assert.Throws<UsageException>(() => QuantizeCommand.Run(Args(w.Model, "-o", w.PathOf("q.onnx"), "--dynamic", "--dataset", w.Dataset)));
        Assert.Contains("--dataset", e.Message);
    }

    [Fact]
    public void RankNeedsADatasetAValidSparsityAndNoOutput()
    {
        using var w = new Workspace();
        Assert.Contains("--dataset", Assert.Throws<UsageException>(() => RankCommand.Run(Args(w.Model, "--rank"))).Message);
        Assert.Contains("--sparsity", Assert.Throws<UsageException>(() => RankCommand.Run(Args(w.Model, "--rank", "--dataset", w.Dataset, "--sparsity", "1.5"))).Message);
        Assert.Contains("-o", Assert.Throws<UsageException>(() => RankCommand.Run(Args(w.Model, "--rank", "--dataset", w.Dataset, "-o", w.PathOf("x.onnx")))).Message);
    }

    [Fact]
    public void RankWritesOneRowPerLayer()
    {
        using var w = new Workspace();
        string json = w.PathOf("rank.json");
        Assert.Equal(0, RankCommand.Run(Args(w.Model, "--rank", "--dataset", w.Dataset, "--sparsity", "0.7", "--runtime", "ort", "--json", json)));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var drops = doc.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("drop").GetDouble()).ToList();
        Assert.Equal(3, drops.Count);
        Assert.Equal(drops.OrderByDescending(d => d), drops);
    }

    [Fact]
    public void ReportRejectsMissingModelsOutputAndDataset()
    {
        using var w = new Workspace();
        Assert.Contains("does not exist", Assert.Throws<UsageException>(() => ReportCommand.Run(Args(w.Model, w.PathOf("missing.onnx"), "--dataset", w.Dataset, "-o", w.PathOf("r.html")))).Message);
        Assert.Contains("-o", Assert.Throws<UsageException>(() => ReportCommand.Run(Args(w.Model, "--dataset", w.Dataset))).Message);
        Assert.Contains("bogus", Assert.Throws<UsageException>(() => ReportCommand.Run(Args(w.Model, "--dataset", "bogus:x", "-o", w.PathOf("r.html")))).Message);
    }

    /// <summary><c>cluster --codebook fp16</c> writes weights that are all halves; the default keeps float32 centroids; other values are refused.</summary>
    [Fact]
    public void ClusterCodebookFp16WritesHalvesAndRejectsOtherPrecisions()
    {
        using var w = new Workspace();
        string fp16 = w.PathOf("c16.onnx"), fp32 = w.PathOf("c32.onnx");
        Assert.Equal(0, TransformCommands.Cluster(Args(w.Model, "-o", fp16, "--k", "4", "--per-channel", "--codebook", "fp16")));
        Assert.Equal(0, TransformCommands.Cluster(Args(w.Model, "-o", fp32, "--k", "4", "--per-channel")));
        static float[] Weights(string path)
        {
            var graph = new GraphEditor(ModelWriter.Load(path));
            return WeightedLayer.Find(graph).SelectMany(l => graph.ReadFloat(l.WeightName)!.As<float>()).ToArray();
        }
        Assert.All(Weights(fp16), v => Assert.Equal(v, (float)(Half)v));
        Assert.Contains(Weights(fp32), v => v != (float)(Half)v);
        var e = Assert.Throws<UsageException>(() => TransformCommands.Cluster(Args(w.Model, "-o", w.PathOf("x.onnx"), "--codebook", "bf16")));
        Assert.Contains("--codebook 'bf16' must be fp32 or fp16", e.Message);
    }

    /// <summary>A model the compiler does not support is still clustered (the generated size is only reported when it compiles).</summary>
    [Fact]
    public void ClusterWorksOnModelsAotInferCannotCompile()
    {
        using var w = new Workspace();
        var model = new OnnxModelBuilder(13).Input("x", DataType.Float, 1, 80)
            .Initializer("w", Differential.RandomFloats(3, 800), 10, 80)
            .Node("Gemm", new[] { "x", "w" }, new[] { "g" }, ("transB", 1L))
            .Node("Unique", new[] { "g" }, new[] { "y" })
            .Output("y", DataType.Float).Build();
        string input = w.PathOf("unsupported.onnx"), output = w.PathOf("unsupported_c4.onnx");
        ModelWriter.Write(model, input);
        Assert.Equal(0, TransformCommands.Cluster(Args(input, "-o", output, "--k", "4", "--codebook", "fp16")));
        var weights = new GraphEditor(ModelWriter.Load(output)).ReadFloat("w")!.As<float>();
        Assert.InRange(weights.Distinct().Count(), 2, 4);
    }

    /// <summary>
    /// The report of a model and three variants, rendered by headless Chromium: the DOM holds the four plots, each
    /// with drawn paths, and the screenshot is a real picture (many colours, not all background).
    /// </summary>
    [Fact]
    public void ReportRendersFourPlotsInHeadlessChromium()
    {
        using var w = new Workspace();
        ModelRunnerFactory ort = (m, d, e) => new OnnxRuntimeRunner(m, d, e);
        var pruned = ModelWriter.Load(w.Model);
        MagnitudePruning.Prune(pruned, 0.5, global: true);
        ModelWriter.Write(pruned, w.PathOf("pruned50.onnx"));
        var clustered = ModelWriter.Load(w.Model);
        WeightClustering.Cluster(clustered, 4, perChannel: false);
        ModelWriter.Write(clustered, w.PathOf("cluster4.onnx"));
        var quantized = ModelWriter.Load(w.Model);
        StaticQuantizer.Quantize(quantized, OptimizeTestModels.Samples(16), new QuantizeSettings { PerChannel = true, ReportSamples = 8 }, ort);
        ModelWriter.Write(quantized, w.PathOf("qdq.onnx"));

        string html = w.PathOf("report.html"), json = w.PathOf("report.json"), baseModel = w.PathOf("base.onnx");
        File.Copy(w.Model, baseModel);
        Assert.Equal(0, ReportCommand.Run(Args(baseModel, w.PathOf("pruned50.onnx"), w.PathOf("cluster4.onnx"), w.PathOf("qdq.onnx"),
            "--dataset", w.Dataset, "-o", html, "--latency-runs", "5", "--json", json)));
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            var variants = doc.RootElement.GetProperty("variants").EnumerateArray().ToList();
            Assert.Equal(new[] { "base", "pruned50", "cluster4", "qdq" }, variants.Select(v => v.GetProperty("name").GetString()));
            long stored(int i) => variants[i].GetProperty("storedBytes").GetInt64();
            Assert.True(stored(1) < stored(0) && stored(2) < stored(0) && stored(3) < stored(0), "every variant stores fewer bytes than the float model");
            // The generator stores the 4-valued weights as palettes and indices: the clustered class really is smaller.
            long generated(int i) => variants[i].GetProperty("generatedWeightBytes").GetInt64();
            Assert.True(generated(2) < generated(0), $"clustered model: {generated(2)} generated weight bytes, float model {generated(0)}");
            Assert.Equal(3, variants[3].GetProperty("layerErrors").GetArrayLength());
            Assert.All(variants, v => Assert.True(v.GetProperty("latencyMicroseconds").GetDouble() > 0));
        }
        string page = File.ReadAllText(html);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/2000/svg", ""));
        Assert.DoesNotContain("https://", page);

        string dom = HeadlessChromium.DumpDom(html);
        var plots = Regex.Matches(dom, "<svg class=\"plot\" id=\"([a-z-]+)\".*?</svg>", RegexOptions.Singleline);
        Assert.Equal(new[] { "accuracy-vs-size", "accuracy-vs-latency", "layer-error", "weight-histogram" }, plots.Select(m => m.Groups[1].Value));
        foreach (Match plot in plots)
        {
            var paths = Regex.Matches(plot.Value, "<path class=\"(series|point)\" d=\"M[^\"]{8,}\"");
            // Scatter plots: a line and one mark per model; bars: the one quantised variant; histograms: one line per model.
            int expected = plot.Groups[1].Value switch { "layer-error" => 1, "weight-histogram" => 4, _ => 5 };
            Assert.True(paths.Count == expected, $"plot {plot.Groups[1].Value} has {paths.Count} drawn paths, expected {expected}");
        }

        string png = w.PathOf("report.png");
        HeadlessChromium.Screenshot(html, png, 1400, 1000);
        output.WriteLine($"report screenshot: {png}");
        var (colors, foreground) = PngImage.Read(png).Variety();
        output.WriteLine($"{colors} colours, {foreground:P1} of the pixels not background");
        Assert.True(colors > 50, $"the screenshot has only {colors} colours");
        Assert.True(foreground > 0.05, $"only {foreground:P1} of the screenshot differs from the background");
    }
}
