using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using AotInfer.Cli;
using AotInfer.Cli.Optimize;
using AotInfer.Onnx;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>The <c>finetune</c> verb end to end on a small MLP and an IDX dataset written by the test.</summary>
public class FinetuneCommandTests
{
    public FinetuneCommandTests() => Progress.Enabled = false;

    /// <summary>A [N,4,4] IDX dataset of noise where the label's column (0..2) is brighter.</summary>
    static (string Images, string Labels) WriteDataset(string directory, int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 16];
        var labels = new byte[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = (byte)random.Next(3);
            for (int i = 0; i < 16; i++) pixels[n * 16 + i] = (byte)(random.Next(128) + (i % 4 == labels[n] ? 100 : 0));
        }
        static byte[] BigEndian(int v) => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v };
        string images = Path.Combine(directory, "images.idx"), labelsPath = Path.Combine(directory, "labels.idx");
        File.WriteAllBytes(images, new byte[] { 0, 0, 8, 3 }.Concat(BigEndian(count)).Concat(BigEndian(4)).Concat(BigEndian(4)).Concat(pixels).ToArray());
        File.WriteAllBytes(labelsPath, new byte[] { 0, 0, 8, 1 }.Concat(BigEndian(count)).Concat(labels).ToArray());
        return (images, labelsPath);
    }

    static string WriteModel(string directory)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 1, 4, 4)
            .Initializer("w1", Differential.RandomFloats(1, 16 * 12, -0.4f, 0.4f), 12, 16)
            .Initializer("b1", new float[12], 12)
            .Initializer("w2", Differential.RandomFloats(2, 12 * 3, -0.4f, 0.4f), 3, 12)
            .Initializer("b2", new float[3], 3)
            .Node("Flatten", new[] { "x" }, new[] { "f" })
            .Node("Gemm", new[] { "f", "w1", "b1" }, new[] { "h" }, ("transB", 1L))
            .Node("Relu", new[] { "h" }, new[] { "r" })
            .Node("Gemm", new[] { "r", "w2", "b2" }, new[] { "y" }, ("transB", 1L))
            .Output("y", DataType.Float)
            .Build();
        string path = Path.Combine(directory, "mlp.onnx");
        ModelWriter.Write(model, path);
        return path;
    }

    [Fact]
    public void PrunesFineTunesAndWritesAModelOnnxRuntimeRuns()
    {
        using var temporary = new TemporaryDirectory("finetune");
        string dir = temporary.Path;
        var (images, labels) = WriteDataset(dir, 300, 1);
        string model = WriteModel(dir), output = Path.Combine(dir, "out.onnx"), json = Path.Combine(dir, "out.json");
        var args = Arguments.Parse(new[]
        {
            model, "-o", output, "--dataset", $"idx:{images},{labels}", "--test", $"idx:{images},{labels}", "--epochs", "4", "--batch", "16",
            "--lr", "0.01", "--optimizer", "momentum", "--schedule", "cosine", "--prune", "0.5", "--prune-steps", "2", "--json", json,
        });
        Assert.Equal(0, FinetuneCommand.Run(args));

        var trained = ModelWriter.Load(output);
        var editor = new GraphEditor(trained);
        var weights = editor.ReadFloat("w1")!.As<float>().Concat(editor.ReadFloat("w2")!.As<float>()).ToArray();
        Assert.InRange(weights.Count(w => w == 0) / (double)weights.Length, 0.49, 0.52);
        var input = Differential.RandomFloats(3, 16, 0, 1);
        Differential.AssertAgrees(trained.ToByteArray(), 1e-4, 1e-5, (new[] { 1, 1, 4, 4 }, input));

        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var rounds = report.RootElement.GetProperty("rounds");
        Assert.Equal(2, rounds.GetArrayLength());
        var lastEpoch = rounds[1].GetProperty("epochs")[3];
        // The bands are easy to learn: the pruned, fine-tuned MLP must beat chance (1/3) by far (it reaches about 0.8).
        Assert.True(lastEpoch.GetProperty("testAccuracy").GetDouble() > 0.6, lastEpoch.ToString());
    }

    [Theory]
    [InlineData("--optimizer", "rmsprop", "--optimizer 'rmsprop'")]
    [InlineData("--schedule", "step", "--schedule 'step'")]
    [InlineData("--prune", "1.5", "--prune must be")]
    [InlineData("--epochs", "0", "--epochs must be")]
    public void BadOptionsAreUsageErrors(string option, string value, string message)
    {
        using var temporary = new TemporaryDirectory("finetune-bad");
        string dir = temporary.Path;
        var (images, labels) = WriteDataset(dir, 10, 2);
        string model = WriteModel(dir);
        var args = Arguments.Parse(new[] { model, "-o", Path.Combine(dir, "o.onnx"), "--dataset", $"idx:{images},{labels}", option, value });
        var e = Assert.Throws<UsageException>(() => FinetuneCommand.Run(args));
        Assert.Contains(message, e.Message);
    }
}
