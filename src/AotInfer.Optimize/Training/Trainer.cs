using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using AotInfer.Optimize.Training.Losses;
using AotInfer.Optimize.Training.Optimizers;
using AotInfer.Optimize.Training.Schedules;

namespace AotInfer.Optimize.Training;

/// <summary>What one epoch did.</summary>
/// <param name="Epoch">Epoch number from 1.</param>
/// <param name="Loss">Mean training loss over the epoch's batches.</param>
/// <param name="TrainAccuracy">Top-1 accuracy on the training batches as they were seen (training mode).</param>
/// <param name="TestAccuracy">Accuracy on the held-out data after the epoch (evaluation mode), or NaN without one.</param>
/// <param name="LearningRate">Rate at the epoch's last step.</param>
/// <param name="Seconds">Wall time of the epoch's training (without the test evaluation).</param>
/// <param name="CpuSeconds">Processor time the process used during the epoch: training is single-threaded, so on a
/// shared machine this is the time the epoch would take alone.</param>
public sealed record EpochReport(int Epoch, double Loss, double TrainAccuracy, double TestAccuracy, float LearningRate, double Seconds, double CpuSeconds);

/// <summary>
/// Mini-batch training of a <see cref="TrainingGraph"/>: each epoch shuffles the samples with a fixed seed, and per
/// batch runs forward, the loss, backward, the regularisation gradients and one optimiser step (which keeps pruned
/// weights at zero). Progress goes to standard error.
/// </summary>
public sealed class Trainer
{
    readonly TrainingGraph _graph;
    readonly TrainingOptions _options;
    readonly ILoss _loss;
    readonly IOptimizer _optimizer;
    readonly LearningRateSchedule _schedule;

    /// <summary>Prepares to train <paramref name="graph"/> with <paramref name="loss"/>.</summary>
    public Trainer(TrainingGraph graph, TrainingOptions options, ILoss loss)
    {
        if (options.Epochs < 0) throw new ArgumentException("epochs must not be negative");
        if (options.BatchSize < 1) throw new ArgumentException("the batch size must be at least 1");
        _graph = graph;
        _options = options;
        _loss = loss;
        _optimizer = Optimizer.Create(options.Optimizer, options.Momentum);
        _schedule = LearningRateSchedule.Create(options.Schedule, options.LearningRate, options.Decay);
    }

