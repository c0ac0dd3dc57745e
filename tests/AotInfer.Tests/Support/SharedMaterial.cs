using System;
using System.IO;

namespace AotInfer.Tests.Support;

/// <summary>
/// Locates the repository and the shared test material (../shared beside the repository). Tests that need the
/// material fail with a clear message when it is missing: a silent skip would hide lost coverage in CI.
/// </summary>
public static class SharedMaterial
{
    /// <summary>The repository root (the folder holding AotInfer.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The shared folder, or throws naming where it was expected.</summary>
    public static string Require(string relative = "")
    {
        string shared = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));
        string path = Path.Combine(shared, relative);
        if (!Directory.Exists(path) && !File.Exists(path))
            throw new InvalidOperationException($"test material missing: '{path}' does not exist. These tests need the shared folder beside the repository (../shared).");
        return path;
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AotInfer.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (AotInfer.sln) above " + AppContext.BaseDirectory);
    }
}
