using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace AotInfer.Tests.Generator;

/// <summary>
/// Golden baselines: one <c>Golden/{test}.{hint name}.txt</c> file per generated file (e.g.
/// <c>MetadataForm.Test.App.AddRelu.g.cs.txt</c>), compared exactly (line endings normalised).
/// To accept new output after an intended change, run the tests with the environment variable
/// <c>AOTINFER_UPDATE_GOLDEN=1</c>: baselines are rewritten in the source tree (and stale ones deleted);
/// review the diff and commit it.
/// </summary>
public static class GoldenFiles
{
    /// <summary>True when baselines should be rewritten instead of compared.</summary>
    public static bool Update => Environment.GetEnvironmentVariable("AOTINFER_UPDATE_GOLDEN") == "1";

    /// <summary>The baseline folder in the source tree.</summary>
    public static string Directory { get; } = Path.Combine(FindRepositoryRoot(), "tests", "AotInfer.Tests", "Generator", "Golden");

    /// <summary>Compares every generated file of a test with its baseline, and checks that no baseline is left over.</summary>
    public static void AssertMatch(string testName, IReadOnlyDictionary<string, string> generated)
    {
        var expectedFiles = generated.ToDictionary(g => Path.Combine(Directory, $"{testName}.{g.Key}.txt"), g => Normalize(g.Value));
        var existing = System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, testName + ".*.txt").ToHashSet()
            : new HashSet<string>();
        if (Update)
        {
            System.IO.Directory.CreateDirectory(Directory);
            foreach (var (path, text) in expectedFiles) File.WriteAllText(path, text);
            foreach (var stale in existing.Where(p => !expectedFiles.ContainsKey(p))) File.Delete(stale);
            return;
        }
        var problems = new List<string>();
        foreach (var (path, text) in expectedFiles)
        {
            if (!File.Exists(path)) { problems.Add($"missing baseline {Path.GetFileName(path)}"); continue; }
            string baseline = Normalize(File.ReadAllText(path));
            if (baseline != text) problems.Add($"{Path.GetFileName(path)} differs at line {FirstDifference(baseline, text)}");
        }
        foreach (var stale in existing.Where(p => !expectedFiles.ContainsKey(p)))
            problems.Add($"baseline {Path.GetFileName(stale)} was not generated");
        Assert.True(problems.Count == 0, string.Join("; ", problems) + " (run with AOTINFER_UPDATE_GOLDEN=1 to accept the new output)");
    }

    static string Normalize(string text) => text.Replace("\r\n", "\n");

    static int FirstDifference(string a, string b)
    {
        var left = a.Split('\n');
        var right = b.Split('\n');
        for (int i = 0; i < Math.Min(left.Length, right.Length); i++)
            if (left[i] != right[i]) return i + 1;
        return Math.Min(left.Length, right.Length) + 1;
    }

    static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AotInfer.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find AotInfer.sln above " + AppContext.BaseDirectory);
    }
}
