using System;
using System.Linq;
using System.Text;
using AotInfer.Compiler.Ops;

namespace AotInfer.Cli;

/// <summary><c>ops</c>: the supported operators, from the op registry (docs/operators.md is this output).</summary>
public static class OpsCommand
{
    /// <summary>Runs the verb.</summary>
    public static int Run(Arguments args)
    {
        Console.Write(Markdown());
        return 0;
    }

    /// <summary>The operator table as Markdown.</summary>
    public static string Markdown()
    {
        var b = new StringBuilder();
        b.Append("# Supported operators\n\n");
        b.Append("Generated from the compiler's op registry by `aotinfer ops` (a test keeps this file in sync).\n\n");
        foreach (var domain in OpRegistry.Default.Supported.GroupBy(o => o.Domain))
        {
            var ops = domain.Select(o => o.OpType).ToList();
            b.Append($"## {(domain.Key.Length == 0 ? "ai.onnx (default domain)" : domain.Key)}: {ops.Count} operators\n\n");
            b.Append(string.Join(", ", ops)).Append("\n\n");
        }
        return b.ToString();
    }
}
