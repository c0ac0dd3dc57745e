using System;
using System.IO;
using System.Linq;
using AotInfer.Cli;
using AotInfer.Cli.Optimize;
using AotInfer.Onnx;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training.Models;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>The distill / transfer / init-mlp / qat / finetune --search / --shared-weights verbs: one success path each and every bad input.</summary>
public class TrainingCommandTests
{
    public TrainingCommandTests() => Progress.Enabled = false;

    /// <summary>A folder with an 8-10-3 MLP (teacher.onnx), a 8-4-3 student and 60 samples as TensorProto files.</summary>
    sealed class Workspace : IDisposable
    {
        readonly TemporaryDirectory _directory = new("aotinfer-training");

        public Workspace()
        {
            ModelWriter.Write(MlpBuilder.Create(new[] { 8, 10, 3 }, new[] { 8 }, 1), Teacher);
            ModelWriter.Write(MlpBuilder.Create(new[] { 8, 4, 3 }, new[] { 8 }, 2), Student);
            var pixels = Differential.RandomFloats(5, 60 * 8, 0, 1);
            var labels = Enumerable.Range(0, 60).Select(n => (long)Array.IndexOf(pixels.AsSpan(n * 8, 3).ToArray(), pixels.AsSpan(n * 8, 3).ToArray().Max())).ToArray();
            string images = PathOf("images.pb"), labelFile = PathOf("labels.pb");
            File.WriteAllBytes(images, TensorProtoReader.Write(new Tensor(DataType.Float, new[] { 60, 8 }, pixels), "images").ToByteArray());
            File.WriteAllBytes(labelFile, TensorProtoReader.Write(new Tensor(DataType.Int64, new[] { 60 }, labels), "labels").ToByteArray());
            Dataset = $"pb:{images},{labelFile}";
        }

        public string Directory => _directory.Path;

        public void Dispose() => _directory.Dispose();
        public string Teacher => PathOf("teacher.onnx");
        public string Student => PathOf("student.onnx");
        public string Dataset { get; }
        public string PathOf(string name) => Path.Combine(Directory, name);
    }

    static Arguments Args(params string[] args) => Arguments.Parse(args, "--per-tensor", "--shared-weights", "--keep-sparsity");

