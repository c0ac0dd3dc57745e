using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Cli;

/// <summary><c>inspect MODEL</c>: per-layer table of ops, shapes, parameters, bytes, sparsity and the compiler's choices.</summary>
public static class InspectCommand
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        if (args.Positional.Count != 1) throw new UsageException("inspect needs one model file");
        var result = CompileCommand.Compile(args.Positional[0], args, pinUnknownDimsToOne: true);
        foreach (var d in result.Diagnostics) Console.WriteLine(d);
        if (result.Graph is not { } graph) return 1;
        AotInfer.Compiler.Passes.PrecisionAnnotation.Run(graph);

        var rows = graph.Nodes.Select((n, i) => Row(n, i)).ToList();
        Console.WriteLine($"{"#",3}  {"op",-22} {"name",-28} {"output",-20} {"params",10} {"bytes",10} {"zeros",6}  notes");
        foreach (var r in rows)
            Console.WriteLine($"{r.Index,3}  {Cut(r.Op, 22),-22} {Cut(r.Name, 28),-28} {Cut(r.Output, 20),-20} {r.Params,10} {r.Bytes,10} {r.Sparsity,5:P0}  {r.Notes}");
        long totalParams = rows.Sum(r => r.Params), totalBytes = rows.Sum(r => r.Bytes);
        Console.WriteLine($"{graph.Nodes.Count} nodes at run time; {totalParams} parameters in {totalBytes} bytes; " +
                          $"arena {(result.Arena?.TotalBytes ?? 0)} bytes (without reuse {(result.Arena?.UnsharedBytes ?? 0)}); scratch {result.ScratchBytes} bytes");
        Console.WriteLine(result.Success ? "status: compiles" : "status: unsupported (see diagnostics above)");

        if (args.Get("--json") is { } json)
        {
            using var stream = File.Create(json);
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteBoolean("compiles", result.Success);
            w.WriteNumber("arena_bytes", result.Arena?.TotalBytes ?? 0);
            w.WriteNumber("parameters", totalParams);
            w.WriteStartArray("layers");
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("op", r.Op); w.WriteString("name", r.Name); w.WriteString("output", r.Output);
                w.WriteNumber("params", r.Params); w.WriteNumber("bytes", r.Bytes); w.WriteNumber("sparsity", r.Sparsity);
                w.WriteString("notes", r.Notes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("diagnostics");
            foreach (var d in result.Diagnostics) w.WriteStringValue(d.ToString());
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return result.Success ? 0 : 1;
    }

    sealed record LayerRow(int Index, string Op, string Name, string Output, long Params, long Bytes, double Sparsity, string Notes);

    static LayerRow Row(Node node, int index)
    {
        var constants = node.Inputs.Where(v => v?.Constant is not null).Select(v => v!.Constant!).ToList();
        long parameters = constants.Sum(t => (long)t.Length);
        long bytes = constants.Sum(t => (long)t.Length * DataTypes.SizeOf(t.Type));
        long zeros = constants.Where(t => t.Type is DataType.Float).Sum(t => (long)t.As<float>().Count(v => v == 0));
        string output = node.Outputs.Count > 0 && node.Outputs[0].Shape is { } s ? $"{node.Outputs[0].Type}[{string.Join(",", s)}]" : "?";
        string notes = string.Join("; ", node.Annotations.Select(a => $"{a.Key}={Convert.ToString(a.Value, CultureInfo.InvariantCulture)}"));
        string op = node.Domain.Length > 0 ? node.Domain + "." + node.OpType : node.OpType;
        return new LayerRow(index, op, node.Name, output, parameters, bytes, parameters == 0 ? 0 : (double)zeros / parameters, notes);
    }

    static string Cut(string s, int max) => s.Length <= max ? s : s.Substring(0, max - 1) + "…";
}