    /// <summary>
    /// Trains for <see cref="TrainingOptions.Epochs"/> epochs on <paramref name="data"/>. <paramref name="teacherLogits"/>
    /// (one row of logits per sample, in dataset order) is required by distillation losses; <paramref name="test"/>,
    /// when given, is evaluated after every epoch.
    /// </summary>
    public List<EpochReport> Train(LabeledImages data, float[]? teacherLogits = null, LabeledImages? test = null)
    {
        if (_loss.NeedsTeacher && teacherLogits is null) throw new ArgumentException("this loss needs the teacher's logits");
        int[] sampleShape = SampleShape(_graph, data);
        int batchSize = Math.Min(_options.BatchSize, data.Count), sampleSize = data.SampleSize;
        int batches = (data.Count + batchSize - 1) / batchSize, totalSteps = batches * _options.Epochs;
        var order = Enumerable.Range(0, data.Count).ToArray();
        var random = new Random(_options.Seed);
        var input = new float[batchSize * sampleSize];
        var labels = new int[batchSize];
        float[] gradient = Array.Empty<float>(), teacher = Array.Empty<float>();
        var parameters = _graph.Parameters;
        var reports = new List<EpochReport>();
        int step = 0;
        for (int epoch = 0; epoch < _options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            random.Shuffle(order);
            _graph.Training = true;
            var progress = new Progress($"{_options.Label} epoch {epoch + 1}/{_options.Epochs}", batches);
            double lossSum = 0;
            int correct = 0;
            float rate = 0;
            for (int b = 0; b < batches; b++, step++)
            {
                int start = b * batchSize, count = Math.Min(batchSize, data.Count - start);
                for (int i = 0; i < count; i++)
                {
                    int sample = order[start + i];
                    data.Sample(sample).CopyTo(input.AsSpan(i * sampleSize, sampleSize));
                    labels[i] = data.Labels[sample];
                }
                _options.Hook?.BeforeForward(parameters);
                var logits = _graph.Forward(input.AsSpan(0, count * sampleSize), count, sampleShape);
                int classes = logits.Length / count;
                if (gradient.Length < logits.Length) gradient = new float[logits.Length];
                if (teacherLogits is not null)
                {
                    if (teacher.Length < logits.Length) teacher = new float[logits.Length];
                    for (int i = 0; i < count; i++) teacherLogits.AsSpan(order[start + i] * classes, classes).CopyTo(teacher.AsSpan(i * classes, classes));
                }
                lossSum += _loss.Compute(logits.Span, count, classes, labels.AsSpan(0, count), teacher, gradient.AsSpan(0, logits.Length));
                correct += CountCorrect(logits.Span, count, classes, labels);
                _graph.Backward(gradient.AsSpan(0, logits.Length));
                _options.Regularization.AddGradients(parameters);
                _options.Hook?.BeforeStep(parameters);
                rate = _schedule.Rate(step, totalSteps, epoch);
                _optimizer.Step(parameters, rate);
                progress.Report(b + 1);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
            _options.Hook?.AfterSteps(parameters);
            double testAccuracy = test is null ? double.NaN : Accuracy(_graph, test, _options.BatchSize);
            reports.Add(new EpochReport(epoch + 1, lossSum / batches, (double)correct / data.Count, testAccuracy, rate, seconds, cpuSeconds));
        }
        _graph.Training = false;
        return reports;
    }

    /// <summary>Top-1 accuracy of <paramref name="graph"/> on <paramref name="data"/> in evaluation mode, in batches.</summary>
    public static double Accuracy(TrainingGraph graph, LabeledImages data, int batchSize = 256)
    {
        bool wasTraining = graph.Training;
        graph.Training = false;
        int[] sampleShape = SampleShape(graph, data);
        int correct = 0;
        var labels = new int[batchSize];
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            var batch = new float[count * data.SampleSize];
            for (int i = 0; i < count; i++)
            {
                data.Sample(start + i).CopyTo(batch.AsSpan(i * data.SampleSize, data.SampleSize));
                labels[i] = data.Labels[start + i];
            }
            var logits = graph.Forward(batch, count, sampleShape);
            correct += CountCorrect(logits.Span, count, logits.Length / count, labels);
        }
        graph.Training = wasTraining;
        return (double)correct / Math.Max(data.Count, 1);
    }

    /// <summary>The logits of every sample of <paramref name="data"/> (evaluation mode), row after row: a teacher's soft targets.</summary>
    public static float[] Logits(TrainingGraph graph, LabeledImages data, int batchSize = 256)
    {
        bool wasTraining = graph.Training;
        graph.Training = false;
        int[] sampleShape = SampleShape(graph, data);
        float[]? all = null;
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            var batch = new float[count * data.SampleSize];
            for (int i = 0; i < count; i++) data.Sample(start + i).CopyTo(batch.AsSpan(i * data.SampleSize, data.SampleSize));
            var logits = graph.Forward(batch, count, sampleShape);
            int classes = logits.Length / count;
            all ??= new float[data.Count * classes];
            logits.Span.CopyTo(all.AsSpan(start * classes, count * classes));
        }
        graph.Training = wasTraining;
        return all ?? Array.Empty<float>();
    }

    /// <summary>The sample shape to feed: the model's declared one when the data has the same size, else the data's.</summary>
    static int[] SampleShape(TrainingGraph graph, LabeledImages data)
    {
        if (graph.SampleShape is not { } declared) return data.SampleShape;
        int size = 1;
        foreach (int d in declared) size *= d;
        if (size != data.SampleSize)
            throw new ArgumentException($"the model's input '{graph.InputName}' takes samples of [{string.Join(",", declared)}], the dataset has [{string.Join(",", data.SampleShape)}]");
        return declared;
    }

    static int CountCorrect(ReadOnlySpan<float> logits, int count, int classes, int[] labels)
    {
        int correct = 0;
        for (int i = 0; i < count; i++)
            if (AccuracyEvaluator.ArgMax(logits.Slice(i * classes, classes)) == labels[i]) correct++;
        return correct;
    }
}
