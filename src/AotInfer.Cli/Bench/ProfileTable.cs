using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace AotInfer.Cli.Bench;

/// <summary>Prints <see cref="LayerProfiler"/>'s rows as a fixed-width table: time and share of total per side, and the ratio ORT/ours.</summary>
public static class ProfileTable
{
    /// <summary>Writes the table, a total line and, per layer, the ORT nodes summed into it.</summary>
    public static void Write(TextWriter output, IReadOnlyList<LayerTime> rows)
    {
        double ours = rows.Where(r => !double.IsNaN(r.AotInferMicroseconds)).Sum(r => r.AotInferMicroseconds);
        double theirs = rows.Sum(r => r.OrtMicroseconds);
        int width = Math.Min(40, Math.Max(5, rows.Max(r => r.Layer.Length)));
        string Line(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
        output.WriteLine(Line($"{"layer".PadRight(width)}  {"op",-18} {"ours µs",9} {"ours %",7} {"ORT µs",9} {"ORT %",7} {"ORT/ours",8}  ORT nodes"));
        foreach (var r in rows)
        {
            string layer = r.Layer.Length > width ? "…" + r.Layer.Substring(r.Layer.Length - width + 1) : r.Layer.PadRight(width);
            string ourTime = double.IsNaN(r.AotInferMicroseconds) ? "-" : Line($"{r.AotInferMicroseconds:F2}");
            string ourShare = double.IsNaN(r.AotInferMicroseconds) ? "-" : Line($"{100 * r.AotInferMicroseconds / ours:F1}");
            string ratio = double.IsNaN(r.AotInferMicroseconds) || r.OrtNodes.Count == 0 || r.AotInferMicroseconds <= 0 ? "-" : Line($"{r.OrtMicroseconds / r.AotInferMicroseconds:F2}");
            string ortTime = r.OrtNodes.Count == 0 ? "-" : Line($"{r.OrtMicroseconds:F2}");
            string ortShare = r.OrtNodes.Count == 0 ? "-" : Line($"{100 * r.OrtMicroseconds / theirs:F1}");
            output.WriteLine(Line($"{layer}  {r.Op,-18} {ourTime,9} {ourShare,7} {ortTime,9} {ortShare,7} {ratio,8}  {string.Join(", ", r.OrtNodes)}"));
        }
        output.WriteLine(Line($"{"total".PadRight(width)}  {"",-18} {ours,9:F2} {100.0,7:F1} {theirs,9:F2} {100.0,7:F1} {theirs / ours,8:F2}"));
    }
}
