using System;
using System.IO;
using AotInfer.Onnx.Proto;
using Google.Protobuf;

namespace AotInfer.Onnx;

/// <summary>Parses ONNX model files with size and nesting limits.</summary>
public static class OnnxModelLoader
{
    /// <summary>Largest model file accepted (protobuf itself cannot exceed 2 GiB).</summary>
    public const long MaxModelBytes = int.MaxValue;

    /// <summary>Deepest message nesting accepted (subgraphs inside attributes nest messages).</summary>
    public const int MaxNesting = 100;

    /// <summary>Loads a model from a file.</summary>
    public static ModelProto LoadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new InvalidModelException($"model file '{path}' does not exist");
        if (info.Length > MaxModelBytes) throw new InvalidModelException($"model file '{path}' is {info.Length} bytes, over the {MaxModelBytes} limit");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses model bytes; <paramref name="name"/> is used in error messages.</summary>
    public static ModelProto Parse(byte[] bytes, string name)
    {
        try
        {
            // Google.Protobuf stops at a nesting depth of 100 (MaxNesting), which bounds hostile deeply nested files.
            var model = ModelProto.Parser.ParseFrom(bytes);
            if (model.Graph is null) throw new InvalidModelException($"'{name}' has no graph (is it an ONNX model?)");
            if (model.IrVersion < 3 || model.IrVersion > 13) throw new InvalidModelException($"'{name}' has IR version {model.IrVersion}; AotInfer reads IR versions 3 to 13");
            return model;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidModelException($"'{name}' is not a valid ONNX protobuf: {e.Message}");
        }
    }

    /// <summary>Parses a TensorProto file (the <c>input_N.pb</c> / <c>output_N.pb</c> files of ONNX test sets).</summary>
    public static TensorProto LoadTensorFile(string path)
    {
        try { return TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)); }
        catch (InvalidProtocolBufferException e) { throw new InvalidModelException($"'{path}' is not a valid TensorProto: {e.Message}"); }
    }
}
