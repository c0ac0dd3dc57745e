using System;
using System.Collections.Generic;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Training.Losses;

namespace AotInfer.Optimize.Training.Distillation;

/// <summary>How a student is trained.</summary>
/// <param name="Training">Optimiser, rate, epochs…</param>
/// <param name="Temperature">Softening temperature T of both softmaxes (Hinton et al. use 2–20).</param>
/// <param name="Alpha">Weight of the soft (teacher) loss; 1 − α weighs the cross-entropy on the labels.</param>
/// <param name="Freeze">Initializer or node names whose parameters stay fixed (transfer learning).</param>
public sealed record StudentSettings(TrainingOptions Training, float Temperature = 4, float Alpha = 0.9f, IReadOnlyList<string>? Freeze = null);

/// <summary>
/// Trains a student model: with teacher logits, on the distillation loss α·T²·KL(softmax(t/T) ‖ softmax(s/T)) +
/// (1 − α)·CE(labels) (<see cref="DistillationLoss"/>); without, on the labels alone (transfer learning). Frozen
/// parameters do not move. The student's initializers end up holding the trained weights.
/// </summary>
public static class StudentTraining
{
    /// <summary>Trains <paramref name="student"/> (edited in place) and returns each epoch.</summary>
    public static List<EpochReport> Run(ModelProto student, string? modelDirectory, StudentSettings settings, LabeledImages train,
        float[]? teacherLogits, LabeledImages? test = null)
    {
        var graph = TrainingGraph.Build(student, modelDirectory, settings.Training.Seed);
        if (settings.Freeze is { Count: > 0 } freeze) TransferLearning.Freeze(graph, student, freeze);
        if (teacherLogits is not null) CheckTeacher(graph, train, teacherLogits);
        ILoss loss = teacherLogits is null ? new CrossEntropyLoss() : new DistillationLoss(settings.Temperature, settings.Alpha);
        var epochs = new Trainer(graph, settings.Training, loss).Train(train, teacherLogits, test);
        graph.WriteTo(student, modelDirectory);
        return epochs;
    }

    /// <summary>The teacher must give one row per training sample, as many classes as the student has.</summary>
    static void CheckTeacher(TrainingGraph graph, LabeledImages train, float[] teacherLogits)
    {
        if (train.Count == 0 || teacherLogits.Length % train.Count != 0)
            throw new ArgumentException($"the teacher gave {teacherLogits.Length} logits for {train.Count} samples");
        int teacherClasses = teacherLogits.Length / train.Count;
        bool wasTraining = graph.Training;
        graph.Training = false;
        int studentClasses = graph.Forward(train.Sample(0), 1, graph.SampleShape ?? train.SampleShape).Length;
        graph.Training = wasTraining;
        if (teacherClasses != studentClasses)
            throw new ArgumentException($"the teacher has {teacherClasses} classes but the student has {studentClasses}: their logits cannot be compared (replace the student's head first)");
    }
}
