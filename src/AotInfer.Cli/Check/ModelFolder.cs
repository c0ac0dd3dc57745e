using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using AotInfer.Onnx;

namespace AotInfer.Cli.Check;

/// <summary>A model folder: <c>model.onnx</c> and its <c>test_data_set_*</c> folders of input/output TensorProto files.</summary>
/// <param name="Name">The name reported (path relative to the searched root, '/'-separated).</param>
/// <param name="Directory">The folder.</param>
public sealed record ModelFolder(string Name, string Directory)
{
    /// <summary>The model file.</summary>
    public string ModelPath => Path.Combine(Directory, "model.onnx");

    /// <summary>Finds model folders under <paramref name="path"/> (the folder itself, or any folder below it), sorted by name.</summary>
    public static List<ModelFolder> Discover(string path)
    {
        var root = Path.GetFullPath(path);
        if (!System.IO.Directory.Exists(root)) throw new DirectoryNotFoundException($"'{path}' is not a folder");
        if (File.Exists(Path.Combine(root, "model.onnx")))
            return new List<ModelFolder> { new(Path.GetFileName(root.TrimEnd(Path.DirectorySeparatorChar)), root) };
        return System.IO.Directory.EnumerateFiles(root, "model.onnx", SearchOption.AllDirectories)
            .Select(f => Path.GetDirectoryName(f)!)
            .Select(d => new ModelFolder(Path.GetRelativePath(root, d).Replace(Path.DirectorySeparatorChar, '/'), d))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The test sets, each with its inputs and expected outputs in file order.</summary>
    public List<TestSet> LoadTestSets()
    {
        var sets = new List<TestSet>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Directory, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal))
        {
            var inputs = ReadNumbered(dir, "input_");
            var outputs = ReadNumbered(dir, "output_");
            sets.Add(new TestSet(Path.GetFileName(dir), inputs, outputs));
        }
        return sets;
    }

    static List<(string Name, Tensor Tensor)> ReadNumbered(string dir, string prefix)
    {
        var files = System.IO.Directory.EnumerateFiles(dir, prefix + "*.pb")
            .Select(f => (File: f, Index: int.TryParse(Path.GetFileNameWithoutExtension(f).Substring(prefix.Length), out int i) ? i : -1))
            .Where(f => f.Index >= 0).OrderBy(f => f.Index).ToList();
        return files.Select(f =>
        {
            var proto = OnnxModelLoader.LoadTensorFile(f.File);
            return (proto.Name, TensorProtoReader.Read(proto, dir));
        }).ToList();
    }
}

/// <summary>One test set: inputs and expected outputs.</summary>
public sealed record TestSet(string Name, List<(string Name, Tensor Tensor)> Inputs, List<(string Name, Tensor Tensor)> Outputs);
