using System.IO;
using AotInfer.Cli;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests;

/// <summary>Documentation generated from code stays in sync with it.</summary>
public class DocumentationTests
{
    [Fact]
    public void OperatorListMatchesTheRegistry()
    {
        string path = Path.Combine(SharedMaterial.RepositoryRoot, "docs", "operators.md");
        Assert.True(File.ReadAllText(path) == OpsCommand.Markdown(),
            "docs/operators.md is stale: regenerate it with `dotnet run --project src/AotInfer.Cli -- ops > docs/operators.md`");
    }
}
