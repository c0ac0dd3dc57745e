using System.IO;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using Google.Protobuf;

namespace AotInfer.Optimize.Onnx;

/// <summary>
/// Reads and writes ONNX models as <see cref="ModelProto"/> messages. Writing keeps everything the message holds
/// (opset imports, names, value infos, metadata); the tools edit the message in place before writing it.
/// </summary>
public static class ModelWriter
{
    /// <summary>Loads a model file (with the loader's size and nesting limits).</summary>
    public static ModelProto Load(string path) => OnnxModelLoader.LoadFile(path);

    /// <summary>Serialises <paramref name="model"/> to ONNX bytes.</summary>
    public static byte[] ToBytes(ModelProto model) => model.ToByteArray();

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>, creating the folder when needed.</summary>
    public static void Write(ModelProto model, string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        File.WriteAllBytes(path, model.ToByteArray());
    }

    /// <summary>A deep copy, so a tool can edit without touching the caller's model.</summary>
    public static ModelProto Clone(ModelProto model) => model.Clone();

    /// <summary>Records which tool changed the model in its metadata (kept alongside the original producer).</summary>
    public static void Stamp(ModelProto model, string step, string details)
    {
        model.MetadataProps.Add(new StringStringEntryProto { Key = "aotinfer.optimize." + step, Value = details });
    }
}
