using System;
using System.IO;
using System.Security.Cryptography;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Datasets;
using AotInfer.Optimize.Evaluation;
using Google.Protobuf;

namespace AotInfer.Optimize.Training.Distillation;

/// <summary>
/// The teacher's logits for every training sample, computed once before distillation (the teacher's weights do not
/// change, so running it per batch would repeat the same work every epoch) and optionally cached in a file.
/// </summary>
public static class TeacherLogits
{
    const int Magic = 0x4C_54_49_41; // "AITL"

    /// <summary>
    /// Runs <paramref name="teacher"/> on <paramref name="data"/> in batches through the training engine's evaluation
    /// mode (the same fast kernels; a trailing Softmax is skipped, so these are logits).
    /// </summary>
    public static float[] Compute(ModelProto teacher, string? modelDirectory, LabeledImages data, int batchSize = 256) =>
        Trainer.Logits(TrainingGraph.Build(teacher, modelDirectory), data, batchSize);

    /// <summary>
    /// Runs the teacher one sample at a time through <paramref name="runner"/> (AotInfer's generated code or ONNX
    /// Runtime). The first output must be the logits (or log-probabilities: the softmax of either is the same).
    /// </summary>
    public static float[] Compute(IModelRunner runner, LabeledImages data)
    {
        float[]? all = null;
        int classes = 0;
        var progress = new Progress("teacher", data.Count);
        for (int i = 0; i < data.Count; i++)
        {
            var logits = runner.Run(data.Sample(i))[0];
            if (all is null)
            {
                classes = logits.Length;
                all = new float[data.Count * classes];
            }
            if (logits.Length != classes) throw new InvalidOperationException($"the teacher gave {logits.Length} outputs for sample {i} but {classes} before");
            logits.CopyTo(all.AsSpan(i * classes, classes));
            progress.Report(i + 1);
        }
        return all ?? Array.Empty<float>();
    }

    /// <summary>A key that changes with the teacher's bytes and the samples (their count and labels): a cache for other data is never used.</summary>
    public static string Key(ModelProto teacher, LabeledImages data)
    {
        using var sha = SHA256.Create();
        var labels = new byte[data.Count * sizeof(int)];
        Buffer.BlockCopy(data.Labels, 0, labels, 0, labels.Length);
        var modelHash = sha.ComputeHash(teacher.ToByteArray());
        var dataHash = SHA256.HashData(labels);
        return Convert.ToHexString(modelHash, 0, 8) + Convert.ToHexString(dataHash, 0, 8) + data.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The cached logits in <paramref name="path"/> when the file exists and was written for <paramref name="key"/>, else null.</summary>
    public static float[]? Load(string path, string key)
    {
        if (!File.Exists(path)) return null;
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.BaseStream.Length < 12 || reader.ReadInt32() != Magic) throw new InvalidDataException($"'{path}' is not a teacher-logits cache");
        if (reader.ReadString() != key) return null;
        int count = reader.ReadInt32();
        if (count < 0 || reader.BaseStream.Length - reader.BaseStream.Position != 4L * count)
            throw new InvalidDataException($"the teacher-logits cache '{path}' is truncated");
        var logits = new float[count];
        var bytes = reader.ReadBytes(4 * count);
        Buffer.BlockCopy(bytes, 0, logits, 0, bytes.Length);
        return logits;
    }

    /// <summary>Writes <paramref name="logits"/> to <paramref name="path"/> under <paramref name="key"/>.</summary>
    public static void Save(string path, string key, float[] logits)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(Magic);
        writer.Write(key);
        writer.Write(logits.Length);
        var bytes = new byte[4 * logits.Length];
        Buffer.BlockCopy(logits, 0, bytes, 0, bytes.Length);
        writer.Write(bytes);
    }
}
