using System;
using System.IO;
using System.Linq;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training;
using AotInfer.Optimize.Training.Distillation;
using AotInfer.Optimize.Training.Losses;
using AotInfer.Optimize.Training.Models;
using AotInfer.Tests.Optimize;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Training;

/// <summary>Students (fresh MLPs), the distillation loss through a whole graph, teacher logits and transfer learning.</summary>
public class DistillationTests
{
    public DistillationTests() => Progress.Enabled = false;

    /// <summary>Samples of 8 values; the label (of 3) is the index of the largest of the first three.</summary>
    static LabeledImages Samples(int count, int seed)
    {
        var pixels = Differential.RandomFloats(seed, count * 8, 0, 1);
        var labels = Enumerable.Range(0, count).Select(n => { var s = pixels.AsSpan(n * 8, 3).ToArray(); return Array.IndexOf(s, s.Max()); }).ToArray();
        return new LabeledImages(pixels, new[] { 8 }, labels, "argmax of three");
    }

    [Fact]
    public void FreshMlpHasTheAskedShapeHeWeightsAndRunsInOnnxRuntime()
    {
        var model = MlpBuilder.Create(new[] { 784, 64, 32, 10 }, new[] { 1, 28, 28 }, seed: 4);
        var graph = new GraphEditor(model);
        Assert.Equal(new[] { "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm" }, model.Graph.Node.Select(n => n.OpType));
        Assert.Equal(784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10, model.Graph.Initializer.Sum(t => graph.ReadFloat(t.Name)!.Length));
        var first = graph.ReadFloat("fc1.weight")!.As<float>();
        double std = Math.Sqrt(first.Sum(v => (double)v * v) / first.Length);
        Assert.InRange(std, 0.95 * Math.Sqrt(2.0 / 784), 1.05 * Math.Sqrt(2.0 / 784));
        var output = (float[])Differential.RunOnnxRuntime(model.ToByteArray(), (new[] { 1, 1, 28, 28 }, Differential.RandomFloats(1, 784, 0, 1)))[0];
        Assert.Equal(10, output.Length);
        Assert.Equal(first, new GraphEditor(MlpBuilder.Create(new[] { 784, 64, 32, 10 }, new[] { 1, 28, 28 }, seed: 4)).ReadFloat("fc1.weight")!.As<float>());
        Assert.Throws<ArgumentException>(() => MlpBuilder.Create(new[] { 780, 10 }, new[] { 1, 28, 28 }, 1));
    }

    [Fact]
    public void DistillationLossGradientThroughTheStudentMatchesFiniteDifferences()
    {
        var model = MlpBuilder.Create(new[] { 8, 6, 3 }, new[] { 8 }, seed: 5);
        var graph = TrainingGraph.Build(model);
        var data = Samples(4, 6);
        var x = Enumerable.Range(0, 4).SelectMany(i => data.Sample(i).ToArray()).ToArray();
        var teacher = GradientCheck.RandomValues(7, 12, 3f);
        var loss = new DistillationLoss(temperature: 3, alpha: 0.7f);
        var gradient = new float[12];
        double Loss()
        {
            var logits = graph.Forward(x, 4, new[] { 8 }).Span;
            return loss.Compute(logits, 4, 3, data.Labels, teacher, new float[12]);
        }
        var logits = graph.Forward(x, 4, new[] { 8 }).Span;
        loss.Compute(logits, 4, 3, data.Labels, teacher, gradient);
        graph.Backward(gradient);
        int checkedCount = 0;
        foreach (var p in graph.Parameters)
        {
            var analytic = p.Gradient.Span.ToArray();
            for (int i = 0; i < p.Count; i += 3)
            {
                const float h = 1e-2f;
                float original = p.Values.Span[i];
                p.Values.Span[i] = original + h;
                double plus = Loss();
                p.Values.Span[i] = original - h;
                double minus = Loss();
                p.Values.Span[i] = original;
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i]) < 3e-3 + 3e-2 * Math.Abs(numeric), $"{p.Name}[{i}]: analytic {analytic[i]}, numeric {numeric}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 20);
    }

