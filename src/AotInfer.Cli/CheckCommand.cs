using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using AotInfer.Cli.Check;

namespace AotInfer.Cli;

/// <summary><c>check PATH… [--json FILE] [--expect FILE] [--filter REGEX] [--rtol R] [--atol A] [--int-tolerance N] [--write-passing FILE]</c>.</summary>
public static class CheckCommand
{
    /// <summary>Runs the verb; returns the exit code.</summary>
    public static int Run(Arguments args)
    {
        if (args.Positional.Count == 0) throw new UsageException("check needs at least one model folder");
        var folders = args.Positional.SelectMany(ModelFolder.Discover).ToList();
        if (args.Get("--filter") is { } filter)
        {
            var regex = new Regex(filter, RegexOptions.CultureInvariant);
            folders = folders.Where(f => regex.IsMatch(f.Name)).ToList();
        }
        var comparer = new OutputComparer(args.GetDouble("--rtol", 1e-3), args.GetDouble("--atol", 1e-5), (long)args.GetDouble("--int-tolerance", 0));
        bool quiet = args.Has("--quiet");
        var started = DateTime.UtcNow;
        var results = CheckRunner.Run(folders, new CheckSettings(comparer), r =>
        {
            if (!quiet || r.Status != CheckStatus.Pass)
                Console.WriteLine($"{r.Status.ToString().ToLowerInvariant(),-11} {r.Name}{(r.Detail.Length > 0 ? "  " + Truncate(r.Detail, 400) : "")}");
        });
        var counts = Enum.GetValues<CheckStatus>().ToDictionary(s => s, s => results.Count(r => r.Status == s));
        Console.WriteLine($"check: {counts[CheckStatus.Pass]} pass, {counts[CheckStatus.Fail]} fail, {counts[CheckStatus.Unsupported]} unsupported, {counts[CheckStatus.Error]} error ({results.Count} models, {(DateTime.UtcNow - started).TotalSeconds:F0} s)");

        if (args.Get("--json") is { } json) WriteJson(json, results, counts);
        if (args.Get("--write-passing") is { } passingFile)
            File.WriteAllLines(passingFile, results.Where(r => r.Status == CheckStatus.Pass).Select(r => r.Name).OrderBy(n => n, StringComparer.Ordinal));

        int exit = 0;
        if (args.Get("--expect") is { } expectFile)
        {
            var expected = File.ReadAllLines(expectFile).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            var byName = results.ToDictionary(r => r.Name, r => r);
            var missing = expected.Where(n => !byName.TryGetValue(n, out var r) || r.Status != CheckStatus.Pass).ToList();
            foreach (var n in missing)
                Console.WriteLine($"EXPECTED TO PASS: {n}: {(byName.TryGetValue(n, out var r) ? r.Status.ToString().ToLowerInvariant() + " " + Truncate(r.Detail, 300) : "not found")}");
            var extra = results.Where(r => r.Status == CheckStatus.Pass && !expected.Contains(r.Name)).Count();
            Console.WriteLine($"expect: {expected.Count - missing.Count} of {expected.Count} expected tests pass; {extra} more pass that are not in {Path.GetFileName(expectFile)}");
            if (missing.Count > 0) exit = 1;
        }
        if (counts[CheckStatus.Error] > 0 && args.Has("--fail-on-error")) exit = 1;
        return exit;
    }

    static string Truncate(string s, int max) => s.Length <= max ? s : s.Substring(0, max) + "…";

    static void WriteJson(string path, List<CheckResult> results, Dictionary<CheckStatus, int> counts)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("summary");
        foreach (var (status, n) in counts) w.WriteNumber(status.ToString().ToLowerInvariant(), n);
        w.WriteEndObject();
        w.WriteStartArray("results");
        foreach (var r in results)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("status", r.Status.ToString().ToLowerInvariant());
            w.WriteString("detail", r.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
