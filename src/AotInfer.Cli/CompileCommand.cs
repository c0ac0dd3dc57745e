using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using AotInfer.Compiler;

namespace AotInfer.Cli;

/// <summary><c>compile MODEL -o FILE.cs</c>: writes exactly the source the generator emits for the same options.</summary>
public static class CompileCommand
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        if (args.Positional.Count != 1) throw new UsageException("compile needs one model file");
        string output = args.Get("-o") ?? args.Get("--output") ?? throw new UsageException("compile needs -o FILE.cs");
        var result = Compile(args.Positional[0], args, profile: args.Has("--profile"));
        foreach (var d in result.Diagnostics) Console.Error.WriteLine(d);
        if (!result.Success) return 1;
        File.WriteAllText(output, result.Source);
        Console.WriteLine($"wrote {output} ({result.Source!.Length} characters, arena {result.Arena!.TotalBytes} bytes)");
        return 0;
    }

    /// <summary><c>--threads T</c>: threads the generated code may use (1 by default, 0 = one per processor).</summary>
    public static int ThreadCount(Arguments args)
    {
        string? text = args.Get("--threads");
        if (text is null) return 1;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int threads))
            throw new UsageException($"--threads must be 0 (one per processor) or a positive integer, got '{text}'");
        return threads;
    }

    /// <summary>Compiles a model file with the options common to compile and inspect.</summary>
    public static CompileResult Compile(string modelPath, Arguments args, bool pinUnknownDimsToOne = false, bool profile = false)
    {
        if (!File.Exists(modelPath)) throw new UsageException($"model file '{modelPath}' does not exist");
        var options = new CompileOptions
        {
            ClassName = args.Get("--class", "Model")!,
            Namespace = args.Get("--namespace", "")!,
            ModelDirectory = Path.GetDirectoryName(Path.GetFullPath(modelPath)),
            ModelFileName = Path.GetFileName(modelPath),
            DimensionValues = ParseDims(args.Get("--dims")),
            Fuse = !args.Has("--no-fuse"),
            Threads = ThreadCount(args),
            Sparse = ParseSparse(args.Get("--sparse", "auto")!),
            Profile = profile,
        };
        if (pinUnknownDimsToOne) PinSymbolicDims(modelPath, options);
        return ModelCompiler.Compile(File.ReadAllBytes(modelPath), options);
    }

    /// <summary>Parses <c>--sparse auto|dense|sparse|csr|blocks4x1|blocks8x1|bands</c> (the last four force one layout).</summary>
    public static SparseMode ParseSparse(string text) => text switch
    {
        "auto" => SparseMode.Auto,
        "dense" => SparseMode.Dense,
        "sparse" => SparseMode.Sparse,
        "csr" => SparseMode.Rows,
        "blocks4x1" => SparseMode.Blocks4x1,
        "blocks8x1" => SparseMode.Blocks8x1,
        "bands" => SparseMode.Bands,
        _ => throw new UsageException($"--sparse must be auto, dense, sparse, csr, blocks4x1, blocks8x1 or bands, got '{text}'"),
    };

    /// <summary>Parses <c>name=value,name=value</c>.</summary>
    public static Dictionary<string, int> ParseDims(string? text)
    {
        var dims = new Dictionary<string, int>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text)) return dims;
        foreach (var part in text.Split(',', ';', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0)
                throw new UsageException($"--dims entry '{part}' must be name=positive integer");
            dims[kv[0].Trim()] = v;
        }
        return dims;
    }

    static void PinSymbolicDims(string modelPath, CompileOptions options)
    {
        try
        {
            var model = Onnx.OnnxModelLoader.LoadFile(modelPath);
            foreach (var input in model.Graph.Input)
                foreach (var dim in input.Type?.TensorType?.Shape?.Dim ?? Enumerable.Empty<Onnx.Proto.TensorShapeProto.Types.Dimension>())
                    if (dim.DimParam.Length > 0 && !options.DimensionValues.ContainsKey(dim.DimParam))
                    {
                        options.DimensionValues[dim.DimParam] = 1;
                        Console.WriteLine($"note: symbolic dimension '{dim.DimParam}' of input '{input.Name}' taken as 1 (override with --dims)");
                    }
        }
        catch (Onnx.InvalidModelException) { } // the compiler reports it
    }
}