    [Fact]
    public void StudentLearnsFromTheTeachersLogitsAlone()
    {
        var data = Samples(256, 8);
        // A teacher that knows the rule; with alpha = 1 the labels are never used.
        var teacher = new float[data.Count * 3];
        for (int n = 0; n < data.Count; n++) for (int c = 0; c < 3; c++) teacher[n * 3 + c] = 10 * data.Sample(n)[c];
        var wrongLabels = new LabeledImages(Enumerable.Range(0, data.Count).SelectMany(i => data.Sample(i).ToArray()).ToArray(), new[] { 8 }, new int[data.Count], "labels all 0");
        var student = MlpBuilder.Create(new[] { 8, 16, 3 }, new[] { 8 }, seed: 9);
        var options = new TrainingOptions { Epochs = 40, BatchSize = 32, LearningRate = 0.01f, Seed = 3 };
        StudentTraining.Run(student, null, new StudentSettings(options, Temperature: 2, Alpha: 1), wrongLabels, teacher);
        double accuracy = Trainer.Accuracy(TrainingGraph.Build(student), Samples(200, 10));
        Assert.True(accuracy > 0.85, $"accuracy {accuracy:P1} from the teacher's logits");
    }

    [Fact]
    public void TeacherWithOtherClassesIsRefused()
    {
        var data = Samples(8, 1);
        var student = MlpBuilder.Create(new[] { 8, 4 }, new[] { 8 }, 1);
        var e = Assert.Throws<ArgumentException>(() => StudentTraining.Run(student, null, new StudentSettings(new TrainingOptions()), data, new float[8 * 3]));
        Assert.Contains("3 classes but the student has 4", e.Message);
    }

    [Fact]
    public void TeacherLogitsOfTheGraphAndTheCacheRoundTrip()
    {
        var teacher = OptimizeTestModels.SmallCnn();
        var data = OptimizeTestModels.Samples(10);
        var logits = TeacherLogits.Compute(teacher, null, data);
        Assert.Equal(10 * 5, logits.Length);
        Assert.Equal(OptimizeTestModels.RunOrt(teacher, data.Sample(3).ToArray()), logits.AsSpan(15, 5).ToArray(), new ToleranceComparer(1e-4f));
        using var temporary = new TemporaryDirectory("aotinfer-teacher");
        string path = temporary.PathOf("t.cache");
        string key = TeacherLogits.Key(teacher, data);
        TeacherLogits.Save(path, key, logits);
        Assert.Equal(logits, TeacherLogits.Load(path, key));
        Assert.Null(TeacherLogits.Load(path, TeacherLogits.Key(teacher, data.Take(9))));
        Assert.NotEqual(key, TeacherLogits.Key(OptimizeTestModels.SmallCnn(seed: 8), data));
        File.WriteAllBytes(path, new byte[20]);
        Assert.Throws<InvalidDataException>(() => TeacherLogits.Load(path, key));
    }

    [Fact]
    public void TransferLearningReplacesTheHeadAndFrozenLayersDoNotMove()
    {
        var model = MlpBuilder.Create(new[] { 8, 16, 5 }, new[] { 8 }, seed: 2);
        string head = TransferLearning.ReplaceHead(model, 3, seed: 4);
        Assert.Equal("fc2", head);
        var graph = new GraphEditor(model);
        Assert.Equal(new[] { 3, 16 }, graph.ReadFloat("fc2.weight")!.Shape);
        var before = graph.ReadFloat("fc1.weight")!.As<float>();
        var options = new TrainingOptions { Epochs = 30, BatchSize = 32, LearningRate = 0.01f };
        StudentTraining.Run(model, null, new StudentSettings(options, Freeze: new[] { "fc1" }), Samples(256, 3), null);
        Assert.Equal(before, new GraphEditor(model).ReadFloat("fc1.weight")!.As<float>());
        Assert.NotEqual(0f, new GraphEditor(model).ReadFloat("fc2.bias")!.As<float>().Max(Math.Abs));
        Assert.True(Trainer.Accuracy(TrainingGraph.Build(model), Samples(200, 11)) > 0.6);
        var e = Assert.Throws<ArgumentException>(() => StudentTraining.Run(model, null, new StudentSettings(options, Freeze: new[] { "fc9", "nothing" }), Samples(8, 3), null));
        Assert.Contains("'fc9', 'nothing'", e.Message);
    }

    sealed class ToleranceComparer(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance * Math.Max(1, Math.Abs(a));
        public int GetHashCode(float value) => 0;
    }
}
