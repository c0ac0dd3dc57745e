using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using AotInfer.Compiler.IR;
using AotInfer.Compiler.Passes;

namespace AotInfer.Compiler.Emit;

/// <summary>
/// The code a model compiled with <see cref="CompileOptions.Profile"/> gets: the <c>IProfiledModel</c> members, a clock
/// read at the start of <c>Run</c> and a stamp after each layer. Kept apart so that <see cref="ModelEmitter"/> only
/// calls in when the option is on.
/// </summary>
internal static class LayerProfileEmitter
{
    /// <summary>The local of <c>Run</c> holding the current layer's start time.</summary>
    public const string ClockLocal = "layerStart";

    /// <summary>The annotations that name a node the compiler folded into the annotated one.</summary>
    static readonly string[] MergeKeys = { FusedEpilogue.BatchNormKey, FusedEpilogue.BiasKey, FusedEpilogue.ResidualKey, FusedEpilogue.Key, FusedEpilogue.PoolKey };

    /// <summary>Writes the layer tables and the explicit <c>IProfiledModel</c> implementation.</summary>
    public static void EmitMembers(CodeWriter w, IReadOnlyList<Node> nodes)
    {
        string kernels = EmitContext.Kernels;
        string Strings(IEnumerable<string> values) =>
            values.Any() ? "new string[] { " + string.Join(", ", values.Select(Literals.String)) + " }" : "global::System.Array.Empty<string>()";
        w.Line($"static readonly string[] s_layerNames = {Strings(nodes.Select(n => n.Name))};");
        w.Line($"static readonly string[] s_layerOps = {Strings(nodes.Select(n => n.OpType))};");
        w.Line($"static readonly string[][] s_layerAliases = new string[][] {{ {string.Join(", ", nodes.Select(n => Strings(Aliases(n))))} }};");
        w.Line($"readonly long[] _layerTicks = new long[{nodes.Count}];");
        w.Line($"string[] {kernels}.IProfiledModel.LayerNames => s_layerNames;");
        w.Line($"string[] {kernels}.IProfiledModel.LayerOps => s_layerOps;");
        w.Line($"string[][] {kernels}.IProfiledModel.LayerAliases => s_layerAliases;");
        w.Line($"long[] {kernels}.IProfiledModel.LayerTicks => _layerTicks;");
    }

    /// <summary>Starts the clock at the top of <c>Run</c>'s body.</summary>
    public static void EmitStart(CodeWriter w) =>
        w.Line($"long {ClockLocal} = global::System.Diagnostics.Stopwatch.GetTimestamp();");

    /// <summary>Charges the time since the last stamp to <paramref name="layer"/>.</summary>
    public static void EmitStamp(CodeWriter w, int layer) =>
        w.Line($"{ClockLocal} = {EmitContext.Kernels}.LayerClock.Stamp(_layerTicks, {Literals.Int(layer)}, {ClockLocal});");

    /// <summary>
    /// The folded nodes' names, read from the fusion passes' annotations, which quote them (<c>Relu 'ReLU32'</c>,
    /// <c>Add 'Plus30' (constant B)</c>), then the names of the tensors the node writes.
    /// </summary>
    static IEnumerable<string> Aliases(Node node)
    {
        foreach (string key in MergeKeys)
        {
            if (!node.Annotations.TryGetValue(key, out var value)) continue;
            string text = value is FusedEpilogue epilogue ? epilogue.Source : value?.ToString() ?? "";
            var quoted = Regex.Match(text, "'([^']*)'");
            if (quoted.Success) yield return quoted.Groups[1].Value;
        }
        foreach (var output in node.Outputs) if (output is not null) yield return output.Name;
    }
}
