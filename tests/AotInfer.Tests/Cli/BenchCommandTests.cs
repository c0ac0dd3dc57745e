using System;
using System.IO;
using System.Text.Json;
using AotInfer.Cli;
using AotInfer.Onnx;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Cli;

/// <summary>The <c>bench</c> verb on a tiny model: it must verify, time both sides and write sane JSON.</summary>
public class BenchCommandTests
{
    static byte[] TinyModel()
    {
        var random = new Random(7);
        var weights = new float[16 * 8];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(random.NextDouble() - 0.5);
        return new OnnxModelBuilder()
            .Input("x", DataType.Float, 1, 16)
            .Initializer("w", weights, 16, 8)
            .Node("MatMul", new[] { "x", "w" }, new[] { "h" })
            .Node("Relu", new[] { "h" }, new[] { "y" })
            .Output("y", DataType.Float)
            .ToBytes();
    }

    [Fact]
    public void BenchWritesSaneJson()
    {
        string dir = Path.Combine(Path.GetTempPath(), "aotinfer-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string model = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(model, TinyModel());
            string json = Path.Combine(dir, "bench.json");
            var args = Arguments.Parse(new[] { model, "--vs", "onnxruntime", "--json", json, "--rounds", "3", "--round-ms", "2", "--warmup-ms", "50", "--quiet" }, "--quiet");
            Assert.Equal(0, BenchCommand.Run(args));

            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            double aot = root.GetProperty("aotinfer_us").GetDouble(), ort = root.GetProperty("ort_us").GetDouble();
            Assert.InRange(aot, 1e-3, 1e5);
            Assert.InRange(ort, 1e-3, 1e5);
            // The times are written rounded, the speedup from the unrounded medians: compare relatively.
            double speedup = root.GetProperty("speedup").GetDouble();
            Assert.InRange(speedup, ort / aot * 0.98, ort / aot * 1.02);
            Assert.Equal(0, root.GetProperty("allocated_bytes_per_run").GetDouble());
            Assert.Equal(3, root.GetProperty("rounds").GetInt32());
            // Whether the warm-up reached steady state is reported, not assumed (a loaded machine may not let it).
            Assert.True(root.TryGetProperty("warmup_settled", out var settled) && settled.ValueKind is JsonValueKind.True or JsonValueKind.False);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// <c>--inputs DIR</c> runs both sides on DIR's <c>input_0.pb</c> (here an input with zeros); a tensor of the wrong
    /// size or a missing file is an error naming the file and the model input, not a benchmark of something else.
    /// </summary>
    [Fact]
    public void BenchRunsOnGivenInputsAndRejectsOnesThatDoNotFit()
    {
        using var dir = new TemporaryDirectory("aotinfer-bench-inputs");
        string model = Path.Combine(dir.Path, "model.onnx");
        File.WriteAllBytes(model, TinyModel());
        string inputs = Path.Combine(dir.Path, "set");
        Directory.CreateDirectory(inputs);
        var x = new float[16];
        x[2] = 0.5f;
        x[9] = -1.5f;
        WriteTensor(Path.Combine(inputs, "input_0.pb"), new Tensor(DataType.Float, new[] { 1, 16 }, x));
        string[] common = { model, "--vs", "onnxruntime", "--inputs", inputs, "--rounds", "3", "--round-ms", "2", "--warmup-ms", "50", "--quiet" };
        Assert.Equal(0, BenchCommand.Run(Arguments.Parse(common, "--quiet"), TextWriter.Null));

        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            WriteTensor(Path.Combine(inputs, "input_0.pb"), new Tensor(DataType.Float, new[] { 1, 15 }, new float[15]));
            Assert.Equal(1, BenchCommand.Run(Arguments.Parse(common, "--quiet"), TextWriter.Null));
            Assert.Contains("input_0.pb: a Float tensor of 15 elements, but model input 'x' is Float with 16", error.ToString());
            File.Delete(Path.Combine(inputs, "input_0.pb"));
            Assert.Equal(1, BenchCommand.Run(Arguments.Parse(common, "--quiet"), TextWriter.Null));
            Assert.Contains("input_0.pb is missing (model input 0, 'x')", error.ToString());
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    static void WriteTensor(string path, Tensor tensor)
    {
        using var file = File.Create(path);
        Google.Protobuf.MessageExtensions.WriteTo(TensorProtoReader.Write(tensor, "x"), file);
    }

    [Fact]
    public void OnlyOnnxRuntimeIsAPeer()
    {
        var args = Arguments.Parse(new[] { "model.onnx", "--vs", "tflite" });
        Assert.Throws<UsageException>(() => BenchCommand.Run(args));
    }
}
