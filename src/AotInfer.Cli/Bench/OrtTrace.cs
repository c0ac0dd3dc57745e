using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace AotInfer.Cli.Bench;

/// <summary>One node's kernel time in ONNX Runtime's profile: the lowest of its per-round means.</summary>
/// <param name="Name">The node name in ORT's optimised graph (often the model's, sometimes a fusion's or a layout transform's).</param>
/// <param name="Op">The op ORT ran (e.g. <c>FusedConv</c>).</param>
/// <param name="Microseconds">Kernel time per call.</param>
public sealed record OrtNodeTime(string Name, string Op, double Microseconds);

/// <summary>
/// Reads the Chrome-trace JSON that <c>SessionOptions.EnableProfiling</c> writes: an array of events, of which those
/// with <c>"cat": "Node"</c> and a name ending in <c>_kernel_time</c> time one node's kernel in one run
/// (<c>dur</c> in µs, <c>args.op_name</c> the op).
/// </summary>
public static class OrtTrace
{
    const string KernelSuffix = "_kernel_time";

    /// <summary>
    /// Kernel time per node over its last <paramref name="rounds"/> × <paramref name="callsPerRound"/> runs (earlier
    /// runs are the warm-up): the lowest of the per-round means, which a busy machine inflates least. Nodes in order
    /// of first appearance.
    /// </summary>
    public static List<OrtNodeTime> NodeTimes(string traceFile, int rounds, int callsPerRound)
    {
        using var stream = File.OpenRead(traceFile);
        using var document = JsonDocument.Parse(stream);
        var durations = new Dictionary<string, List<double>>();
        var ops = new Dictionary<string, string>();
        var order = new List<string>();
        foreach (var e in document.RootElement.EnumerateArray())
        {
            if (!e.TryGetProperty("cat", out var cat) || cat.GetString() != "Node") continue;
            string name = e.GetProperty("name").GetString() ?? "";
            if (!name.EndsWith(KernelSuffix, System.StringComparison.Ordinal)) continue;
            name = name.Substring(0, name.Length - KernelSuffix.Length);
            if (!durations.TryGetValue(name, out var list))
            {
                durations[name] = list = new List<double>();
                order.Add(name);
                ops[name] = e.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out var op) ? op.GetString() ?? "" : "";
            }
            list.Add(e.GetProperty("dur").GetDouble());
        }
        var result = new List<OrtNodeTime>();
        foreach (string name in order)
        {
            var list = durations[name];
            double best = double.PositiveInfinity;
            for (int end = list.Count; end - callsPerRound >= 0 && end > list.Count - rounds * callsPerRound; end -= callsPerRound)
            {
                double sum = 0;
                for (int i = end - callsPerRound; i < end; i++) sum += list[i];
                best = System.Math.Min(best, sum / callsPerRound);
            }
            result.Add(new OrtNodeTime(name, ops[name], double.IsPositiveInfinity(best) ? 0 : best));
        }
        return result;
    }
}