    static void Refused(Func<Arguments, int> verb, string expected, params string[] args)
    {
        var e = Assert.ThrowsAny<Exception>(() => verb(Args(args)));
        Assert.True(e is UsageException or ArgumentException, $"{e.GetType().Name}: {e.Message}");
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void DistillTrainsAStudentWithACachedTeacherAndRefusesBadInput()
    {
        using var w = new Workspace();
        string output = w.PathOf("out.onnx"), cache = w.PathOf("teacher.cache");
        Assert.Equal(0, DistillCommand.Distill(Args("--teacher", w.Teacher, "--student-layers", "5", "-o", output, "--dataset", w.Dataset, "--epochs", "2", "--teacher-cache", cache, "--json", w.PathOf("d.json"))));
        Assert.True(File.Exists(cache));
        Assert.Equal(new[] { 8 * 5 + 5 + 5 * 3 + 3 }, new[] { ModelWriter.Load(output).Graph.Initializer.Sum(t => new GraphEditor(ModelWriter.Load(output)).ReadFloat(t.Name)!.Length) });
        Assert.Contains("\"epochs\"", File.ReadAllText(w.PathOf("d.json")));
        Assert.Equal(0, DistillCommand.Distill(Args("--teacher", w.Teacher, "--student", w.Student, "-o", output, "--dataset", w.Dataset, "--teacher-cache", cache, "--teacher-runtime", "ort")));

        Func<Arguments, int> distill = DistillCommand.Distill;
        Refused(distill, "needs --teacher", "--student", w.Student, "-o", output, "--dataset", w.Dataset);
        Refused(distill, "does not exist", "--teacher", w.PathOf("missing.onnx"), "--student", w.Student, "-o", output, "--dataset", w.Dataset);
        Refused(distill, "needs -o", "--teacher", w.Teacher, "--student", w.Student, "--dataset", w.Dataset);
        Refused(distill, "--student S.onnx or --student-layers", "--teacher", w.Teacher, "-o", output, "--dataset", w.Dataset);
        Refused(distill, "not both", "--teacher", w.Teacher, "--student", w.Student, "--student-layers", "4", "-o", output, "--dataset", w.Dataset);
        Refused(distill, "--student-layers", "--teacher", w.Teacher, "--student-layers", "4,x", "-o", output, "--dataset", w.Dataset);
        Refused(distill, "--alpha", "--teacher", w.Teacher, "--student", w.Student, "-o", output, "--dataset", w.Dataset, "--alpha", "1.5");
        Refused(distill, "--temperature", "--teacher", w.Teacher, "--student", w.Student, "-o", output, "--dataset", w.Dataset, "--temperature", "0");
        Refused(distill, "--prune", "--teacher", w.Teacher, "--student", w.Student, "-o", output, "--dataset", w.Dataset, "--prune", "0.5");
        Refused(distill, "--runtime", "--teacher", w.Teacher, "--student", w.Student, "-o", output, "--dataset", w.Dataset, "--teacher-runtime", "tflite");
        Refused(distill, "cannot freeze 'nope'", "--teacher", w.Teacher, "--student", w.Student, "-o", output, "--dataset", w.Dataset, "--freeze", "nope");
        Refused(distill, "--dataset", "--teacher", w.Teacher, "--student", w.Student, "-o", output);
        // A student with another number of classes than the teacher.
        ModelWriter.Write(MlpBuilder.Create(new[] { 8, 4 }, new[] { 8 }, 2), w.PathOf("four.onnx"));
        Refused(distill, "3 classes but the student has 4", "--teacher", w.Teacher, "--student", w.PathOf("four.onnx"), "-o", output, "--dataset", w.Dataset);
    }

    [Fact]
    public void InitMlpAndTransferWorkAndRefuseBadInput()
    {
        using var w = new Workspace();
        string mlp = w.PathOf("mlp.onnx"), output = w.PathOf("t.onnx");
        Assert.Equal(0, DistillCommand.InitMlp(Args("-o", mlp, "--layers", "8,6,3", "--seed", "4")));
        Assert.Equal(0, DistillCommand.Transfer(Args(mlp, "-o", output, "--dataset", w.Dataset, "--new-head", "4", "--freeze", "fc1", "--epochs", "2")));
        Assert.Equal(new[] { 4, 6 }, new GraphEditor(ModelWriter.Load(output)).ReadFloat("fc2.weight")!.Shape);
        Assert.Equal(new GraphEditor(ModelWriter.Load(mlp)).ReadFloat("fc1.weight")!.As<float>(), new GraphEditor(ModelWriter.Load(output)).ReadFloat("fc1.weight")!.As<float>());

        Func<Arguments, int> init = DistillCommand.InitMlp, transfer = DistillCommand.Transfer;
        Refused(init, "needs -o", "--layers", "8,3");
        Refused(init, "--layers", "-o", mlp, "--layers", "8,-3");
        Refused(init, "at least two widths", "-o", mlp, "--layers", "8");
        Refused(init, "first width", "-o", mlp, "--layers", "8,3", "--input-shape", "1,28,28");
        Refused(transfer, "--new-head", mlp, "-o", output, "--dataset", w.Dataset, "--new-head", "1");
        Refused(transfer, "fewer than the dataset's 3 classes", mlp, "-o", output, "--dataset", w.Dataset, "--new-head", "2");
        Refused(transfer, "does not exist", w.PathOf("missing.onnx"), "-o", output, "--dataset", w.Dataset);
    }

    [Fact]
    public void QatWritesQdqAndRefusesBadInput()
    {
        using var w = new Workspace();
        string output = w.PathOf("qat.onnx");
        Assert.Equal(0, QatCommand.Run(Args(w.Teacher, "-o", output, "--dataset", w.Dataset, "--epochs", "1", "--activations", "int8", "--per-tensor")));
        var model = ModelWriter.Load(output);
        // 8 → Gemm → Relu → Gemm → 3: pairs on the input, the Relu output and the last Gemm's output.
        Assert.Equal(3, model.Graph.Node.Count(n => n.OpType == "QuantizeLinear"));
        Assert.Equal((int)DataType.Int8, model.Graph.Initializer.First(t => t.Name.Contains("zero_point") && t.Dims.Count == 0).DataType);

        Func<Arguments, int> qat = QatCommand.Run;
        Refused(qat, "--activations", w.Teacher, "-o", output, "--dataset", w.Dataset, "--activations", "int4");
        Refused(qat, "--prune", w.Teacher, "-o", output, "--dataset", w.Dataset, "--prune", "0.5");
        Refused(qat, "--lr", w.Teacher, "-o", output, "--dataset", w.Dataset, "--lr", "-1");
        Refused(qat, "needs -o", w.Teacher, "--dataset", w.Dataset);
    }

    [Fact]
    public void SearchPrintsATableAndRefusesBadInput()
    {
        using var w = new Workspace();
        string output = w.PathOf("best.onnx"), json = w.PathOf("search.json");
        Assert.Equal(0, SearchCommand.Run(Args(w.Student, "-o", output, "--dataset", w.Dataset, "--search", "random", "--trials", "3", "--lr", "1e-3,1e-2", "--epochs", "1,2", "--prune", "0,0.5", "--prune-steps", "2", "--json", json)));
        Assert.Equal(3, System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("trials").GetArrayLength());
        Assert.True(File.Exists(output));

        Func<Arguments, int> search = SearchCommand.Run;
        Refused(search, "grid or random", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "bayes");
        Refused(search, "--lr", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "grid", "--lr", "1e-3,abc");
        Refused(search, "--prune", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "grid", "--prune", "0.5,1.2");
        Refused(search, "--prune-steps", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "grid", "--prune", "0.5", "--prune-steps", "0");
        Refused(search, "--epochs", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "grid", "--epochs", "1.5");
        Refused(search, "--validation", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "grid", "--validation", "1.5");
        Refused(search, "--trials", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "random", "--trials", "0");
        Refused(search, "validation split", w.Student, "-o", output, "--dataset", w.Dataset, "--search", "grid", "--test", w.Dataset);
    }

    [Fact]
    public void SharedWeightFineTuningPrintsTheStoredSizeAndRefusesPruning()
    {
        using var w = new Workspace();
        string clustered = w.PathOf("clustered.onnx"), output = w.PathOf("shared.onnx");
        var model = ModelWriter.Load(w.Teacher);
        AotInfer.Optimize.Clustering.WeightClustering.Cluster(model, 4, perChannel: false);
        ModelWriter.Write(model, clustered);
        Assert.Equal(0, SharedWeightsCommand.Run(Args(clustered, "-o", output, "--dataset", w.Dataset, "--shared-weights", "--epochs", "2")));
        Assert.True(new GraphEditor(ModelWriter.Load(output)).ReadFloat("fc1.weight")!.As<float>().Distinct().Count() <= 4);
        Refused(SharedWeightsCommand.Run, "prune and cluster before", clustered, "-o", output, "--dataset", w.Dataset, "--shared-weights", "--prune", "0.5");
    }
}
